import { expect, Page, test } from '@playwright/test';
import {
  ISSUER, SPARE_ADDR, logIn, logInAtIdp, nextAccessToken, ping, startSpareServer, tokenResponse, waitUntilApiRefuses,
} from '../support';

const PRIVATE = 'Hello from a private endpoint! You need to be authenticated to see this.';
const SCOPED = 'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.';

/** Clicks "Log in" and stops at the IdP: returns the `state` of the login started. */
async function startLoginAndTakeState(page: Page): Promise<string> {
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${ISSUER}auth?`));
  await page.getByTestId('session').getByRole('button', { name: 'Log in' }).click();
  const state = new URL((await authorize).url()).searchParams.get('state');
  expect(state).toBeTruthy();
  await expect(page).toHaveURL(new RegExp(`^${ISSUER}`));
  return state!;
}

test('log in, see the user, ping the API, log out', async ({ page }) => {
  await page.goto('/external-api');
  await logIn(page, 'alice@example.com');

  // Back where the login started, with code and state gone from the address bar.
  await expect(page).toHaveURL('/external-api');
  expect(page.url()).not.toContain('code=');
  await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
  await expect(page.getByTestId('session').locator('img.avatar')).toHaveAttribute('src', `${ISSUER}avatars/alice.svg`);

  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
  await ping(page, 'Ping scoped');
  await expect(page.getByTestId('api-result')).toHaveText(SCOPED);

  await page.getByRole('navigation').getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByTestId('profile-name')).toHaveText('Alice Reader');
  await expect(page.getByTestId('profile-email')).toHaveText('alice@example.com');
  await expect(page.getByTestId('profile-claims')).toContainText('"email_verified": true');

  // Tokens stay out of the page's HTML, storage (memory is the default) and URL.
  const html = await page.content();
  expect(html).not.toMatch(/eyJ[\w-]+\.eyJ/);
  expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toMatch(/eyJ/);

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();

  await page.goto('/external-api');
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-error')).toContainText('401 Unauthorized');
  await expect(page.getByTestId('api-login')).toBeVisible();
});

test('Ping scoped is refused with 403 for a user without read:messages', async ({ page }) => {
  await page.goto('/external-api');
  await logIn(page, 'bob@example.com');
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
  await ping(page, 'Ping scoped');
  await expect(page.getByTestId('api-error')).toHaveText(
    'Ping scoped: 403 Forbidden: The token lacks the scope this endpoint requires',
  );
});

test('a logged-out visit to /profile logs in and comes back', async ({ page }) => {
  await page.goto('/profile');
  await logInAtIdp(page, 'bob@example.com');
  await expect(page).toHaveURL('/profile');
  await expect(page.getByTestId('profile-email')).toHaveText('bob@example.com');
});

test('a callback with a forged state shows an error and stores nothing', async ({ page }) => {
  await page.goto('/callback?code=stolen-code&state=forged-state');
  await expect(page.getByTestId('login-error')).toContainText('This login was not started in this browser');
  expect(page.url()).not.toContain('code=');
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  await page.getByRole('navigation').getByRole('link', { name: 'External API' }).click();
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-error')).toContainText('401 Unauthorized');
});

test('a failed callback leaves whoever was logged in logged in, with memory storage too', async ({ page }) => {
  await page.goto('/external-api');
  await logIn(page, 'alice@example.com');
  // A full page load: the in-memory session is gone, only the IdP can bring it back.
  await page.goto('/callback?code=stolen-code&state=forged-state');
  await expect(page.getByTestId('login-error')).toContainText('This login was not started in this browser');
  await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
  await page.getByRole('navigation').getByRole('link', { name: 'External API' }).click();
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-result')).toContainText('private endpoint');
});

test('an IdP error on the callback is shown for a login started here, and only then', async ({ page }) => {
  await page.goto('/');
  const state = await startLoginAndTakeState(page);
  await page.goto(`/callback?error=access_denied&error_description=The%20user%20cancelled&state=${state}`);
  await expect(page.getByTestId('login-error')).toHaveText('The login service refused: The user cancelled (access_denied)');
  await expect(page.getByRole('button', { name: 'Log in again' })).toBeVisible();

  // The same error with a state this browser never issued: a fixed text, none of the link's.
  await page.goto('/callback?error=access_denied&error_description=Call%20555-0100%20to%20unlock&state=forged');
  await expect(page.getByTestId('login-error')).toContainText('This login was not started in this browser');
  await expect(page.getByTestId('login-error')).not.toContainText('555-0100');
});

test('expired access tokens are renewed with the refresh token', async ({ page }) => {
  const refreshes: string[] = [];
  page.on('request', (request) => {
    if (request.url() === `${ISSUER}token` && request.postData()?.includes('grant_type=refresh_token')) {
      refreshes.push(request.url());
    }
  });
  await page.goto('/external-api');
  await logIn(page, 'carol@example.com'); // her access tokens live 2 seconds

  const sent = nextAccessToken(page, '/api/ping_protected');
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
  // Until the token sent is expired for the API too (its tolerance is 5 s): only a
  // renewed token can pass now.
  const first = await sent;
  await waitUntilApiRefuses(page.request, '', first);
  const renewed = nextAccessToken(page, '/api/ping_protected');
  await ping(page, 'Ping protected');
  expect(await renewed).not.toBe(first);
  await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
  await expect(page.getByTestId('user-name')).toHaveText('Carol Shortlived');
  expect(refreshes.length).toBeGreaterThanOrEqual(2);
});

test('the IdP refuses a refresh token that was already used', async ({ request }) => {
  const first = tokenResponse('alice@example.com', true);
  expect(first.refresh_token).toBeTruthy();
  const refresh = (token: string) =>
    request.post(`${ISSUER}token`, {
      form: { grant_type: 'refresh_token', refresh_token: token, client_id: 'leptos-sample-spa' },
    });
  const rotated = await refresh(first.refresh_token);
  expect(rotated.status()).toBe(200);
  expect((await rotated.json()).refresh_token).not.toBe(first.refresh_token);
  const reused = await refresh(first.refresh_token);
  expect(reused.status()).toBe(400);
  expect((await reused.json()).error).toBe('invalid_grant');
});

test('with in-memory tokens (the default) a reload comes back logged in through the silent check', async ({ page }) => {
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  await page.reload();
  // Neither "Log in" nor the user while the IdP is asked, then the user.
  await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
  // Still no token in any storage: only the non-secret marker.
  expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toMatch(/eyJ/);
});

test('with session storage a reload keeps the session', async ({ page }) => {
  const { server } = await startSpareServer({ AUTH0_TOKEN_STORAGE: 'session' });
  try {
    await page.goto(`http://${SPARE_ADDR}/`);
    await logIn(page, 'bob@example.com');
    await page.reload();
    await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
    expect(await page.evaluate(() => sessionStorage.getItem('auth.session'))).toBeNull();
  } finally {
    server.kill('SIGKILL');
  }
});

