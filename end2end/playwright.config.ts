import { defineConfig } from '@playwright/test';
import * as path from 'path';
import {
  appServerEnv, chromiumLaunchOptions, CROSS_SITE_ORIGINS, E2E_ADDR, IDP_DIR, IDP_PORT, ISSUER, REPO_ROOT, SERVER_BIN, SPARE_ADDR,
} from './support';

// Runs against the release build (`cargo leptos build --release --precompress --split`, done by scripts/test).
// Playwright starts the dev IdP and target/release/server on ports of their own, waits
// until both answer, and stops them (SIGINT: graceful shutdown) at the end.
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
  webServer: [
    {
      command: 'node server.js',
      cwd: IDP_DIR,
      url: `${ISSUER}.well-known/openid-configuration`,
      env: {
        IDP_PORT: String(IDP_PORT),
        // The server-session tests serve the app as http://localhost:PORT: another
        // site than the IdP's 127.0.0.1, as app.example.com and tenant.auth0.com are.
        IDP_APP_ORIGINS: [E2E_ADDR, SPARE_ADDR, ...CROSS_SITE_ORIGINS].map((addr) => `http://${addr}`).join(','),
      },
      reuseExistingServer: false,
      timeout: 30_000,
      gracefulShutdown: { signal: 'SIGINT', timeout: 5_000 },
    },
    {
      command: path.relative(REPO_ROOT, SERVER_BIN),
      cwd: REPO_ROOT,
      url: `http://${E2E_ADDR}/readyz`,
      env: appServerEnv(E2E_ADDR),
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGINT', timeout: 5_000 },
    },
  ],
});
