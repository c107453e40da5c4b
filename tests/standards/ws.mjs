// graphql-transport-ws against the running server, with the protocol's own
// client (`graphql-ws`'s createClient over `ws`) and with raw frames.
//
//   node ws.mjs client URL SPEC   SPEC: {"token", "query", "variables", "take"}
//   node ws.mjs raw URL FRAMES    FRAMES: a list of steps (see `raw` below)
//
// Prints one JSON object on standard output: what was heard.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [mode, url, spec] = process.argv.slice(2);
// Never hang a test: give up after 20 s, saying so.
setTimeout(() => {
  process.stderr.write('ws.mjs: no outcome within 20 s\n');
  process.exit(2);
}, 20000).unref();
const input = JSON.parse(spec);

/// Subscribes with the real client, takes at most `take` results, then
/// stops (the client sends `complete`) or hears the operation end.
async function client({ token, query, variables, take }) {
  let closed = null;
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        closed = { code: event.code, reason: String(event.reason) };
      },
    },
  });
  const results = [];
  const outcome = await new Promise((resolve) => {
    let unsubscribe = () => {};
    unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          results.push(result);
          if (take && results.length >= take) {
            unsubscribe();
            resolve({ end: 'unsubscribed' });
          }
        },
        error: (error) => {
          if (Array.isArray(error)) {
            resolve({ end: 'error', errors: error.map((e) => JSON.parse(JSON.stringify(e))) });
          } else {
            resolve({ end: 'closed', code: error?.code, reason: String(error?.reason ?? error) });
          }
        },
        complete: () => resolve({ end: 'complete' }),
      },
    );
  });
  await client.dispose();
  // Let the close event arrive.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { ...outcome, results, closed };
}

/// Raw frames. Each step is `{"send": TEXT}` (sent as is), `{"json": VALUE}`
/// (sent as JSON), `{"expect": TYPE, "id": ID}` (waits for a message of that
/// type, and of that operation if `id` is given), `{"post": {token, query,
/// variables}}` (a GraphQL request over HTTP to the same server) or
/// `{"sleep": MS}`. Then it waits up to `wait` ms for the server to close.
/// `protocol` is the subprotocol asked for (`graphql-transport-ws` if absent,
/// none if `[]`).
async function raw({ steps, wait, protocol }) {
  const socket = new WebSocket(url, protocol ?? 'graphql-transport-ws');
  const messages = [];
  const waiters = [];
  let errored = null;
  const started = Date.now();
  const closed = new Promise((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8'), reasonBytes: reason.length, afterMs: Date.now() - started });
      for (const waiter of waiters.splice(0)) waiter.resolve(null);
    });
  });
  socket.on('error', (error) => {
    errored = String(error);
  });
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString('utf8'));
    messages.push(message);
    for (const waiter of waiters.splice(0)) waiter.resolve(message);
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const heard = (type, id) => {
    const index = messages.findIndex((m) => m.type === type && (id === undefined || m.id === id) && !m.__seen);
    if (index >= 0) {
      messages[index].__seen = true;
      return Promise.resolve(messages[index]);
    }
    return new Promise((resolve) => waiters.push({ resolve })).then((m) => (m === null ? null : heard(type, id)));
  };
  for (const step of steps) {
    if (socket.readyState !== WebSocket.OPEN) break;
    if ('send' in step) socket.send(step.send);
    else if ('json' in step) socket.send(JSON.stringify(step.json));
    else if ('post' in step) {
      const { token, query, variables } = step.post;
      const answer = await fetch(url.replace(/^ws/, 'http'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = await answer.json();
      if (body.errors) throw new Error(`the request failed: ${JSON.stringify(body)}`);
    } else if ('sleep' in step) await new Promise((resolve) => setTimeout(resolve, step.sleep));
    else if ('expect' in step) {
      const message = await Promise.race([
        heard(step.expect, step.id),
        new Promise((resolve) => setTimeout(() => resolve(null), 10000)),
      ]);
      if (message === null) break;
    }
  }
  const close = await Promise.race([
    closed,
    new Promise((resolve) => setTimeout(() => resolve(null), wait ?? 10000)),
  ]);
  if (close === null) socket.close(1000);
  for (const message of messages) delete message.__seen;
  return { messages, close, errored };
}

const result = mode === 'client' ? await client(input) : await raw(input);
process.stdout.write(JSON.stringify(result));
process.exit(0);
