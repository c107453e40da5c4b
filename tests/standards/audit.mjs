// graphql-http's GraphQL-over-HTTP audit, run against a live server.
//
//   node audit.mjs http://127.0.0.1:PORT/graphql
//
// Prints one JSON line: every audit's id, name, status (`ok`, or for a
// failure `error` for a MUST, `warn` for a SHOULD, `notice` for a MAY) and
// reason. The Rust test (tests/it/graphql_http_audit.rs) judges the result.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = [];
// One at a time: the results do not depend on it, but a failure is easier
// to read in the server's log.
for (const { fn } of serverAudits({ url, fetchFn: fetch })) {
  const result = await fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
console.log(JSON.stringify(results));
