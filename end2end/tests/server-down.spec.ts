import { expect, test } from '@playwright/test';
import { SPARE_ADDR, startSpareServer } from '../support';

test('Ping public says so when the server is down', async ({ page }) => {
  const { server, exited } = await startSpareServer();
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
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
});
