/**
 * The web console: one self-contained page (no build step, no external assets) that signs in
 * with cookies (`web: true`), completes an MFA step, shows the profile and signs out.
 */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portcullis</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f5f7; }
  main { max-width: 28rem; margin: 8vh auto; background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  label { display: block; margin: .8rem 0 .3rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; border: 1px solid #c8ccd4; border-radius: 6px; font-size: 1rem; }
  button { margin-top: 1.2rem; width: 100%; padding: .7rem; border: 0; border-radius: 6px; background: #2f5bd3; color: #fff; font-size: 1rem; cursor: pointer; }
  .error { color: #b3261e; min-height: 1.2rem; margin-top: .8rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
  dt { color: #667; } [hidden] { display: none; }
</style>
</head>
<body>
<main>
  <h1>Portcullis</h1>
  <form id="login">
    <label for="id">User name or email</label><input id="id" name="id" autocomplete="username" required>
    <label for="pw">Password</label><input id="pw" name="pw" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
  </form>
  <form id="mfa" hidden>
    <label for="otp">Authenticator code or recovery code</label><input id="otp" autocomplete="one-time-code" required>
    <button type="submit">Verify</button>
  </form>
  <section id="me" hidden>
    <dl id="profile"></dl>
    <button id="logout" type="button">Sign out</button>
  </section>
  <p class="error" id="error" role="alert"></p>
</main>
<script>
const $ = (id) => document.getElementById(id);
let pending = '';
const show = (id) => { for (const s of ['login', 'mfa', 'me']) $(s).hidden = s !== id; $('error').textContent = ''; };
async function call(path, body, method = 'POST') {
  const res = await fetch(path, { method, credentials: 'same-origin', headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || 'Request failed');
  return data;
}
async function loadMe() {
  try {
    const { user } = await call('/v1/auth/user', undefined, 'GET');
    const rows = [['User', user.userName], ['Email', user.email || '—'], ['Roles', user.roles.join(', ')], ['MFA', user.mfaEnabled ? 'on' : 'off'], ['Last sign-in', user.lastLogIn || '—']];
    $('profile').replaceChildren(...rows.flatMap(([k, v]) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; return [dt, dd]; }));
    show('me');
  } catch { show('login'); }
}
$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = $('id').value.trim();
  try {
    const r = await call('/v1/auth/login', { ...(id.includes('@') ? { email: id } : { username: id }), password: $('pw').value, web: true });
    $('pw').value = '';
    if (r.mfaTempToken) { pending = r.mfaTempToken; show('mfa'); } else await loadMe();
  } catch (err) { $('error').textContent = err.message; }
});
$('mfa').addEventListener('submit', async (e) => {
  e.preventDefault();
  const code = $('otp').value.trim();
  try {
    await call('/v1/auth/login', { mfaTempToken: pending, web: true, ...(/^\\d{6}$/.test(code) ? { otpCode: code } : { recoveryCode: code }) });
    $('otp').value = ''; await loadMe();
  } catch (err) { $('error').textContent = err.message; }
});
$('logout').addEventListener('click', async () => { await call('/v1/auth/logout', {}).catch(() => {}); show('login'); });
loadMe();
</script>
</body>
</html>`;
