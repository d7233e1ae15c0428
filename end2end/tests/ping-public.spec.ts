import { expect, test } from '@playwright/test';

const PUBLIC_MESSAGE =
  "Hello from a public endpoint! You don't need to be authenticated to see this.";

test('Ping public shows the server message, with a loading state meanwhile', async ({ page }) => {
  // Hold the real server's answer until the loading state has been seen.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/ping_public', async (route) => {
    await released;
    await route.continue();
  });

  await page.goto('/external-api');
  const button = page.getByRole('button', { name: 'Ping public' });
  await expect(button).toBeEnabled(); // enabled = hydrated

  await button.click();
  await expect(page.getByTestId('api-loading')).toHaveText('Calling the API…');
  await expect(button).toBeDisabled();

  release();
  await expect(page.getByTestId('api-result')).toHaveText(PUBLIC_MESSAGE);
  await expect(page.getByTestId('api-loading')).toHaveCount(0);
  await expect(button).toBeEnabled();
});

test('GET /api/public answers JSON for non-browser clients', async ({ request }) => {
  const response = await request.get('/api/public');
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('application/json');
  expect(await response.json()).toEqual({ message: PUBLIC_MESSAGE });
});
