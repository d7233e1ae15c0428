// A static token issuer for the benchmark: OpenID discovery and a JWKS with one
// RS256 key on 127.0.0.1:PORT, and one access token signed with it written to
// stdout (valid for an hour). Usage: node static-issuer.js PORT AUDIENCE
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const port = Number(process.argv[2] ?? 4900);
const audience = process.argv[3] ?? 'https://api.bench.local';
const issuer = `http://127.0.0.1:${port}/`;

const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', use: 'sig', alg: 'RS256' };
const token = await new SignJWT({ scope: 'openid profile email', permissions: ['read:messages'], azp: 'bench' })
  .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
  .setIssuer(issuer)
  .setSubject('auth0|bench-user')
  .setAudience([audience, `${issuer}userinfo`])
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);

const documents = {
  '/.well-known/openid-configuration': { issuer, jwks_uri: `${issuer}.well-known/jwks.json` },
  '/.well-known/jwks.json': { keys: [jwk] },
};
createServer((req, res) => {
  const body = documents[new URL(req.url, issuer).pathname];
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body ?? { error: 'not found' }));
}).listen(port, '127.0.0.1', () => process.stdout.write(`${token}\n`));
