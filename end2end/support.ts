// Shared by the config and the tests: where things are, how the servers and
// Chromium start.
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const SERVER_BIN = path.join(REPO_ROOT, 'target', 'release', 'server');
export const IDP_DIR = path.join(REPO_ROOT, 'idp');

// Ports of their own, so a `scripts/run` (3000, IdP 4000) does not get in the way.
export const E2E_ADDR = process.env.E2E_ADDR ?? '127.0.0.1:3100';
export const SPARE_ADDR = '127.0.0.1:3101'; // for tests that stop their own server
export const IDP_PORT = 4100;
export const ISSUER = `http://127.0.0.1:${IDP_PORT}/`;
export const AUDIENCE = 'https://api.leptos-sample.local';
export const CLIENT_ID = 'leptos-sample-spa';

/** Environment for target/release/server on `addr`, pointed at the test IdP. */
export function appServerEnv(addr: string): Record<string, string> {
  return {
    LEPTOS_SITE_ADDR: addr,
    AUTH0_ISSUER: ISSUER,
    AUTH0_AUDIENCE: AUDIENCE,
    AUTH0_CLIENT_ID: CLIENT_ID,
    RUST_LOG: 'warn',
  };
}

// Debian's Chromium (never a downloaded browser). The flags keep it off the network,
// which is closed here, and let it run as root in CI.
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
