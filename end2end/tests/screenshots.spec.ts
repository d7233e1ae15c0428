// The README's pictures, taken from the running app so they never drift from what it
// shows: Home, External API (Ping protected answered, and Ping scoped refused with
// 403) and Profile on a desktop; Home, the open menu and External API on a 390 px
// phone. Every test run walks through them (and so checks they can be taken), but
// only `scripts/screenshots` (SCREENSHOTS_DIR set) writes them into docs/: the
// Profile shows a fresh nonce and times on every login, so a plain test run would
// leave the working tree changed.
import * as path from 'path';
import { expect, Page, test, TestInfo } from '@playwright/test';
import { phone } from '../layout';
import { hydrated, logIn, logInButton, ping } from '../support';

async function shoot(page: Page, info: TestInfo, name: string) {
  const dir = process.env.SCREENSHOTS_DIR;
  await page.screenshot({ path: dir ? path.resolve(dir, `${name}.png`) : info.outputPath(`${name}.png`) });
}

test.describe('desktop', () => {
  test.use({ viewport: { width: 1100, height: 720 } });

  test('screenshots of Home, External API and Profile', async ({ page }, info) => {
    await page.goto('/');
    await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
    await shoot(page, info, 'home');

    await page.goto('/external-api');
    await logIn(page, 'alice@example.com');
    await ping(page, 'Ping protected');
    await expect(page.getByTestId('api-result')).toContainText('private endpoint');
    await shoot(page, info, 'external-api');

    await page.getByRole('navigation').getByRole('link', { name: 'Profile' }).click();
    await expect(page.getByTestId('profile-email')).toHaveText('alice@example.com');
    await shoot(page, info, 'profile');

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeEnabled();
    await page.goto('/external-api');
    await logIn(page, 'bob@example.com');
    await ping(page, 'Ping scoped');
    await expect(page.getByTestId('api-error')).toContainText('403 Forbidden');
    await shoot(page, info, 'external-api-403');
  });
});

test.describe('phone', () => {
  test.use({ ...phone(390), viewport: { width: 390, height: 700 } });

  test('screenshots of Home, the menu and External API at 390 px', async ({ page }, info) => {
    await page.goto('/');
    await hydrated(page);
    await expect(logInButton(page)).toBeEnabled();
    await shoot(page, info, 'phone-home');

    await page.goto('/external-api');
    await logIn(page, 'alice@example.com');
    await ping(page, 'Ping protected');
    await expect(page.getByTestId('api-result')).toContainText('private endpoint');
    await shoot(page, info, 'phone-external-api');

    await page.getByTestId('menu-button').tap();
    await expect(page.locator('#nav-menu').getByTestId('user-name')).toHaveText('Alice Reader');
    await shoot(page, info, 'phone-menu');
  });
});
