// The dev IdP's test users. Passwords are for local development and tests only.
export const PASSWORD = 'Passw0rd!';

export const USERS = [
  {
    sub: 'auth0|alice',
    email: 'alice@example.com',
    name: 'Alice Reader',
    nickname: 'alice',
    // Auth0 RBAC: granted to this user, sent in the access token's `permissions`.
    permissions: ['read:messages'],
  },
  {
    sub: 'auth0|bob',
    email: 'bob@example.com',
    name: 'Bob Viewer',
    nickname: 'bob',
    permissions: [],
  },
  {
    sub: 'auth0|carol',
    email: 'carol@example.com',
    name: 'Carol Shortlived',
    nickname: 'carol',
    permissions: [],
    // Access tokens expire after this many seconds: for testing token renewal.
    accessTokenTtl: 2,
  },
];

export function findByEmail(email) {
  return USERS.find((user) => user.email === String(email ?? '').trim().toLowerCase());
}

export function findBySub(sub) {
  return USERS.find((user) => user.sub === sub);
}

// A small SVG avatar served by the IdP itself (no outside network here).
export function avatarSvg(user) {
  const letter = user.name[0];
  const hue = [...user.sub].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="32" fill="hsl(${hue} 60% 45%)"/><text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" font-family="sans-serif">${letter}</text></svg>`;
}
