// DPoP end to end (RFC 9449): a server of its own with AUTH0_USE_DPOP=true and API
// nonces on, the dev IdP binding tokens (with its own nonces). The browser holds a
// non-extractable ES256 key; a token copied out of a request is useless without it.
import { expect, Page, Request, test } from '@playwright/test';
import { ChildProcess, execFileSync } from 'child_process';
import { logIn, ping, SPARE_ADDR, startSpareServer } from '../support';

const BASE = `http://${SPARE_ADDR}`;
const PRIVATE = 'Hello from a private endpoint! You need to be authenticated to see this.';

test.describe.configure({ mode: 'serial' });

/** A server of its own with DPoP on and `storage` for the tokens, for the tests of a describe block. */
function dpopServer(storage: 'local' | 'session' | 'memory'): void {
  let server: ChildProcess;
  let exited: Promise<number | null>;
  test.beforeAll(async () => {
    ({ server, exited } = await startSpareServer({
      AUTH0_USE_DPOP: 'true',
      DPOP_NONCE: 'true',
      AUTH0_TOKEN_STORAGE: storage,
    }));
    // Ready: the issuer's keys are loaded.
    await expect.poll(async () => (await fetch(`${BASE}/readyz`)).status, { timeout: 20_000 }).toBe(200);
  });
  test.afterAll(async () => {
    server.kill('SIGTERM');
    await exited;
  });
}

/** The DPoP key pair in IndexedDB, if any: its public key as `x.y`. */
async function storedKey(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve) => {
      const open = indexedDB.open('auth');
      open.onsuccess = () => resolve(open.result);
    });
    if (!db.objectStoreNames.contains('kv')) return null;
    const pair = await new Promise<CryptoKeyPair | undefined>((resolve) => {
      const get = db.transaction('kv').objectStore('kv').get('dpop.key');
      get.onsuccess = () => resolve(get.result);
    });
    if (!pair) return null;
    const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
    return `${jwk.x}.${jwk.y}`;
  });
}

function b64json(part: string): Record<string, any> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

type Seen = { request: Request; headers: Record<string, string> };

/** Every POST the page makes to `pathEnd`, with its headers. A request is noted
 * as it is sent; its headers are read asynchronously, so read the list through
 * `all()`, which waits for every one of them. */
function record(page: Page, pathEnd: string): { all: () => Promise<Seen[]> } {
  const pending: Array<Promise<Seen>> = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.endsWith(pathEnd) && request.method() === 'POST') {
      pending.push(request.allHeaders().then((headers) => ({ request, headers })));
    }
  });
  return { all: () => Promise.all(pending) };
}

/** `curl` against the spare server: [status, body]. */
function curl(path: string, headers: string[]): [number, string] {
  const args = ['-s', '-w', '\n%{http_code}', ...headers.flatMap((h) => ['-H', h]), `${BASE}${path}`];
  const out = execFileSync('curl', args, { encoding: 'utf8' });
  const cut = out.lastIndexOf('\n');
  return [Number(out.slice(cut + 1)), out.slice(0, cut)];
}

