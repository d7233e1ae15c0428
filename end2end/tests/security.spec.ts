// The hardening a browser can see: the CSP holds on every page of the login story
// with zero violations, a script without the nonce does not run, the headers are
// on pages, API answers and assets, and the login refuses to be bent (returnTo,
// expired or tampered transactions).
import { expect, Page, test } from '@playwright/test';
import { E2E_ADDR, ISSUER, logIn, logInAtIdp, ping } from '../support';

const APP_ORIGIN = `http://${E2E_ADDR}`;

type Violation = { page: string; directive: string; blocked: string };

/** Collects every `securitypolicyviolation` on the app's own pages, across navigations. */
async function collectCspViolations(page: Page): Promise<Violation[]> {
  const violations: Violation[] = [];
  await page.exposeFunction('__reportCspViolation', (v: Violation) => violations.push(v));
  await page.addInitScript((appOrigin) => {
    if (location.origin !== appOrigin) return; // the IdP's pages have their own policy
    document.addEventListener('securitypolicyviolation', (e) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (window as any).__reportCspViolation({
        page: location.pathname,
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
      });
    });
  }, APP_ORIGIN);
  return violations;
}

test('the whole login story runs with zero CSP violations', async ({ page }) => {
  const violations = await collectCspViolations(page);
  await page.goto('/');
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.goto('/external-api');
  await ping(page, 'Ping public');
  await expect(page.getByTestId('api-result')).toBeVisible();
  await logIn(page, 'alice@example.com'); // through /callback
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-result')).toContainText('private endpoint');
  await ping(page, 'Ping scoped');
  await expect(page.getByTestId('api-result')).toContainText('read:messages');
  await page.getByRole('navigation').getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByTestId('profile-email')).toHaveText('alice@example.com');
  await expect(page.getByTestId('session').locator('img.avatar')).toBeVisible();
  await page.getByRole('navigation').getByRole('link', { name: 'Home' }).click();
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  await page.reload();
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  expect(violations).toEqual([]);
});

test('a script injected without the nonce is blocked', async ({ page }) => {
  const violations = await collectCspViolations(page);
  await page.goto('/external-api');
  await expect(page.getByRole('button', { name: 'Ping public' })).toBeEnabled();
  await page.evaluate(() => {
    const inline = document.createElement('script');
    inline.textContent = 'window.__injected = "inline ran"';
    document.head.appendChild(inline);
    const external = document.createElement('script');
    external.src = '/pkg/does-not-matter.js';
    document.head.appendChild(external);
    const handler = document.createElement('img');
    handler.setAttribute('src', 'data:,');
    handler.setAttribute('onerror', 'window.__injected = "handler ran"');
    document.body.appendChild(handler);
  });
  await expect.poll(() => violations.length).toBeGreaterThanOrEqual(3);
  expect(await page.evaluate(() => (window as unknown as { __injected?: string }).__injected)).toBeUndefined();
  expect(violations.every((v) => v.directive.startsWith('script-src'))).toBe(true);
  // The app itself still works.
  await ping(page, 'Ping public');
  await expect(page.getByTestId('api-result')).toBeVisible();
});

test('pages, API answers and assets carry the security and caching headers', async ({ page, request }) => {
  const pageAnswer = await request.get('/external-api');
  const headers = pageAnswer.headers();
  const csp = headers['content-security-policy'];
  expect(csp).toMatch(/script-src 'nonce-[\w-]{22,}' 'wasm-unsafe-eval'/);
  expect(csp).toContain(`connect-src 'self' ${ISSUER.replace(/\/$/, '')}`);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(headers['cache-control']).toBe('no-cache');

  for (const path of ['/api/public', '/callback']) {
    expect((await request.get(path)).headers()['cache-control'], path).toBe('no-store');
  }
  const api = await request.post('/api/ping_protected', { headers: { accept: 'application/json' } });
  expect(api.status()).toBe(401);
  expect(api.headers()['cache-control']).toBe('no-store');
  expect(api.headers()['x-content-type-options']).toBe('nosniff');

  // The wasm and JS the page loads: content-hashed names, cached for good, brotli.
  await page.goto('/external-api');
  const assets = await page.evaluate(() => [
    document.querySelector('link[rel=modulepreload]')!.getAttribute('href')!,
    document.querySelector('link[rel=preload][as=fetch]')!.getAttribute('href')!,
    document.querySelector('link[rel=stylesheet]')!.getAttribute('href')!,
  ]);
  for (const asset of assets) {
    expect(asset).toMatch(/^\/pkg\/auth0-leptos\.[\w-]+\.(js|wasm|css)$/);
    const answer = await request.get(asset, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(answer.status(), asset).toBe(200);
    expect(answer.headers()['cache-control'], asset).toBe('public, max-age=31536000, immutable');
    expect(answer.headers()['content-encoding'], asset).toBe('br');
    expect(answer.headers()['x-content-type-options']).toBe('nosniff');
  }
});

test('returnTo cannot leave the origin, at the start of a login or on the callback', async ({ page, browser }) => {
  // A path that a browser reads as another host when resolved: the login returns home.
  await page.goto(`${APP_ORIGIN}//evil.example`);
  expect(new URL(page.url()).pathname).toBe('//evil.example');
  await logIn(page, 'bob@example.com');
  await expect(page).toHaveURL(`${APP_ORIGIN}/`);

  // A transaction tampered with before the callback (as a script on the page could):
  // the callback checks returnTo again. A browser of its own each time (no session).
  for (const tampered of ['/\\evil.example', '//evil.example/x', '/\t/evil.example', 'https://evil.example/']) {
    const context = await browser.newContext({ baseURL: APP_ORIGIN });
    const tab = await context.newPage();
    await tab.addInitScript((returnTo) => {
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key: string, value: string) {
        if (key.startsWith('auth.pkce.')) value = JSON.stringify({ ...JSON.parse(value), return_to: returnTo });
        return setItem.call(this, key, value);
      };
    }, tampered);
    await tab.goto('/external-api');
    await tab.getByTestId('session').getByRole('button', { name: 'Log in' }).click();
    await logInAtIdp(tab, 'bob@example.com');
    await expect(tab.getByTestId('user-name')).toBeVisible();
    await expect(tab, tampered).toHaveURL(`${APP_ORIGIN}/`);
    await context.close();
  }
});

test('a login older than ten minutes cannot complete, and stale transactions are purged', async ({ page }) => {
  await page.addInitScript(() => {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key: string, value: string) {
      if (key.startsWith('auth.pkce.')) {
        value = JSON.stringify({ ...JSON.parse(value), created_at: Date.now() / 1000 - 11 * 60 });
      }
      return setItem.call(this, key, value);
    };
  });
  await page.goto('/');
  await page.getByTestId('session').getByRole('button', { name: 'Log in' }).click();
  await logInAtIdp(page, 'bob@example.com');
  await expect(page.getByTestId('login-error')).toContainText('took longer than 10 minutes');
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  expect(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('auth.pkce.')))).toEqual([]);
});

test('logout purges pending login transactions', async ({ page }) => {
  await page.goto('/');
  await logIn(page, 'bob@example.com');
  // A login started in this tab and never finished (left at the IdP).
  await page.evaluate(() => sessionStorage.setItem('auth.pkce.abandoned', JSON.stringify({
    verifier: 'v', nonce: 'n', return_to: '/', created_at: Date.now() / 1000,
  })));
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  expect(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('auth.pkce.')))).toEqual([]);
});
