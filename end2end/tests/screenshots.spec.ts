// The README's pictures, taken from the running app on every test run, so they
// never drift from what it shows: Home, External API (Ping protected answered, and
// Ping scoped refused with 403), and Profile.
import * as path from 'path';
import { expect, Page, test } from '@playwright/test';
import { REPO_ROOT, logIn, ping } from '../support';

const DIR = path.join(REPO_ROOT, 'docs', 'screenshots');

test.use({ viewport: { width: 1100, height: 720 } });

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: path.join(DIR, `${name}.png`) });
}

test('screenshots of Home, External API and Profile', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  await shoot(page, 'home');

  await page.goto('/external-api');
  await logIn(page, 'alice@example.com');
  await ping(page, 'Ping protected');
  await expect(page.getByTestId('api-result')).toContainText('private endpoint');
  await shoot(page, 'external-api');

  await page.getByRole('navigation').getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByTestId('profile-email')).toHaveText('alice@example.com');
  await shoot(page, 'profile');

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
  await page.goto('/external-api');
  await logIn(page, 'bob@example.com');
  await ping(page, 'Ping scoped');
  await expect(page.getByTestId('api-error')).toContainText('403 Forbidden');
  await shoot(page, 'external-api-403');
});
