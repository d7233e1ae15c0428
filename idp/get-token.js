// Logs in to the dev IdP as a test user the way the browser app does (Authorization
// Code + PKCE, with Auth0's `audience`) and prints the access token, for curl:
//
//   TOKEN=$(node idp/get-token.js alice@example.com)
//   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/private-scoped
//
// Settings: IDP_PORT, IDP_AUDIENCE, IDP_CLIENT_ID as for server.js; APP_ORIGIN
// (http://127.0.0.1:3000) names the registered redirect URI to use.
// --json prints the whole token response; --offline asks for offline_access (a
// refresh token), as the browser app does. --server-session logs in through the
// app's own login route instead (AUTH0_TOKEN_STORAGE=server) and prints the
// session cookie (`name=value`), e.g. for bench/session-pages.
import { createHash, randomBytes } from 'node:crypto';
import { PASSWORD } from './users.js';

const ISSUER = `http://127.0.0.1:${process.env.IDP_PORT ?? 4000}/`;
const AUDIENCE = process.env.IDP_AUDIENCE ?? 'https://api.leptos-sample.local';
const CLIENT_ID = process.env.IDP_CLIENT_ID ?? 'leptos-sample-spa';
const REDIRECT_URI = `${process.env.APP_ORIGIN ?? 'http://127.0.0.1:3000'}/callback`;
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const email = process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 'alice@example.com';
const scope = `openid profile email${flags.includes('--offline') ? ' offline_access' : ''}`;

const cookies = new Map();
async function request(url, init = {}) {
  const headers = { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = pair.split('=');
    cookies.set(name.trim(), value.join('='));
  }
  return res;
}

const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');
const state = randomBytes(16).toString('base64url');
const authorize = new URL('auth', ISSUER);
authorize.search = new URLSearchParams({
  client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope,
  audience: AUDIENCE, state, nonce: randomBytes(16).toString('base64url'),
  code_challenge: challenge, code_challenge_method: 'S256',
});

const serverSession = flags.includes('--server-session');
if (serverSession) {
  // The app starts the login (its transaction cookie lands in the jar).
  const start = await request(`${process.env.APP_ORIGIN ?? 'http://127.0.0.1:3000'}/auth/login?returnTo=%2F`);
  authorize.href = start.headers.get('location') ?? '';
  if (!authorize.href.startsWith(ISSUER)) throw new Error(`the app's login route answered ${start.status}`);
}
let res = await request(authorize);
let location = new URL(res.headers.get('location'), ISSUER);
await request(location); // the login page sets nothing we need, but is what a browser loads
res = await request(location, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ email, password: PASSWORD }),
});
// Follow redirects until the IdP sends us back to the app with a code.
for (let hops = 0; hops < 10; hops += 1) {
  const next = res.headers.get('location');
  if (!next) throw new Error(`login failed (${res.status}): ${await res.text()}`);
  location = new URL(next, ISSUER);
  if (location.href.startsWith(REDIRECT_URI)) break;
  res = await request(location);
}
if (serverSession) {
  const callback = await request(location);
  const name = [...cookies.keys()].find((key) => key === 'session' || key === '__Host-session');
  if (callback.status !== 303 || !name) throw new Error(`the app's callback answered ${callback.status}`);
  process.stdout.write(`${name}=${cookies.get(name)}\n`);
  process.exit(0);
}
if (location.searchParams.get('state') !== state) throw new Error('state mismatch');
const code = location.searchParams.get('code');
if (!code) throw new Error(`no code: ${location.search}`);

const token = await fetch(new URL('token', ISSUER), {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: verifier }),
});
const body = await token.json();
if (!token.ok) throw new Error(`token endpoint: ${JSON.stringify(body)}`);
process.stdout.write(`${flags.includes('--json') ? JSON.stringify(body) : body.access_token}\n`);
