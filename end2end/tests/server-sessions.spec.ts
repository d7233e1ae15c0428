// `server` token storage (a backend for frontend): the server logs in as a
// confidential client, keeps the tokens, and the browser holds only an HttpOnly
// cookie. The app is served as http://localhost:PORT and the IdP at 127.0.0.1 (two
// sites, as app.example.com and tenant.auth0.com are), so the IdP's cookies never
// reach the app's frames, as with third-party cookies blocked.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, expect, Page, test } from '@playwright/test';
import {
  hydrated, ISSUER, logInAtIdp, logInButton, press, startServer,
} from '../support';

const PRIVATE = 'Hello from a private endpoint! You need to be authenticated to see this.';
const SCOPED = 'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.';
const WEB_CLIENT_ID = 'leptos-sample-web';
const WEB_CLIENT_SECRET = 'dev-web-client-secret-not-for-production';
const SESSION_SECRET = 'e2e-session-secret-0123456789abcdefghijklmnop';

type Server = { server: ChildProcess; exited: Promise<number | null>; url: string };

/** target/release/server on 127.0.0.1:`port`, browsed as http://localhost:`port`. */
async function startAt(port: number, env: Record<string, string>): Promise<Server> {
  const started = await startServer(`127.0.0.1:${port}`, env, '/readyz');
  return { ...started, url: `http://localhost:${port}` };
}

async function stop(server: Server): Promise<void> {
  server.server.kill('SIGINT');
  await server.exited;
}

function serverModeEnv(sessionFile: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AUTH0_TOKEN_STORAGE: 'server',
    AUTH0_CLIENT_ID: WEB_CLIENT_ID,
    AUTH0_CLIENT_SECRET: WEB_CLIENT_SECRET,
    SESSION_SECRET,
    SESSION_FILE: sessionFile,
    ...extra,
  };
}

function tempSessionFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bff-')), 'sessions.redb');
}

/** The app's JavaScript and wasm (not its stylesheet): blocked, the page never hydrates. */
const appCode = (url: URL) => url.pathname.startsWith('/pkg/') && /\.(js|wasm)$/.test(url.pathname);

/** Presses the nav's "Log in" (a form: works before the wasm) and logs in. */
async function logIn(page: Page, email: string): Promise<void> {
  await logInButton(page).click();
  await logInAtIdp(page, email);
  await expect(page.getByTestId('user-name')).toBeVisible();
}

async function sessionCookie(context: BrowserContext) {
  const cookie = (await context.cookies()).find((c) => c.name === 'session');
  expect(cookie, 'the session cookie').toBeTruthy();
  return cookie!;
}

async function grants(): Promise<{ refresh_token: number; errors: Record<string, number> }> {
  return (await fetch(`${ISSUER}dev/grants`)).json();
}

/** Fires `count` "Ping protected" calls at once from the page; their statuses. */
async function concurrentPings(page: Page, count: number): Promise<number[]> {
  return page.evaluate((n) => Promise.all([...Array(n)].map(() => fetch('/api/ping_protected', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  }).then((r) => r.status))), count);
}

test('log in, reload: the server renders the user before any wasm; no token reaches the browser', async ({ page, context }) => {
  const server = await startAt(3101, serverModeEnv(tempSessionFile()));
  try {
    // No wasm at all: the login is a form to the server's route.
    await page.route(appCode, (route) => route.abort());
    await page.goto(`${server.url}/external-api`);
    await logIn(page, 'alice@example.com');
    await expect(page).toHaveURL(`${server.url}/external-api`);

    // The first HTML, still without wasm, shows who is signed in.
    await page.reload();
    await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
    // (Not hydrated: the wasm would set the menu button's aria-expanded.)
    await expect(page.getByTestId('menu-button')).not.toHaveAttribute('aria-expanded', /.*/);
    await expect(page.getByTestId('session-pending')).toHaveCount(0);
    await page.unroute(appCode);

    const html = await (await page.request.get(`${server.url}/profile`)).text();
    expect(html).toContain('Alice Reader');
    expect(html, 'no JWT in the page').not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);

    const cookie = await sessionCookie(context);
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    expect(html).not.toContain(cookie.value);

    // Nothing in any browser storage.
    await page.goto(`${server.url}/external-api`);
    await hydrated(page);
    const stored = await page.evaluate(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      idb: (await indexedDB.databases()).length,
    }));
    expect(stored).toEqual({ local: 0, session: 0, idb: 0 });

    // Ping protected and scoped: the server adds the session's token.
    await page.getByRole('button', { name: 'Ping protected' }).click();
    await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
    await page.getByRole('button', { name: 'Ping scoped' }).click();
    await expect(page.getByTestId('api-result')).toHaveText(SCOPED);
  } finally {
    await stop(server);
  }
});

test('2-second access tokens: concurrent pings past expiry are all 200, with no invalid_grant', async ({ page }) => {
  const server = await startAt(3101, serverModeEnv(tempSessionFile()));
  try {
    await page.goto(`${server.url}/external-api`);
    await logIn(page, 'carol@example.com');
    const before = await grants();
    const rounds = 3;
    for (let round = 0; round < rounds; round += 1) {
      await page.waitForTimeout(2_500); // past the token's 2 seconds
      expect(await concurrentPings(page, 6)).toEqual([200, 200, 200, 200, 200, 200]);
    }
    const after = await grants();
    const refreshes = after.refresh_token - before.refresh_token;
    expect(refreshes, 'renewed, once per expiry at most').toBeGreaterThanOrEqual(1);
    expect(refreshes).toBeLessThanOrEqual(rounds);
    expect(after.errors.invalid_grant ?? 0).toBe(before.errors.invalid_grant ?? 0);
  } finally {
    await stop(server);
  }
});

