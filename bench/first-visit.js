// First and repeat visit to a page of the release build, in Debian's Chromium:
// bytes over the wire per file and in total (what the network carried: headers
// and the compressed body), whether a repeat visit fetched any /pkg file, and how
// long until the page is interactive (its buttons enabled by hydration). Then
// what the first click on "Ping public" downloads: the API client's wasm chunk
// (app/src/lazy.rs) and the call itself.
//
//   node bench/first-visit.js [URL] [RUNS]     (default http://127.0.0.1:3902/external-api, 5)
//
// bench/first-visit-run starts the server and calls this; see README "Benchmarks".
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const url = process.argv[2] ?? 'http://127.0.0.1:3902/external-api';
const runs = Number(process.argv[3] ?? 5);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** Loads `url` in `page`; returns per-file transfer sizes and time to interactive,
 * and with `click`, the files the first click on "Ping public" fetched. */
async function visit(page, cdp, click = false) {
  const files = new Map();
  const onResponse = ({ requestId, response }) => {
    files.set(requestId, {
      url: new URL(response.url).pathname,
      status: response.status,
      cached: response.fromDiskCache || response.fromMemoryCache,
      encoding: response.headers['content-encoding'] ?? response.headers['Content-Encoding'] ?? '',
      bytes: 0,
    });
  };
  const onFinished = ({ requestId, encodedDataLength }) => {
    const file = files.get(requestId);
    if (file) file.bytes = encodedDataLength;
  };
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Ping public');
    return button && !button.disabled;
  });
  const interactiveMs = await page.evaluate(() => performance.now());
  await page.waitForLoadState('networkidle');
  const loaded = [...files.keys()];
  let clicked = [];
  if (click) {
    await page.getByRole('button', { name: 'Ping public' }).click();
    await page.getByTestId('api-result').waitFor();
    await page.waitForLoadState('networkidle');
    clicked = [...files.entries()].filter(([id]) => !loaded.includes(id)).map(([, file]) => file);
  }
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  return { files: loaded.map((id) => files.get(id)), interactiveMs, clicked };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const kb = (bytes) => (bytes / 1024).toFixed(1);

const first = [];
const repeat = [];
for (let i = 0; i < runs; i += 1) {
  const context = await browser.newContext(); // empty cache
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  first.push(await visit(page, cdp, true));
  // A later visit in the same browser: a new page, as when the user comes back.
  const again = await context.newPage();
  const cdpAgain = await context.newCDPSession(again);
  await cdpAgain.send('Network.enable');
  repeat.push(await visit(again, cdpAgain));
  await context.close();
}
await browser.close();

const sample = first[0];
console.log(`first visit to ${url} (empty cache), per file:`);
for (const file of sample.files) {
  console.log(`  ${kb(file.bytes).padStart(8)} KB  ${String(file.status).padEnd(4)} ${(file.encoding || '-').padEnd(5)} ${file.url}`);
}
const totals = first.map((v) => v.files.reduce((sum, f) => sum + f.bytes, 0));
console.log(`  total: ${kb(median(totals))} KB over the wire (median of ${runs})`);
console.log('then the first click on "Ping public" fetched:');
for (const file of sample.clicked) {
  console.log(`  ${kb(file.bytes).padStart(8)} KB  ${String(file.status).padEnd(4)} ${(file.encoding || '-').padEnd(5)} ${file.url}`);
}
const clickTotals = first.map((v) => v.clicked.reduce((sum, f) => sum + f.bytes, 0));
console.log(`  total: ${kb(median(clickTotals))} KB (median of ${runs})`);
const pkgRefetched = repeat.flatMap((v) => v.files.filter((f) => f.url.startsWith('/pkg/') && !f.cached && f.bytes > 0));
const repeatTotals = repeat.map((v) => v.files.filter((f) => f.url.startsWith('/pkg/')).reduce((s, f) => s + (f.cached ? 0 : f.bytes), 0));
console.log(`repeat visit: /pkg bytes from the network: ${median(repeatTotals)} (files refetched: ${pkgRefetched.length})`);
console.log(`time to interactive (buttons enabled): first ${median(first.map((v) => v.interactiveMs)).toFixed(0)} ms, repeat ${median(repeat.map((v) => v.interactiveMs)).toFixed(0)} ms (median of ${runs})`);
