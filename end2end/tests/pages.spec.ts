import { expect, test } from '@playwright/test';

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

  test('profile page has its title and no user data in the HTML', async ({ page }) => {
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
