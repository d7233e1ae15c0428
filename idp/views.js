// The dev IdP's login page (the part Auth0's Universal Login shows).
const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function loginPage({ uid, clientName, users, error, email }) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Log in | Dev IdP</title>
  <style>
    body { font-family: system-ui, sans-serif; background: #f7f8fa; display: grid; place-items: center; min-height: 100vh; margin: 0; }
    main { background: #fff; padding: 2rem; border-radius: .5rem; box-shadow: 0 2px 8px rgba(0,0,0,.1); width: 22rem; }
    label { display: block; margin: .75rem 0 .25rem; }
    input { width: 100%; padding: .5rem; box-sizing: border-box; }
    button { margin-top: 1rem; width: 100%; padding: .6rem; background: #635dff; color: #fff; border: 0; border-radius: .3rem; font-size: 1rem; }
    .error { color: #b3261e; }
    .hint { color: #5b6478; font-size: .9rem; }
  </style>
</head>
<body>
  <main>
    <h1>Log in</h1>
    <p>to continue to ${escape(clientName)}</p>
    ${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
    <form method="post" action="/interaction/${escape(uid)}">
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required value="${escape(email)}">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Continue</button>
    </form>
    <p class="hint">Local development provider. Test users: ${users.map((u) => escape(u.email)).join(', ')}.</p>
  </main>
</body>
</html>`;
}
