// The seed's API, as in Auth0's "React SPA + Express API" sample: express-jwt with
// jwks-rsa (cache, rate limit). Usage: node express-api.js PORT ISSUER AUDIENCE
import express from 'express';
import { expressjwt } from 'express-jwt';
import jwksRsa from 'jwks-rsa';

const [port, issuer, audience] = [Number(process.argv[2] ?? 3901), process.argv[3], process.argv[4]];

const checkJwt = expressjwt({
  secret: jwksRsa.expressJwtSecret({
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 5,
    jwksUri: `${issuer}.well-known/jwks.json`,
  }),
  audience,
  issuer,
  algorithms: ['RS256'],
});

const app = express();
app.get('/api/public', (req, res) => res.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." }));
app.get('/api/private', checkJwt, (req, res) => res.json({ message: 'Hello from a private endpoint! You need to be authenticated to see this.' }));
app.use((err, req, res, next) => res.status(err.status ?? 500).json({ message: err.message }));
app.listen(port, '127.0.0.1');
