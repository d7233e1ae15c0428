// On a phone: every page fits the screen at 320-414 px (and up to desktop), every
// control takes a tap, and the collapsed nav's menu works with taps, Escape and a
// keyboard, before the wasm has loaded too.
import { expect, test } from '@playwright/test';
import {
  expectFitsAndTaps, FAILED_CALLBACK, overflowProblems, PAGES, phone, PHONE_WIDTHS, PROFILE, tapTargetProblems,
  visit, WIDE_WIDTHS,
} from '../layout';
import { hydrated, logIn, logInButton, ping } from '../support';

for (const width of PHONE_WIDTHS) {
  test.describe(`${width} px phone`, () => {
    test.use(phone(width));

    test('signed out: every page fits and every control takes a tap', async ({ page }) => {
      for (const target of PAGES) {
        await visit(page, target);
        await expect(logInButton(page)).toBeEnabled();
        await test.step(target.name, () => expectFitsAndTaps(page, width));
      }
    });

    test('signed in: every page fits and every control takes a tap', async ({ page }) => {
      await page.goto('/external-api');
      await logIn(page, 'alice@example.com');
      for (const target of [...PAGES, PROFILE]) {
        await visit(page, target);
        await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
        if (target.path === '/external-api') {
          // With an answer on screen below the buttons.
          await ping(page, 'Ping protected');
          await expect(page.getByTestId('api-result')).toContainText('private endpoint');
        }
        await test.step(target.name, () => expectFitsAndTaps(page, width));
      }
    });
  });
}

for (const width of WIDE_WIDTHS) {
  test(`${width} px: every page fits, signed out and in`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    for (const target of PAGES) {
      await visit(page, target);
      await expectFitsAndTaps(page, width);
    }
    await page.goto('/external-api');
    await logIn(page, 'alice@example.com');
    for (const target of [...PAGES, PROFILE]) {
      await visit(page, target);
      await expect(page.getByTestId('user-name')).toHaveText('Alice Reader');
      await expectFitsAndTaps(page, width);
    }
  });
}

test('wide screens keep the one-row nav: links and login beside the brand, no menu button', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('menu-button')).toBeHidden();
  const nav = page.getByRole('navigation', { name: 'Main' });
  const brand = await nav.getByRole('link', { name: 'Auth0 Leptos Sample' }).boundingBox();
  const logInBox = await logInButton(page).boundingBox();
  for (const link of ['Home', 'External API', 'Profile']) {
    const box = await nav.getByRole('link', { name: link, exact: true }).boundingBox();
    expect(Math.abs(box!.y + box!.height / 2 - (brand!.y + brand!.height / 2))).toBeLessThan(2);
  }
  expect(Math.abs(logInBox!.y + logInBox!.height / 2 - (brand!.y + brand!.height / 2))).toBeLessThan(2);

  // Signed in, at the narrowest width that keeps the row: no link or button wraps
  // onto a second line.
  await page.setViewportSize({ width: 960, height: 800 });
  await page.goto('/external-api');
  await logIn(page, 'alice@example.com');
  await expect(page.getByTestId('menu-button')).toBeHidden();
  for (const control of await nav.locator('a, button:visible').all()) {
    const box = await control.boundingBox();
    expect(box!.height, await control.innerText()).toBeLessThan(48);
  }
});

