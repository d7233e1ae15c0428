// A local OpenID provider (npm oidc-provider, OpenID-certified) set up like an Auth0
// tenant with one SPA application and one API, for development and tests:
// - public client, PKCE (S256) required, redirect/logout URLs for the app's origins;
// - Auth0's `audience` authorize parameter selects the API; access tokens are RS256
//   JWTs with aud [audience, {issuer}userinfo], scope, permissions, sub, azp;
// - issuer with a trailing slash; ID tokens carry name, email, picture;
// - refresh tokens (rotating; a reused one is refused) when offline_access is asked,
//   revocable at /oauth/revoke (Auth0's route);
// - silent session checks: prompt=none answers at once (login_required without a
//   session), to /callback or /silent-callback;
// - DPoP (RFC 9449) as on an Auth0 tenant with sender constraining: a token request
//   with a DPoP proof gets a DPoP-bound access token (`cnf.jkt` in the JWT,
//   token_type DPoP) and refresh token; server nonces on (use_dpop_nonce first);
// - users in users.js; login form here, consent implied (a first-party app, as on Auth0).
//
// - a second client for server token storage, like an Auth0 Regular Web
//   Application (client secret; client_secret_post unless IDP_WEB_CLIENT_AUTH);
// - GET /dev/grants: counts of token-endpoint grants and errors, for tests.
//
// Settings (environment): IDP_PORT (4000), IDP_AUDIENCE, IDP_CLIENT_ID,
// IDP_WEB_CLIENT_ID, IDP_WEB_CLIENT_SECRET, IDP_WEB_CLIENT_AUTH,
// IDP_APP_ORIGINS (comma-separated), IDP_ACCESS_TOKEN_TTL (seconds, 3600).
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { PASSWORD, USERS, avatarSvg, findByEmail, findBySub } from './users.js';
import { loginPage } from './views.js';

const HOST = '127.0.0.1';
const PORT = Number(process.env.IDP_PORT ?? 4000);
const ISSUER = `http://${HOST}:${PORT}/`;
const AUDIENCE = process.env.IDP_AUDIENCE ?? 'https://api.leptos-sample.local';
const CLIENT_ID = process.env.IDP_CLIENT_ID ?? 'leptos-sample-spa';
// The same app as an Auth0 "Regular Web Application" (server token storage: the
// server is a confidential client, client_secret_post or client_secret_basic).
const WEB_CLIENT_ID = process.env.IDP_WEB_CLIENT_ID ?? 'leptos-sample-web';
const WEB_CLIENT_SECRET = process.env.IDP_WEB_CLIENT_SECRET ?? 'dev-web-client-secret-not-for-production';
const APP_ORIGINS = (process.env.IDP_APP_ORIGINS
  ?? 'http://127.0.0.1:3000,http://localhost:3000,http://127.0.0.1:3100')
  .split(',').map((origin) => origin.trim()).filter(Boolean);
const ACCESS_TOKEN_TTL = Number(process.env.IDP_ACCESS_TOKEN_TTL ?? 3600);

// A fresh signing key per start: tokens from an earlier run stop verifying, as after a
// key rotation.
const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: `dev-${Date.now().toString(36)}`, use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    client_name: 'Auth0 Leptos Sample',
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // /silent-callback: where the hidden iframe of a silent session check lands.
    redirect_uris: APP_ORIGINS.flatMap((origin) => [`${origin}/callback`, `${origin}/silent-callback`]),
    post_logout_redirect_uris: APP_ORIGINS.map((origin) => `${origin}/`),
  }, {
    client_id: WEB_CLIENT_ID,
    client_secret: WEB_CLIENT_SECRET,
    client_name: 'Auth0 Leptos Sample (server sessions)',
    application_type: 'web',
    token_endpoint_auth_method: process.env.IDP_WEB_CLIENT_AUTH ?? 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: APP_ORIGINS.map((origin) => `${origin}/callback`),
    post_logout_redirect_uris: APP_ORIGINS.map((origin) => `${origin}/`),
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'nickname', 'picture', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  // Profile claims in the ID token itself, as Auth0 does.
  conformIdTokenClaims: false,
  extraParams: ['audience'],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  pkce: { required: () => true },
  ttl: {
    // Per user (carol's are short-lived, to exercise renewal), else IDP_ACCESS_TOKEN_TTL.
    AccessToken: (ctx, token) => findBySub(token.accountId)?.accessTokenTtl ?? ACCESS_TOKEN_TTL,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Interaction: 600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
  },
  // Auth0's route for RFC 7009 token revocation.
  routes: { revocation: '/oauth/revoke' },
  features: {
    devInteractions: { enabled: false },
    // Requests without a proof are untouched; with one, a nonce is required.
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    revocation: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Auth0 logs out without asking: submit the confirmation form at once.
      logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><head><title>Logging out</title></head><body>${form}
<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<script nonce="${ctx.state.nonce ?? ''}">document.forms[0].submit()</script></body></html>`;
      },
    },
    resourceIndicators: {
      enabled: true,
      // Auth0's `audience` parameter plays the role of RFC 8707's `resource`.
      defaultResource: (ctx) => ctx.oidc.params?.audience ?? AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator !== AUDIENCE) {
          throw new errors.InvalidTarget(`Service not found: ${resourceIndicator}`);
        }
        return {
          scope: 'read:messages',
          audience: AUDIENCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  formats: {
    customizers: {
      // Shape access tokens like Auth0's.
      async jwt(ctx, token, jwt) {
        const user = findBySub(token.accountId);
        jwt.payload.aud = [AUDIENCE, `${ISSUER}userinfo`];
        jwt.payload.azp = token.clientId;
        jwt.payload.permissions = user?.permissions ?? [];
        // Auth0 lists the OpenID scopes granted too, not only the API's.
        const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined;
        const scopes = new Set([
          ...String(grant?.getOIDCScope() ?? '').split(' '),
          ...String(jwt.payload.scope ?? '').split(' '),
        ].filter(Boolean));
        jwt.payload.scope = [...scopes].join(' ') || undefined;
      },
    },
  },
  async findAccount(ctx, sub) {
    const user = findBySub(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: user.name,
          nickname: user.nickname,
          picture: `${ISSUER}avatars/${user.nickname}.svg`,
          updated_at: 1_700_000_000,
          email: user.email,
          email_verified: true,
        };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>Error</title></head><body><h1>${out.error}</h1><p>${out.error_description ?? ''}</p></body></html>`;
  },
});