test.describe('local storage', () => {
  dpopServer('local');

  test('log in with DPoP: bound tokens, proofs on the token endpoint and every API call; stolen tokens and proofs are refused', async ({ page }) => {
    const tokenCalls = record(page, '/token');
    const apiCalls = record(page, '/api/ping_scoped');

    await page.goto(`${BASE}/external-api`);
    await logIn(page, 'alice@example.com');

    // The code exchange carried a proof for the token endpoint, with the IdP's nonce
    // on the retry (the IdP requires one).
    const exchange = (await tokenCalls.all()).at(-1)!.headers;
    const exchangeProof = exchange['dpop'];
    expect(exchangeProof).toBeTruthy();
    const [header, claims] = exchangeProof.split('.').slice(0, 2).map(b64json);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(header.jwk.d).toBeUndefined();
    expect(claims).toMatchObject({ htm: 'POST' });
    expect(claims.htu).toMatch(/\/token$/);
    expect(claims.nonce).toBeTruthy();

    // The key is non-extractable, kept in IndexedDB.
    const stored = await page.evaluate(() => new Promise<any>((resolve, reject) => {
      const open = indexedDB.open('auth');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const get = open.result.transaction('kv').objectStore('kv').get('dpop.key');
        get.onsuccess = () => {
          const pair = get.result as CryptoKeyPair;
          resolve({
            extractable: pair.privateKey.extractable,
            algorithm: (pair.privateKey.algorithm as EcKeyAlgorithm).namedCurve,
            usages: pair.privateKey.usages,
          });
        };
      };
    }));
    expect(stored).toEqual({ extractable: false, algorithm: 'P-256', usages: ['sign'] });

    // Ping scoped: the first call has no API nonce yet (401 use_dpop_nonce), the page
    // retries once with it.
    await ping(page, 'Ping scoped');
    await expect(page.getByTestId('api-result')).toContainText('read:messages');
    const calls = (await apiCalls.all()).map((c) => c.headers);
    expect(calls.length).toBe(2);
    for (const call of calls) {
      expect(call['authorization']).toMatch(/^DPoP ey/);
      expect(call['dpop']).toBeTruthy();
    }
    const token = calls[1]['authorization'].slice('DPoP '.length);
    const proof = calls[1]['dpop'];
    const proofClaims = b64json(proof.split('.')[1]);
    expect(proofClaims).toMatchObject({ htm: 'POST', htu: `${BASE}/api/ping_scoped` });
    expect(proofClaims.ath).toBeTruthy();
    expect(proofClaims.nonce).toBeTruthy();
    // The access token is bound to the browser's key.
    expect(b64json(token.split('.')[1]).cnf?.jkt).toBeTruthy();

    await ping(page, 'Ping protected');
    await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);

    // The token copied out of the request, replayed with curl as a Bearer token: 401.
    const [asBearer, bearerBody] = curl('/api/private', [`Authorization: Bearer ${token}`]);
    expect(asBearer).toBe(401);
    expect(JSON.parse(bearerBody).error).toBe('invalid_token');
    // With the captured proof (made for another URL and already used): 401.
    const [withProof, proofBody] = curl('/api/private', [`Authorization: DPoP ${token}`, `DPoP: ${proof}`]);
    expect(withProof).toBe(401);
    expect(JSON.parse(proofBody).error).toBe('invalid_dpop_proof');
    // Even at the very call the proof was made for, a second use is a replay.
    const replay = await page.request.post(`${BASE}/api/ping_scoped`, {
      headers: { Authorization: `DPoP ${token}`, DPoP: proof, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(replay.status()).toBe(401);
    expect(await replay.text()).toContain('invalid_dpop_proof');
  });

  test('a reload keeps the bound session (key from IndexedDB), renewal proves the same key, logout forgets it', async ({ page }) => {
    await page.goto(`${BASE}/external-api`);
    await logIn(page, 'carol@example.com'); // 2-second access tokens: renewal by refresh token
    const thumbprint = () => storedKey(page);
    const before = await thumbprint();
    expect(before).toBeTruthy();

    await page.reload();
    await expect(page.getByTestId('user-name')).toHaveText('Carol Shortlived');
    // No wait for the token to expire: it lives 2 s and the browser renews within
    // a minute of expiry, so the next call renews first, as after any expiry.
    const refreshes = record(page, '/token');
    await ping(page, 'Ping protected');
    await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
    // Renewed with a proof from the same key (the refresh token is bound to it).
    const renewals = await refreshes.all();
    expect(renewals.length).toBeGreaterThan(0);
    const refreshProof = renewals.at(-1)!.headers['dpop'];
    const jwk = b64json(refreshProof.split('.')[0]).jwk;
    expect(`${jwk.x}.${jwk.y}`).toBe(before);
    expect(await thumbprint()).toBe(before);

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(page).toHaveURL(`${BASE}/`);
    expect(await thumbprint()).toBeNull();
  });
});

test.describe('memory storage', () => {
  dpopServer('memory');

  test('the key lives as long as the page: a reload gets a new one through the silent check, and DPoP calls work', async ({ page }) => {
    const apiCalls = record(page, '/api/ping_protected');
    await page.goto(`${BASE}/external-api`);
    await logIn(page, 'bob@example.com');
    await ping(page, 'Ping protected');
    await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
    expect(await storedKey(page)).toBeNull(); // nothing outlives the page
    const firstKey = b64json((await apiCalls.all()).at(-1)!.headers['dpop'].split('.')[0]).jwk;

    await page.reload();
    await expect(page.getByTestId('user-name')).toHaveText('Bob Viewer');
    await ping(page, 'Ping protected');
    await expect(page.getByTestId('api-result')).toHaveText(PRIVATE);
    const last = (await apiCalls.all()).at(-1)!.headers;
    expect(last['authorization']).toMatch(/^DPoP /);
    const secondKey = b64json(last['dpop'].split('.')[0]).jwk;
    expect(secondKey.x).not.toBe(firstKey.x);
    // The new session's token is bound to the new key.
    const token = last['authorization'].slice('DPoP '.length);
    expect(b64json(token.split('.')[1]).cnf.jkt).toBeTruthy();
  });
});

test.describe('session storage', () => {
  dpopServer('session');

  // Tabs keep their own tokens but share the key in IndexedDB. A logout anywhere
  // drops the key everywhere, so a tab that logs in again by its silent check binds
  // the key the next login stored, and keeps working after a reload.
  test('a logout in another tab drops the key in this tab too', async ({ page, context }) => {
    await page.goto(`${BASE}/external-api`);
    await logIn(page, 'alice@example.com');
    const other = await context.newPage();
    await other.goto(`${BASE}/external-api`);
    await expect(other.getByTestId('user-name')).toHaveText('Alice Reader'); // its own silent check

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(other.getByTestId('session').getByRole('button', { name: 'Log in' })).toBeVisible();
    await logIn(page, 'alice@example.com'); // a new key in IndexedDB
    await expect(other.getByTestId('user-name')).toHaveText('Alice Reader'); // silent check again

    await other.reload();
    await expect(other.getByTestId('user-name')).toHaveText('Alice Reader');
    const statuses: number[] = [];
    other.on('response', (r) => {
      if (r.url().endsWith('/api/ping_protected')) statuses.push(r.status());
    });
    await ping(other, 'Ping protected');
    await expect(other.getByTestId('api-result')).toHaveText(PRIVATE);
    // The first call of a page learns the API's nonce; no other refusal.
    expect(statuses).toEqual([401, 200]);
  });
});
