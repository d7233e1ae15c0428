import { expect, test } from '@playwright/test';
import { ISSUER, SPARE_ADDR, startSpareServer } from '../support';

// The page's wasm fetches the API client and the login code on first use (wasm
// chunks, app/src/lazy.rs): with the server gone, those downloads fail too. The
// page must say so and keep working, not die (a failed chunk load in Leptos's own
// `#[lazy]` panics, which kills the wasm).

test('Ping public says so when the server is down, and works once it is back', async ({ page }) => {
  let { server, exited } = await startSpareServer();
  try {
    await page.goto(`http://${SPARE_ADDR}/external-api`);
    const button = page.getByRole('button', { name: 'Ping public' });
    await expect(button).toBeEnabled();

    // SIGTERM: the server shuts down gracefully and exits 0.
    server.kill('SIGTERM');
    expect(await exited).toBe(0);

    await button.click();
    await expect(page.getByTestId('api-error')).toContainText('Ping public: The API could not be reached');
    await expect(page.getByTestId('api-result')).toHaveCount(0);

    // Back: the same page (never reloaded) downloads the code this time and calls.
    ({ server, exited } = await startSpareServer());
    await button.click();
    await expect(page.getByTestId('api-result')).toHaveText('Hello from a public endpoint! You don\'t need to be authenticated to see this.');
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
});

test('"Log in" with the server down says why; once it is back, the login starts', async ({ page }) => {
  let { server, exited } = await startSpareServer();
  try {
    await page.goto(`http://${SPARE_ADDR}/`);
    const login = page.getByTestId('session').getByRole('button', { name: 'Log in' });
    await expect(login).toBeEnabled();

    server.kill('SIGTERM');
    expect(await exited).toBe(0);

    await login.click();
    await expect(page.getByTestId('auth-error')).toContainText('Login could not start: part of this page could not be downloaded');

    ({ server, exited } = await startSpareServer());
    await page.getByTestId('session').getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(new RegExp(`^${ISSUER}interaction/`));
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
});

test('a first visit downloads neither the login nor the API client until they are used', async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
  const { server } = await startSpareServer();
  try {
    await page.goto(`http://${SPARE_ADDR}/external-api`);
    const ping = page.getByRole('button', { name: 'Ping public' });
    await expect(ping).toBeEnabled();
    await page.waitForLoadState('networkidle');
    const chunks = () => fetched.filter((path) => /^\/pkg\/(split_|chunk_)/.test(path));
    expect(chunks()).toEqual([]);
    // The chunks' loader (imported by the JS glue) is preloaded with it, under the nonce.
    const preload = page.locator('head link[rel="modulepreload"][href^="/pkg/__wasm_split."]');
    await expect(preload).toHaveCount(1);
    expect(await preload.getAttribute('nonce')).not.toBeNull();

    await ping.click();
    await expect(page.getByTestId('api-result')).toBeVisible();
    expect(chunks().some((path) => path.startsWith('/pkg/split_api.'))).toBe(true);
    expect(chunks().some((path) => path.startsWith('/pkg/split_login.'))).toBe(false);

    await page.getByTestId('session').getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(new RegExp(`^${ISSUER}interaction/`));
    expect(chunks().some((path) => path.startsWith('/pkg/split_login.'))).toBe(true);
  } finally {
    server.kill('SIGKILL');
  }
});
