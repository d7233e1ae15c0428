// axe-core, WCAG 2.0-2.2 levels A and AA, on every page, signed out and signed in,
// on a 390 px phone (menu closed and open) and on a desktop.
import { expect, Page, test } from '@playwright/test';
import { axeViolations, PAGES, phone, PROFILE, visit } from '../layout';
import { logIn, logInButton, ping } from '../support';

async function expectNoViolations(page: Page, withMenu: boolean): Promise<void> {
  expect(await axeViolations(page)).toEqual([]);
  if (withMenu) {
    await page.getByTestId('menu-button').tap();
    await expect(page.locator('#nav-menu')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
  }
}

for (const [label, options, withMenu] of [
  ['390 px phone', phone(390), true],
  ['1280 px desktop', { viewport: { width: 1280, height: 800 } }, false],
] as const) {
  test.describe(label, () => {
    test.use(options);

    test('axe finds nothing on any page, signed out', async ({ page }) => {
      for (const target of PAGES) {
        await visit(page, target);
        await expect(logInButton(page)).toBeEnabled();
        await test.step(target.name, () => expectNoViolations(page, withMenu));
      }
    });

    test('axe finds nothing on any page, signed in', async ({ page }) => {
      await page.goto('/external-api');
      await logIn(page, 'bob@example.com');
      for (const target of [...PAGES, PROFILE]) {
        await visit(page, target);
        await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
        if (target.path === '/external-api') {
          // An answer and an error (Bob lacks read:messages) on screen.
          await ping(page, 'Ping protected');
          await expect(page.getByTestId('api-result')).toBeVisible();
          await ping(page, 'Ping scoped');
          await expect(page.getByTestId('api-error')).toContainText('403');
        }
        await test.step(target.name, () => expectNoViolations(page, withMenu));
      }
    });
  });
}
