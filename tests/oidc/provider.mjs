// A real OpenID provider for the integration tests: panva's oidc-provider
// (certified OpenID Connect implementation) on http://127.0.0.1:PORT, with one
// confidential client, test accounts, its built-in development login and
// consent pages, RP-initiated logout, and JWT access tokens for one resource
// server (the relying party's API audience).
//
// Usage: node provider.mjs PORT CONFIG
//   PORT    a port on 127.0.0.1, or 0 for a free one
//   CONFIG  a JSON file path, or the JSON itself (starting with "{"):
//   {
//     "client": { "client_id": "advice-log", "client_secret": "...",
//                 "redirect_uris": ["http://127.0.0.1:8080/auth/callback"],
//                 "post_logout_redirect_uris": ["http://127.0.0.1:8080/"] },
//     "audience": "advice-log",            // access token `aud`; default client_id
//     "resource": "urn:advice-log:api",    // resource indicator (absolute URI); this default
//     "access_token_ttl": 3600,            // seconds; default 3600
//     "id_token_ttl": 3600,                // seconds; default 3600
//     "accounts": [{ "sub": "u-1", "email": "a@example.org",
//                    "email_verified": true, "name": "Ada" }]
//   }
//
// When it listens it prints one JSON line on stdout: {"issuer":"http://127.0.0.1:PORT"}.
// The login page takes an account's `sub` or `email` as the login name and any
// password; any other login name is not signed in (the login page comes back).
//
// Test-only route: POST /test/rotate-keys[?old=drop] makes a new RSA signing
// key (new `kid`) that signs from then on; the previous keys stay published
// unless `old=drop`. It answers {"kid": NEW, "kids": [EVERY PUBLISHED KID]}.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const [portArgument, configArgument] = process.argv.slice(2);
if (portArgument === undefined || configArgument === undefined) {
  console.error('usage: node provider.mjs PORT CONFIG (a JSON file path or the JSON itself)');
  process.exit(2);
}
const config = JSON.parse(configArgument.trimStart().startsWith('{')
  ? configArgument
  : readFileSync(configArgument, 'utf8'));
const client = config.client ?? {};
for (const field of ['client_id', 'client_secret', 'redirect_uris']) {
  if (!client[field]) {
    console.error(`provider.mjs: the config needs client.${field}`);
    process.exit(2);
  }
}
const audience = config.audience ?? client.client_id;
const resource = config.resource ?? 'urn:advice-log:api';
const accessTokenTTL = config.access_token_ttl ?? 3600;
const idTokenTTL = config.id_token_ttl ?? 3600;
const accounts = config.accounts ?? [];

/** The configured account whose sub or e-mail is `login`, if any. */
function accountFor(login) {
  return accounts.find((account) => account.sub === login || account.email === login);
}

// The claims each scope releases; the ID token carries them too
// (conformIdTokenClaims: false), as Entra ID and most providers do.
const claims = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name'],
};

let generation = 0;
/** A new RSA signing key as a private JWK with a fresh kid. */
function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  generation += 1;
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: `test-key-${generation}-${randomBytes(4).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
}

const cookieKeys = [randomBytes(32).toString('base64url')];

function configuration(signingKeys) {
  return {
    clients: [{
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: client.redirect_uris,
      post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    }],
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    scopes: ['openid', 'email', 'profile'],
    claims,
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    async findAccount(_ctx, sub) {
      const account = accounts.find((candidate) => candidate.sub === sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: account.email_verified ?? false,
            name: account.name,
          };
        },
      };
    },
    // The access token for the API carries the e-mail claims too, so the
    // relying party can find a person by a verified e-mail.
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const account = accounts.find((candidate) => candidate.sub === token.accountId);
      if (!account) return undefined;
      return { email: account.email, email_verified: account.email_verified ?? false };
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, indicator) {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: 'openid email profile',
            audience,
            accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      AccessToken: accessTokenTTL,
      AuthorizationCode: 60,
      IdToken: idTokenTTL,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
    },
  };
}

/** Koa middleware before the development login form's handler: the login
 * name (an account's sub or e-mail) becomes the account's sub, and an unknown
 * one is sent back to the login page instead of being signed in. */
async function loginByAccount(ctx, next) {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (ctx.method !== 'POST' || !match || !ctx.is('application/x-www-form-urlencoded')) {
    return next();
  }
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  if (body.prompt === 'login') {
    const account = accountFor(body.login);
    if (!account) {
      ctx.status = 303;
      ctx.redirect(ctx.path);
      return undefined;
    }
    body.login = account.sub;
  }
  // oidc-provider reads an already-read body from req.body.
  ctx.req.body = body;
  return next();
}

let keys = [newSigningKey()];
let provider;
let handler;

/** (Re)builds the provider around the current keys. Sessions, grants and
 * codes live in oidc-provider's in-memory adapter, which is shared by every
 * instance in this process, so a rebuild keeps people signed in. */
function build(issuer) {
  provider = new Provider(issuer, configuration(keys));
  provider.use(loginByAccount);
  provider.on('server_error', (_ctx, error) => console.error('provider error:', error));
  handler = provider.callback();
}

function rotate(request, response, url) {
  const fresh = newSigningKey();
  keys = url.searchParams.get('old') === 'drop' ? [fresh] : [fresh, ...keys];
  build(provider.issuer);
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ kid: fresh.kid, kids: keys.map((key) => key.kid) }));
  request.resume();
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://127.0.0.1');
  if (url.pathname === '/test/rotate-keys') {
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    rotate(request, response, url);
    return;
  }
  handler(request, response);
});

server.listen(Number(portArgument), '127.0.0.1', () => {
  const { port } = server.address();
  build(`http://127.0.0.1:${port}`);
  console.log(JSON.stringify({ issuer: provider.issuer }));
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