test('the server restarted: still signed in (the embedded session file)', async ({ page }) => {
  const file = tempSessionFile();
  let server = await startAt(3101, serverModeEnv(file));
  try {
    await page.goto(`${server.url}/`);
    await logIn(page, 'bob@example.com');
    await stop(server);
    server = await startAt(3101, serverModeEnv(file));
    await page.reload();
    await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
  } finally {
    await stop(server);
  }
});

test('two replicas with one Redis share the session', async ({ page }) => {
  const port = 6300 + Math.floor(Math.random() * 500);
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const env = serverModeEnv(tempSessionFile(), { REDIS_URL: `redis://127.0.0.1:${port}/` });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const a = await startAt(3101, env);
  const b = await startAt(3102, env);
  try {
    await page.goto(`${a.url}/`);
    await logIn(page, 'alice@example.com');
    // Cookies are per host, not per port: replica B gets the same cookie.
    await page.goto(`${b.url}/external-api`);
    await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
    await page.getByRole('button', { name: 'Ping protected' }).click();
    await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
  } finally {
    await stop(a);
    await stop(b);
    redis.kill();
  }
});

test('logout ends the session: other tabs show it, the old cookie is worthless', async ({ page, context }) => {
  const server = await startAt(3101, serverModeEnv(tempSessionFile()));
  try {
    await page.goto(`${server.url}/external-api`);
    await logIn(page, 'alice@example.com');
    const old = (await sessionCookie(context)).value;
    const other = await context.newPage();
    await other.goto(`${server.url}/`);
    await hydrated(other);
    await expect(other.getByTestId('user-name')).toHaveText('Alice Reader');

    await hydrated(page);
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(logInButton(other)).toBeVisible({ timeout: 1_000 });
    await expect(page).toHaveURL(`${server.url}/`);
    await expect(logInButton(page)).toBeVisible();

    // The old cookie, replayed: signed out, and a protected call is 401.
    const headers = { cookie: `session=${old}` };
    const html = await (await fetch(`${server.url}/`, { headers })).text();
    expect(html).not.toContain('Alice Reader');
    const ping = await fetch(`${server.url}/api/ping_protected`, {
      method: 'POST',
      headers: { ...headers, origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ping.status).toBe(401);
  } finally {
    await stop(server);
  }
});

test('a cross-site POST carrying the session cookie is refused and does nothing', async ({ page, context }) => {
  const server = await startAt(3101, serverModeEnv(tempSessionFile()));
  try {
    await page.goto(`${server.url}/`);
    await logIn(page, 'alice@example.com');
    const cookie = `session=${(await sessionCookie(context)).value}`;
    for (const target of ['/api/ping_protected', '/auth/logout']) {
      const answer = await fetch(`${server.url}${target}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, origin: 'http://127.0.0.1:4100', 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(answer.status, target).toBe(403);
    }
    await page.reload();
    await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
  } finally {
    await stop(server);
  }
});

test('the same reload with memory storage: the session is gone (the IdP cookie does not reach the iframe)', async ({ page }) => {
  const server = await startAt(3103, {});
  try {
    await page.goto(`${server.url}/`);
    await hydrated(page);
    await logInButton(page).click();
    await logInAtIdp(page, 'alice@example.com');
    await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
    await page.reload();
    await expect(logInButton(page)).toBeVisible();
    await expect(page.getByTestId('user-name')).toHaveCount(0);
  } finally {
    await stop(server);
  }
});

test('two tabs log in at once and both complete; logout works without the wasm', async ({ page, context }) => {
  const server = await startAt(3101, serverModeEnv(tempSessionFile()));
  try {
    const second = await context.newPage();
    for (const tab of [page, second]) await tab.route(appCode, (route) => route.abort());
    await page.goto(`${server.url}/`);
    await second.goto(`${server.url}/external-api`);
    // Both at the IdP's login form, each with its own login transaction.
    for (const tab of [page, second]) {
      await logInButton(tab).click();
      await expect(tab).toHaveURL(new RegExp(`^${ISSUER}interaction/`));
    }
    await logInAtIdp(second, 'alice@example.com');
    await expect(second).toHaveURL(`${server.url}/external-api`);
    await expect(second.getByTestId('user-name')).toHaveText('Alice Reader');
    await logInAtIdp(page, 'alice@example.com');
    await expect(page).toHaveURL(`${server.url}/`);
    await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(page).toHaveURL(`${server.url}/`);
    await expect(logInButton(page)).toBeVisible();
    await second.reload();
    await expect(logInButton(second)).toBeVisible();
  } finally {
    await stop(server);
  }
});

test('on a 390 px phone: the guarded Profile logs in through the server, fits, and the menu logs out', async ({ browser }) => {
  const server = await startAt(3101, serverModeEnv(tempSessionFile()));
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  try {
    // Signed out, /profile redirects to the login route on the server.
    await page.goto(`${server.url}/profile`);
    await logInAtIdp(page, 'alice@example.com');
    await expect(page).toHaveURL(`${server.url}/profile`);
    await expect(page.getByTestId('profile-name')).toHaveText('Alice Reader');
    // Nothing wider than the screen (the layout viewport widens with content).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await press(page, page.getByTestId('menu-button'));
    const logOut = page.getByRole('button', { name: 'Log out', exact: true });
    await expect(logOut).toBeVisible();
    await expect(page.getByTestId('user-name')).toBeVisible();
    await press(page, logOut);
    await expect(page).toHaveURL(`${server.url}/`);
    await expect(logInButton(page)).toBeAttached();
  } finally {
    await context.close();
    await stop(server);
  }
});
