// Sessions like Auth0's SPA SDK: a silent check at load brings an in-memory session
// back after a reload or in a new tab; tabs agree (one renewal at a time, logout
// everywhere); logout revokes the refresh token; an IdP that is down at load means
// "logged out", quietly.
import { expect, Page, Response, test } from '@playwright/test';
import {
  ISSUER, logIn, nextAccessToken, SPARE_ADDR, startSpareServer, waitUntilApiRefuses,
} from '../support';

const PRIVATE = 'Hello from a private endpoint! You need to be authenticated to see this.';

const loginButton = (page: Page) => page.getByTestId('session').getByRole('button', { name: 'Log in' });

/** Clicks "Ping protected", waits for the answer; returns the HTTP statuses of the
 * calls it made (a 401 renews once and retries, which would show as two). */
async function pingProtected(page: Page): Promise<number[]> {
  const statuses: number[] = [];
  const record = (response: Response) => {
    if (response.url().endsWith('/api/ping_protected')) statuses.push(response.status());
  };
  page.on('response', record);
  const button = page.getByRole('button', { name: 'Ping protected' });
  await expect(button).toBeEnabled();
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/ping_protected'));
  await button.click();
  await answered;
  await expect(page.getByTestId('api-loading')).toHaveCount(0);
  await expect(page.getByTestId('api-result').or(page.getByTestId('api-error'))).toBeVisible();
  page.off('response', record);
  return statuses;
}

test('memory storage: a reload and a new tab come back logged in; after logout they stay out', async ({ page, context }) => {
  await page.goto('/external-api');
  await logIn(page, 'alice@example.com');
  await page.reload();
  await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
  expect(await pingProtected(page)).toEqual([200]);
  await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);

  const second = await context.newPage();
  await second.goto('/external-api');
  await expect(second.getByTestId('user-name')).toHaveText('Alice Reader');
  expect(await pingProtected(second)).toEqual([200]);

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page).toHaveURL('/');
  await expect(loginButton(page)).toBeEnabled();
  await page.reload();
  await expect(loginButton(page)).toBeEnabled();
  await expect(page.getByTestId('user-name')).toHaveCount(0);
});

test('the nav shows a neutral state, never "Log in", while the silent check runs', async ({ page }) => {
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  // Hold the IdP's answer to the silent check for a moment.
  const silentAuthorize = (url: URL) => url.href.startsWith(`${ISSUER}auth?`) && url.searchParams.get('prompt') === 'none';
  await page.route(silentAuthorize, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await route.continue();
  });
  await page.reload();
  await expect(page.getByTestId('session-pending')).toBeVisible();
  await expect(loginButton(page)).toHaveCount(0);
  await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
});

test('logout in one tab logs out the others within 2 s', async ({ page, context }) => {
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  const other = await context.newPage();
  await other.goto('/external-api');
  await expect(other.getByTestId('user-name')).toHaveText('Bob Viewer');

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(loginButton(other)).toBeVisible({ timeout: 2_000 });
  expect(await pingProtected(other)).toEqual([401]);
  await expect(other.getByTestId('api-error')).toContainText('401 Unauthorized');
});

test('"Log out of this app only" keeps the IdP session', async ({ page }) => {
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  await page.getByRole('button', { name: 'Log out of this app only' }).click();
  await expect(loginButton(page)).toBeEnabled();
  await page.reload();
  await expect(loginButton(page)).toBeEnabled(); // the marker went too: no silent login
  await loginButton(page).click();
  // Back without the IdP's form: its session is still there.
  await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
  expect(page.url()).not.toContain('/interaction/');
});

test.describe('with localStorage', () => {
  test('two tabs renewing 2-second tokens for 20 s: every call 200, no invalid_grant', async ({ browser }) => {
    test.setTimeout(90_000);
    const { server } = await startSpareServer({ AUTH0_TOKEN_STORAGE: 'local' });
    const context = await browser.newContext({ baseURL: `http://${SPARE_ADDR}` });
    try {
      const first = await context.newPage();
      await first.goto('/external-api');
      await logIn(first, 'carol@example.com'); // her access tokens live 2 seconds
      const second = await context.newPage();
      await second.goto('/external-api');
      await expect(second.getByTestId('user-name')).toHaveText('Carol Shortlived');

      const refused: string[] = [];
      let renewals = 0;
      for (const tab of [first, second]) {
        tab.on('console', (m) => { if (process.env.DEBUG_TABS) console.log(tab === first ? 'A' : 'B', m.text()); });
        tab.on('response', async (response) => {
          if (response.url() !== `${ISSUER}token`) return;
          renewals += 1;
          if (response.status() !== 200) refused.push(`${response.status()} ${await response.text()}`);
        });
      }
      const until = Date.now() + 20_000;
      const loop = async (tab: Page) => {
        const statuses: number[] = [];
        while (Date.now() < until) statuses.push(...(await pingProtected(tab)));
        return statuses;
      };
      const [a, b] = await Promise.all([loop(first), loop(second)]);
      expect(refused).toEqual([]);
      expect(a.length + b.length).toBeGreaterThan(10);
      expect([...a, ...b].filter((status) => status !== 200)).toEqual([]);
      expect(renewals).toBeGreaterThan(2);
      for (const tab of [first, second]) {
        await expect(tab.getByTestId('user-name')).toHaveText('Carol Shortlived');
        await expect(tab.getByTestId('session-expired')).toHaveCount(0);
      }
    } finally {
      await context.close();
      server.kill('SIGKILL');
    }
  });

  test('logout revokes the refresh token at the IdP', async ({ browser, request }) => {
    const { server } = await startSpareServer({ AUTH0_TOKEN_STORAGE: 'local' });
    const context = await browser.newContext({ baseURL: `http://${SPARE_ADDR}` });
    try {
      const page = await context.newPage();
      await page.goto('/');
      await logIn(page, 'alice@example.com');
      const refreshToken = await page.evaluate(() => JSON.parse(localStorage.getItem('auth.session')!).refresh_token);
      expect(refreshToken).toBeTruthy();
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await expect(loginButton(page)).toBeEnabled();
      const reused = await request.post(`${ISSUER}token`, {
        form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'leptos-sample-spa' },
      });
      expect(reused.status()).toBe(400);
      expect((await reused.json()).error).toBe('invalid_grant');
    } finally {
      await context.close();
      server.kill('SIGKILL');
    }
  });
});

