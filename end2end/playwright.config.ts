import { defineConfig } from '@playwright/test';
import * as path from 'path';
import { chromiumLaunchOptions, E2E_ADDR, REPO_ROOT, SERVER_BIN } from './support';

// Runs against the release build (`cargo leptos build --release`, done by scripts/test):
// Playwright starts target/release/server from the repo root on its own port, waits
// until it answers, and stops it with SIGINT (graceful shutdown) at the end.
export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? 'list' : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: `http://${E2E_ADDR}`,
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunchOptions,
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: path.relative(REPO_ROOT, SERVER_BIN),
    cwd: REPO_ROOT,
    url: `http://${E2E_ADDR}/api/public`,
    env: { LEPTOS_SITE_ADDR: E2E_ADDR, RUST_LOG: 'warn' },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGINT', timeout: 5_000 },
  },
});
