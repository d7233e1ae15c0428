// Shared by the layout, accessibility and screenshot tests: phone contexts, the
// pages to visit, and the checks "fits the screen" and "every control takes a tap".
import AxeBuilder from '@axe-core/playwright';
import { expect, Page } from '@playwright/test';
import { hydrated, press } from './support';

/** Phone widths the layout must hold (CSS px): small Android, iPhone mini/SE, iPhone, large Android. */
export const PHONE_WIDTHS = [320, 375, 390, 414];
/** Wider screens: a tablet held upright, a small laptop, a desktop. */
export const WIDE_WIDTHS = [768, 1024, 1280];

/** Browser-context options for a touch phone `width` px wide. */
export function phone(width: number) {
  return { viewport: { width, height: 800 }, isMobile: true, hasTouch: true };
}

/** A forged callback: the Callback page's "Login failed" state. */
export const FAILED_CALLBACK = '/callback?code=stolen-code&state=forged-state';

/** A page or state to visit, and how to know it has rendered. */
export type Visit = { name: string; path: string; ready: (page: Page) => Promise<void> };

/** Every page and state a visitor can land on. */
export const PAGES: Visit[] = [
  { name: 'Home', path: '/', ready: (p) => expect(p.getByRole('heading', { level: 1 })).toHaveText(/Log in with Auth0/) },
  { name: 'External API', path: '/external-api', ready: (p) => expect(p.getByRole('heading', { level: 1 })).toHaveText('External API') },
  { name: 'Callback, failed', path: FAILED_CALLBACK, ready: (p) => expect(p.getByTestId('login-error')).toBeVisible() },
  { name: '404', path: '/no/such/page', ready: (p) => expect(p.getByRole('heading', { level: 1 })).toHaveText('Page not found') },
];

/** The Profile page (signed in only: signed out it sends the browser to log in). */
export const PROFILE: Visit = {
  name: 'Profile',
  path: '/profile',
  ready: (p) => expect(p.getByTestId('profile-claims')).toBeVisible(),
};

/** Loads `target` and waits until it has rendered and hydrated. */
export async function visit(page: Page, target: Visit): Promise<void> {
  await page.goto(target.path);
  await target.ready(page);
  await hydrated(page);
}

/** What is wider than the screen: the document itself, or any element that sticks
 * out past either edge without a scrolling box of its own around it. `deviceWidth`
 * is the screen's width, not `innerWidth` (which grows with the content on a phone). */
export async function overflowProblems(page: Page, deviceWidth: number): Promise<string[]> {
  return page.evaluate((deviceWidth) => {
    const problems: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > deviceWidth) problems.push(`the document is ${doc.scrollWidth} px wide`);
    if (window.innerWidth > deviceWidth) problems.push(`the layout viewport is ${window.innerWidth} px wide`);
    const clipped = (el: Element) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
      }
      return false;
    };
    for (const el of document.body.querySelectorAll('*')) {
      if (!el.checkVisibility({ visibilityProperty: true })) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if ((r.right > deviceWidth + 0.5 || r.left < -0.5) && !clipped(el)) {
        const text = (el.textContent ?? '').trim().slice(0, 40);
        problems.push(`<${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> "${text}" spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
      }
    }
    return problems;
  }, deviceWidth);
}

/** Every visible link and button (and other focusable control) inside `scope`:
 * smaller than 24 x 24 CSS px, or not the element a tap at its centre lands on.
 * A link that wraps is measured by its first line. Each is scrolled into view first. */
export async function tapTargetProblems(page: Page, scope = 'body'): Promise<string[]> {
  return page.evaluate((scope) => {
    const problems: string[] = [];
    const describe = (el: Element | null) =>
      el ? `<${el.tagName.toLowerCase()}> "${(el.textContent ?? el.getAttribute('aria-label') ?? '').trim().slice(0, 30)}"` : 'nothing';
    const controls = document.querySelector(scope)!.querySelectorAll(
      'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])',
    );
    for (const el of controls) {
      if (!el.checkVisibility({ visibilityProperty: true })) continue;
      el.scrollIntoView({ block: 'center', inline: 'nearest' });
      const r = el.getClientRects()[0];
      if (!r) continue;
      if (r.width < 24 || r.height < 24) {
        problems.push(`${describe(el)} is ${r.width.toFixed(1)} x ${r.height.toFixed(1)} px`);
      }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!hit || !(hit === el || el.contains(hit))) problems.push(`a tap on ${describe(el)} lands on ${describe(hit)}`);
    }
    window.scrollTo(0, 0);
    return problems;
  }, scope);
}

/** The page fits a `width` px screen and every control takes a tap, with the menu
 * closed and then open. */
export async function expectFitsAndTaps(page: Page, width: number): Promise<void> {
  expect(await overflowProblems(page, width)).toEqual([]);
  expect(await tapTargetProblems(page)).toEqual([]);
  const menuButton = page.getByTestId('menu-button');
  if (await menuButton.isVisible()) {
    await press(page, menuButton);
    await expect(page.locator('#nav-menu')).toBeVisible();
    expect(await overflowProblems(page, width)).toEqual([]);
    expect(await tapTargetProblems(page, '#nav-menu')).toEqual([]);
    await page.keyboard.press('Escape');
    await expect(page.locator('#nav-menu')).toBeHidden();
  }
}

/** axe-core's WCAG 2.0/2.1/2.2 A and AA rules: the violations, one line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  return results.violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ')}`),
  );
}
