import { expect, test } from '@playwright/test';
import { ChildProcess, spawn } from 'child_process';
import { appServerEnv, REPO_ROOT, SERVER_BIN, SPARE_ADDR } from '../support';

// A server of this test's own, so it can be stopped without harming the others.
const ADDR = SPARE_ADDR;

async function waitUntilUp(url: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('Ping public says so when the server is down', async ({ page }) => {
  const server = spawn(SERVER_BIN, [], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...appServerEnv(ADDR) },
    stdio: 'ignore',
  });
  const serverExit = exited(server);
  try {
    await waitUntilUp(`http://${ADDR}/api/public`, 20_000);
    await page.goto(`http://${ADDR}/external-api`);
    const button = page.getByRole('button', { name: 'Ping public' });
    await expect(button).toBeEnabled();

    // SIGTERM: the server shuts down gracefully and exits 0.
    server.kill('SIGTERM');
    expect(await serverExit).toBe(0);

    await button.click();
    await expect(page.getByTestId('api-error')).toContainText('Ping public: The API could not be reached');
    await expect(page.getByTestId('api-result')).toHaveCount(0);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
});
