import { expect, test } from '@playwright/test';
import { logIn, nextAccessToken, ping } from '../support';

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('home page content is server-rendered', async ({ page }) => {
    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(
      'Log in with Auth0, call a protected API',
    );
    await expect(page).toHaveTitle('Home | Auth0 Leptos Sample');
  });

  test('profile page has its title', async ({ page }) => {
    await page.goto('/profile');
    await expect(page).toHaveTitle('Profile | Auth0 Leptos Sample');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Profile');
  });

  test('external API page content is server-rendered', async ({ page }) => {
    await page.goto('/external-api');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('External API');
    // Before hydration the button cannot be clicked (a click would be lost).
    await expect(page.getByRole('button', { name: 'Ping public' })).toBeDisabled();
  });
});

test('nav bar links to every page, each with its own title', async ({ page }) => {
  await page.goto('/');
  const nav = page.getByRole('navigation', { name: 'Main' });
  // (Profile is guarded: a logged-out click goes to login, see login.spec.ts.)
  await expect(nav.getByRole('link', { name: 'Profile', exact: true })).toHaveAttribute('href', '/profile');
  for (const [link, title] of [
    ['External API', 'External API | Auth0 Leptos Sample'],
    ['Home', 'Home | Auth0 Leptos Sample'],
  ]) {
    await nav.getByRole('link', { name: link, exact: true }).click();
    await expect(page).toHaveTitle(title);
    await expect(nav.getByRole('link', { name: link, exact: true })).toHaveAttribute(
      'aria-current',
      'page',
    );
  }
});

test('an unknown path shows the 404 page with status 404', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await expect(page).toHaveTitle('Page not found | Auth0 Leptos Sample');
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await expect(page).toHaveURL('/');
});

test('the HTML the server sends holds no user data, even for a signed-in browser', async ({ page }) => {
  await page.goto('/external-api');
  await logIn(page, 'alice@example.com');
  const sent = nextAccessToken(page, '/api/ping_protected');
  await ping(page, 'Ping protected');
  const token = await sent;
  expect(token.length).toBeGreaterThan(20);
  // What a signed-in browser has, and the server must never put into a page.
  const secrets = ['Alice Reader', 'alice@example.com', token, token.split('.')[2]];
  for (const path of ['/profile', '/', '/external-api']) {
    const response = await page.goto(path);
    const html = await response!.text();
    expect(html).toContain('<html');
    for (const secret of secrets) expect(html, `${path} has ${secret.slice(0, 16)}`).not.toContain(secret);
  }
  // The page does show the user once the browser has checked: the data exists,
  // it just never travels in the HTML.
  await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
  await page.goto('/profile');
  await expect(page.getByText('alice@example.com').first()).toBeVisible();
});