test('with the IdP down, "Log in" says so instead of failing silently', async ({ page }) => {
  // A server of its own whose issuer does not answer (nothing listens on 4999).
  const { server } = await startSpareServer({ AUTH0_ISSUER: 'http://127.0.0.1:4999/' });
  try {
    await page.goto(`http://${SPARE_ADDR}/`);
    await page.getByTestId('session').getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByTestId('auth-error')).toContainText('Login could not start: the login service is unreachable');
    await expect(page).toHaveURL(`http://${SPARE_ADDR}/`);
  } finally {
    server.kill('SIGKILL');
  }
});

test('consent_required on the callback offers a login that asks for consent', async ({ page }) => {
  await page.goto('/');
  const state = await startLoginAndTakeState(page);
  await page.goto(`/callback?error=consent_required&error_description=Consent%20required&state=${state}`);
  await expect(page.getByTestId('login-error')).toHaveText('The application needs your consent.');
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${ISSUER}auth?`));
  await page.getByRole('button', { name: 'Log in again' }).click();
  const url = new URL((await authorize).url());
  expect(url.searchParams.get('prompt')).toBe('consent');
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  expect(url.searchParams.get('audience')).toBe('https://api.leptos-sample.local');
  expect(url.searchParams.get('nonce')).toBeTruthy();
});

test('when renewal is refused the page offers to log in again', async ({ page }) => {
  const { server } = await startSpareServer({ AUTH0_TOKEN_STORAGE: 'session' });
  try {
    await page.goto(`http://${SPARE_ADDR}/external-api`);
    await logIn(page, 'bob@example.com');
    // The refresh token is revoked (here: replaced) and the access token has expired.
    await page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('auth.session')!);
      sessionStorage.setItem('auth.session', JSON.stringify({ ...session, refresh_token: 'revoked', expires_at: 0 }));
    });
    await ping(page, 'Ping protected');
    await expect(page.getByTestId('session-expired')).toContainText('Your session has ended.');
    await expect(page.getByTestId('api-error')).toContainText('401 Unauthorized');
    await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
    expect(await page.evaluate(() => sessionStorage.getItem('auth.session'))).toBeNull();
  } finally {
    server.kill('SIGKILL');
  }
});