test('the IdP down at load: the page renders logged out, with no error banner', async ({ page }) => {
  const { server } = await startSpareServer({ AUTH0_ISSUER: 'http://127.0.0.1:4999/' });
  try {
    await page.goto(`http://${SPARE_ADDR}/`);
    // This browser has logged in before: the page asks the (dead) IdP silently.
    await page.evaluate(() => localStorage.setItem('auth.logged_in_until', String(Date.now() / 1000 + 3600)));
    const started = Date.now();
    await page.reload();
    await expect(loginButton(page)).toBeEnabled({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(page.getByTestId('auth-error')).toHaveCount(0);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  } finally {
    server.kill('SIGKILL');
  }
});

test('a login in one tab logs in the others (their own silent check)', async ({ page, context }) => {
  const other = await context.newPage();
  await other.goto('/external-api');
  await expect(loginButton(other)).toBeEnabled();
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  await expect(other.getByTestId('user-name')).toHaveText('Bob Viewer', { timeout: 5_000 });
  expect(await pingProtected(other)).toEqual([200]);
});

test('without a refresh token the silent check renews an expired access token', async ({ page }) => {
  await page.goto('/external-api');
  await logIn(page, 'carol@example.com'); // 2-second access tokens
  // A reload's silent login (prompt=none) gets no refresh token.
  await page.reload();
  await expect(page.getByTestId('user-name')).toHaveText('Carol Shortlived');
  // The token the restored session holds, once it is expired for the API too
  // (tolerance 5 s): only a renewed one can pass then.
  const held = nextAccessToken(page, '/api/ping_protected');
  expect(await pingProtected(page)).toEqual([200]);
  await waitUntilApiRefuses(page.request, '', await held);
  const silentChecks: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.href.startsWith(`${ISSUER}auth?`) && url.searchParams.get('prompt') === 'none') silentChecks.push(url.href);
  });
  expect(await pingProtected(page)).toEqual([200]);
  expect(silentChecks.length).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('session-expired')).toHaveCount(0);
});

test('a renewal that meets a 503 keeps the session and retries', async ({ browser }) => {
  const { server } = await startSpareServer({ AUTH0_TOKEN_STORAGE: 'local' });
  const context = await browser.newContext({ baseURL: `http://${SPARE_ADDR}` });
  try {
    const page = await context.newPage();
    await page.goto('/external-api');
    await logIn(page, 'carol@example.com');
    let failed = 0;
    await page.route(`${ISSUER}token`, async (route) => {
      if (failed < 2 && route.request().postData()?.includes('grant_type=refresh_token')) {
        failed += 1;
        await route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"temporarily_unavailable"}' });
      } else {
        await route.continue();
      }
    });
    expect(await pingProtected(page)).toEqual([200]);
    expect(failed).toBe(2);
    await expect(page.getByTestId('user-name')).toHaveText('Carol Shortlived');
    await expect(page.getByTestId('session-expired')).toHaveCount(0);
  } finally {
    await context.close();
    server.kill('SIGKILL');
  }
});

test('a silent check refused right after a login on a loopback origin logs one line pointing at the README', async ({ page }) => {
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  // The IdP refuses the reload's silent check, as Auth0 does for loopback
  // ("non-verifiable") callback URLs.
  const silentAuthorize = (url: URL) => url.href.startsWith(`${ISSUER}auth?`) && url.searchParams.get('prompt') === 'none';
  await page.route(silentAuthorize, async (route) => {
    const asked = new URL(route.request().url());
    const answer = new URL(asked.searchParams.get('redirect_uri')!);
    answer.searchParams.set('error', 'login_required');
    answer.searchParams.set('state', asked.searchParams.get('state')!);
    await route.fulfill({ status: 302, headers: { location: answer.href } });
  });
  await page.reload();
  await expect(loginButton(page)).toBeEnabled();
  await expect
    .poll(() => warnings.filter((w) => w.includes('Using your Auth0 tenant')).length)
    .toBe(1);
  expect(warnings.join('\n')).toContain('prompt=none');
});
