// Shared by the config and the tests: where things are and how Chromium starts.
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const SERVER_BIN = path.join(REPO_ROOT, 'target', 'release', 'server');

// A port of its own, so a `cargo leptos watch` on 3000 does not get in the way.
export const E2E_ADDR = process.env.E2E_ADDR ?? '127.0.0.1:3100';

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