// What the token endpoint did, for tests to check (e.g. one refresh grant for
// many concurrent calls, and no invalid_grant): GET /dev/grants.
const grants = { refresh_token: 0, authorization_code: 0, errors: {} };
provider.on('grant.success', (ctx) => {
  const type = ctx.oidc.params?.grant_type;
  if (type in grants) grants[type] += 1;
});
provider.on('grant.error', (ctx, error) => {
  grants.errors[error.error] = (grants.errors[error.error] ?? 0) + 1;
});

// Auth0 issues a refresh token whenever offline_access is asked for; OpenID Connect
// (and so oidc-provider) only with prompt=consent. Add it, as Auth0 would behave.
provider.use(async (ctx, next) => {
  if (ctx.path === '/auth' && ctx.method === 'GET') {
    const scope = String(ctx.query.scope ?? '').split(' ');
    if (scope.includes('offline_access') && !ctx.query.prompt) {
      ctx.query = { ...ctx.query, prompt: 'consent' };
    }
  }
  await next();
});

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

// Login and (implied) consent, the part Auth0's Universal Login does.
async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  const { prompt, params, session } = details;

  if (prompt.name === 'login') {
    if (req.method === 'GET') {
      return send(res, 200, 'text/html; charset=utf-8', loginPage({ uid, clientName: 'Auth0 Leptos Sample', users: USERS }));
    }
    const form = await readForm(req);
    const user = findByEmail(form.get('email'));
    if (!user || form.get('password') !== PASSWORD) {
      return send(res, 401, 'text/html; charset=utf-8', loginPage({ uid, clientName: 'Auth0 Leptos Sample', users: USERS, error: 'Wrong email or password.', email: form.get('email') }));
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  throw new Error(`unexpected prompt ${prompt.name}`);
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const url = new URL(req.url, ISSUER);
  try {
    const interactionMatch = url.pathname.match(/^\/interaction\/([\w-]+)$/);
    if (interactionMatch) return await interaction(req, res, interactionMatch[1]);
    const avatar = url.pathname.match(/^\/avatars\/(\w+)\.svg$/);
    if (avatar) {
      const user = USERS.find((u) => u.nickname === avatar[1]);
      if (user) return send(res, 200, 'image/svg+xml', avatarSvg(user), { 'cache-control': 'max-age=3600', 'access-control-allow-origin': '*' });
    }
    if (url.pathname === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}');
    if (url.pathname === '/dev/grants') return send(res, 200, 'application/json', JSON.stringify(grants));
    return callback(req, res);
  } catch (error) {
    console.error(`dev-idp: ${req.method} ${url.pathname}: ${error.message}`);
    if (!res.headersSent) send(res, 400, 'text/plain; charset=utf-8', `Login failed: ${error.message}`);
  }
});

server.listen(PORT, HOST, () => {
  console.log(`dev IdP: issuer ${ISSUER}, audience ${AUDIENCE}, client ${CLIENT_ID}, web client ${WEB_CLIENT_ID}`);
  console.log(`dev IdP: users ${USERS.map((u) => `${u.email}${u.permissions.length ? ` (${u.permissions.join(', ')})` : ''}`).join(', ')}; password ${PASSWORD}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
