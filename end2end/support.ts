// Shared by the config and the tests: where things are, how the servers and
// Chromium start.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as path from 'path';
import { APIRequestContext, expect, Locator, Page } from '@playwright/test';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const SERVER_BIN = path.join(REPO_ROOT, 'target', 'release', 'server');
export const IDP_DIR = path.join(REPO_ROOT, 'idp');

// Ports of their own, so a `scripts/run` (3000, IdP 4000) does not get in the way.
export const E2E_ADDR = process.env.E2E_ADDR ?? '127.0.0.1:3100';
export const SPARE_ADDR = '127.0.0.1:3101'; // for tests that stop their own server
/** Hosts the server-session tests browse (servers on 127.0.0.1:3101..3103, reached
 * as localhost: another site than the IdP at 127.0.0.1). */
export const CROSS_SITE_ORIGINS = ['localhost:3101', 'localhost:3102', 'localhost:3103'];
export const IDP_PORT = 4100;
export const ISSUER = `http://127.0.0.1:${IDP_PORT}/`;
export const AUDIENCE = 'https://api.leptos-sample.local';
export const CLIENT_ID = 'leptos-sample-spa';

/** Environment for target/release/server on `addr`, pointed at the test IdP. */
export function appServerEnv(addr: string): Record<string, string> {
  return {
    LEPTOS_SITE_ADDR: addr,
    AUTH0_ISSUER: ISSUER,
    AUTH0_AUDIENCE: AUDIENCE,
    AUTH0_CLIENT_ID: CLIENT_ID,
    RUST_LOG: 'warn',
  };
}

// Debian's Chromium (never a downloaded browser). The flags keep it off the network,
// which is closed here, and let it run as root in CI.
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export const PASSWORD = 'Passw0rd!';

/** Completes the IdP's login form (the page must be on it). */
export async function logInAtIdp(page: Page, email: string): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${ISSUER}interaction/`));
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** A tap on a touch screen, a click elsewhere. */
export async function press(page: Page, target: Locator): Promise<void> {
  if (await page.evaluate(() => navigator.maxTouchPoints > 0)) await target.tap();
  else await target.click();
}

/** Waits until the page has hydrated: the nav's menu button then states `aria-expanded`. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.getByTestId('menu-button')).toHaveAttribute('aria-expanded', /true|false/);
}

/** The nav's "Log in" button, also while it is inside the closed menu. */
export function logInButton(page: Page): Locator {
  return page.getByTestId('session').getByRole('button', { name: 'Log in', includeHidden: true });
}

/** Presses the nav bar's "Log in" (once hydrated; through the menu where the nav is
 * collapsed, with taps on a touch screen) and logs in as `email`. */
export async function logIn(page: Page, email: string): Promise<void> {
  await hydrated(page);
  const menuButton = page.getByTestId('menu-button');
  const collapsed = await menuButton.isVisible();
  if (collapsed) await press(page, menuButton);
  const button = logInButton(page);
  await expect(button).toBeEnabled();
  await press(page, button);
  await logInAtIdp(page, email);
  // Collapsed, the name is in the closed menu.
  if (collapsed) await expect(page.getByTestId('user-name')).toBeAttached();
  else await expect(page.getByTestId('user-name')).toBeVisible();
}

/** The access token the page's next POST to a path ending in `pathEnd` carries
 * (`Authorization: Bearer|DPoP <token>`). Call before the action that sends it. */
export function nextAccessToken(page: Page, pathEnd: string): Promise<string> {
  return page
    .waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith(pathEnd))
    .then(async (r) => ((await r.allHeaders())['authorization'] ?? '').replace(/^(Bearer|DPoP) /, ''));
}

/** Waits until the API at `base` refuses a Bearer `token` (it has expired there,
 * clock tolerance included): the event renewal tests need, not a guess at how long
 * that takes. Fails after 20 s. */
export async function waitUntilApiRefuses(request: APIRequestContext, base: string, token: string): Promise<void> {
  expect(token).toBeTruthy();
  await expect
    .poll(
      async () => (await request.get(`${base}/api/private`, { headers: { Authorization: `Bearer ${token}` } })).status(),
      { timeout: 20_000, intervals: [250] },
    )
    .toBe(401);
}

/** Clicks an External API button (once hydrated). */
export async function ping(page: Page, name: string): Promise<void> {
  const button = page.getByRole('button', { name });
  await expect(button).toBeEnabled();
  await button.click();
}

/** The IdP's token response for `email`, by the scripted PKCE login (idp/get-token.js). */
export function tokenResponse(email: string, offline = false): Record<string, string> {
  const args = ['get-token.js', email, '--json', ...(offline ? ['--offline'] : [])];
  return JSON.parse(execFileSync('node', args, {
    cwd: IDP_DIR,
    env: { ...process.env, IDP_PORT: String(IDP_PORT), APP_ORIGIN: `http://${E2E_ADDR}` },
    encoding: 'utf8',
  }));
}

async function waitUntilUp(url: string, deadlineMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    const gone = exited();
    if (gone !== null) throw new Error(`the server exited before ${url} answered: ${gone}`);
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** target/release/server on `addr` (127.0.0.1:PORT) with `extraEnv`, once `readyPath`
 * answers (`/healthz`, liveness: some tests point it at an issuer that is down;
 * `/readyz` once the issuer's keys are in). Fails at once, with its stderr, if it exits. */
export async function startServer(addr: string, extraEnv: Record<string, string> = {}, readyPath = '/healthz'): Promise<{
  server: ChildProcess;
  exited: Promise<number | null>;
}> {
  const server = spawn(SERVER_BIN, [], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...appServerEnv(addr), ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  server.stderr?.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  await waitUntilUp(`http://${addr}${readyPath}`, 20_000, () => (server.exitCode === null ? null : stderr));
  return { server, exited };
}

/** A server of a test's own on SPARE_ADDR (to stop it, or to try other settings). */
export function startSpareServer(extraEnv: Record<string, string> = {}) {
  return startServer(SPARE_ADDR, extraEnv);
}
