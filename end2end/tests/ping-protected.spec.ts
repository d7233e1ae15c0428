import { expect, test } from '@playwright/test';
import { execFileSync } from 'child_process';
import { E2E_ADDR, IDP_DIR, IDP_PORT } from '../support';

// Logged out (no login in the browser yet): the protected calls go out without a
// token and the page shows the API's refusal, not silence.
for (const button of ['Ping protected', 'Ping scoped']) {
  test(`${button} without a token shows the 401`, async ({ page }) => {
    await page.goto('/external-api');
    const ping = page.getByRole('button', { name: button });
    await expect(ping).toBeEnabled();
    const answered = page.waitForResponse((r) => r.url().includes('/api/ping_'));
    await ping.click();
    expect((await answered).status()).toBe(401);
    await expect(page.getByTestId('api-error')).toHaveText(
      `${button}: 401 Unauthorized: Authorization header with a Bearer token is required`,
    );
    await expect(page.getByTestId('api-result')).toHaveCount(0);
  });
}

test('REST routes answer non-browser clients per RFC 6750', async ({ request }) => {
  const anonymous = await request.get('/api/private');
  expect(anonymous.status()).toBe(401);
  expect(anonymous.headers()['www-authenticate']).toBe(
    'Bearer realm="api", DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256"',
  );

  const forged = await request.get('/api/private-scoped', { headers: { Authorization: 'Bearer a.b.c' } });
  expect(forged.status()).toBe(401);
  expect(forged.headers()['www-authenticate']).toContain('error="invalid_token"');
  expect(await forged.json()).toMatchObject({ error: 'invalid_token' });
});

// A real access token from the test IdP (same PKCE login the browser does, scripted).
function tokenFor(email: string): string {
  return execFileSync('node', ['get-token.js', email], {
    cwd: IDP_DIR,
    env: { ...process.env, IDP_PORT: String(IDP_PORT), APP_ORIGIN: `http://${E2E_ADDR}` },
    encoding: 'utf8',
  }).trim();
}

test('REST routes accept the IdP tokens and check the scope', async ({ request }) => {
  const alice = { Authorization: `Bearer ${tokenFor('alice@example.com')}` };
  const bob = { Authorization: `Bearer ${tokenFor('bob@example.com')}` };

  expect((await request.get('/api/private', { headers: bob })).status()).toBe(200);
  const scoped = await request.get('/api/private-scoped', { headers: alice });
  expect(scoped.status()).toBe(200);
  expect((await scoped.json()).message).toContain('read:messages');

  const refused = await request.get('/api/private-scoped', { headers: bob });
  expect(refused.status()).toBe(403);
  expect(refused.headers()['www-authenticate']).toContain('scope="read:messages"');
});