test.describe('the menu at 390 px', () => {
  test.use(phone(390));

  test('opens and closes with taps and Escape, says so, and hands focus back', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    const button = page.getByTestId('menu-button');
    const menu = page.locator('#nav-menu');
    await expect(button).toHaveAttribute('aria-controls', 'nav-menu');
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await expect(menu).toBeHidden();
    await expect(page.getByRole('navigation').getByRole('link', { name: 'External API' })).toBeHidden();

    await button.tap();
    await expect(menu).toBeVisible();
    await expect(button).toHaveAttribute('aria-expanded', 'true');
    // The panel comes next in the keyboard order.
    await button.focus();
    await page.keyboard.press('Tab');
    await expect(menu.getByRole('link', { name: 'Home' })).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await expect(button).toBeFocused();

    // A second tap on the button closes it too, and so does a tap outside.
    await button.tap();
    await expect(menu).toBeVisible();
    await button.tap();
    await expect(menu).toBeHidden();
    await button.tap();
    await expect(menu).toBeVisible();
    const panel = await menu.boundingBox();
    await page.touchscreen.tap(195, panel!.y + panel!.height + 40); // below the panel
    await expect(menu).toBeHidden();
    await expect(button).toHaveAttribute('aria-expanded', 'false');

    // The keyboard opens it as well.
    await button.focus();
    await page.keyboard.press('Enter');
    await expect(menu).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
  });

  test('a choice in the menu goes there and closes it; log in and out with taps', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    const button = page.getByTestId('menu-button');
    const menu = page.locator('#nav-menu');

    await button.tap();
    await menu.getByRole('link', { name: 'External API' }).tap();
    await expect(page).toHaveURL('/external-api');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('External API');
    await expect(menu).toBeHidden();
    await expect(button).toHaveAttribute('aria-expanded', 'false');

    await logIn(page, 'bob@example.com');
    await expect(page).toHaveURL('/external-api');
    await expect(menu).toBeHidden();
    await button.tap();
    await expect(menu.getByTestId('user-name')).toHaveText('Bob Viewer');
    await expect(menu.getByRole('button', { name: 'Log out', exact: true })).toBeVisible();
    await expect(menu.getByRole('button', { name: 'Log out of this app only' })).toBeVisible();
    // The signed-in controls read as lines, not one word per line.
    const name = await menu.getByTestId('user-name').boundingBox();
    expect(name!.height).toBeLessThan(30);

    await menu.getByRole('link', { name: 'Profile' }).tap();
    await expect(page.getByTestId('profile-email')).toHaveText('bob@example.com');
    await expect(menu).toBeHidden();

    await button.tap();
    await menu.getByRole('button', { name: 'Log out', exact: true }).tap();
    await expect(page).toHaveURL('/');
    await button.tap();
    await expect(page.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeVisible();
    await expect(page.getByTestId('user-name')).toHaveCount(0);
  });

  test('the claims box scrolls inside itself and a keyboard can reach it', async ({ page }) => {
    await page.goto('/external-api');
    await logIn(page, 'alice@example.com');
    await page.goto('/profile');
    const claims = page.getByRole('region', { name: 'ID token claims' });
    await expect(claims).toContainText('"email": "alice@example.com"');
    const { scrollWidth, clientWidth, tabIndex } = await claims.evaluate((el) => ({
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
      tabIndex: (el as HTMLElement).tabIndex,
    }));
    expect(scrollWidth).toBeGreaterThan(clientWidth); // the JSON is wider than the box...
    expect(await overflowProblems(page, 390)).toEqual([]); // ...but not than the page
    expect(tabIndex).toBe(0);
    await claims.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => claims.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  });
});

test.describe('before the wasm (JavaScript off) at 320 and 390 px', () => {
  test.use({ ...phone(320), javaScriptEnabled: false });

  test('every page is readable, fits, and the menu and its links work', async ({ page }) => {
    for (const width of [320, 390]) {
      await page.setViewportSize({ width, height: 800 });
      for (const path of ['/', '/external-api', '/profile', '/callback?code=x&state=y', '/no/such/page']) {
        await page.goto(path);
        await expect(page.getByRole('heading', { level: 1 }).or(page.getByText('Logging you in…'))).toBeVisible();
        expect(await overflowProblems(page, width)).toEqual([]);
        expect(await tapTargetProblems(page)).toEqual([]);
      }
      // The menu is an HTML popover: it opens without the wasm, and its links are plain links.
      await page.goto('/');
      await page.getByTestId('menu-button').tap();
      await page.locator('#nav-menu').getByRole('link', { name: 'External API' }).tap();
      await expect(page).toHaveURL('/external-api');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('External API');
      // What needs the wasm says so: the Ping buttons stay disabled until it has loaded.
      await expect(page.getByRole('button', { name: 'Ping public' })).toBeDisabled();
    }
  });
});

test('the failed callback offers "Log in again" with a real tap target', async ({ browser }) => {
  const context = await browser.newContext(phone(320));
  const page = await context.newPage();
  await page.goto(FAILED_CALLBACK);
  const again = page.getByRole('button', { name: 'Log in again' });
  await expect(again).toBeVisible();
  const box = await again.boundingBox();
  expect(box!.height).toBeGreaterThanOrEqual(44); // a primary button: comfortably above 24
  await context.close();
});
