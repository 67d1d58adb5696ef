/** Minimal server-rendered pages of the OpenID Provider's interactions (sign-in, MFA, consent, sign-out). */

export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Portcullis</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f5f7; }
  main { max-width: 28rem; margin: 8vh auto; background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  label { display: block; margin: .8rem 0 .3rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; border: 1px solid #c8ccd4; border-radius: 6px; font-size: 1rem; }
  button { margin-top: 1.2rem; width: 100%; padding: .7rem; border: 0; border-radius: 6px; background: #2f5bd3; color: #fff; font-size: 1rem; cursor: pointer; }
  button.secondary { background: #e4e7ee; color: #1d2330; }
  .error { color: #b3261e; margin-top: .8rem; }
  ul { padding-left: 1.2rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

const errorLine = (message?: string): string => (message ? `<p class="error" id="error" role="alert">${escapeHtml(message)}</p>` : '');

export function loginPage(input: {
  action: string;
  clientName: string;
  loginHint?: string | undefined;
  error?: string | undefined;
}): string {
  return page(
    'Sign in',
    `<p>to continue to <strong>${escapeHtml(input.clientName)}</strong></p>
<form method="post" action="${escapeHtml(input.action)}" id="login">
<label for="username">User name or email</label><input id="username" name="username" autocomplete="username" required maxlength="256" value="${escapeHtml(input.loginHint ?? '')}" ${input.loginHint ? '' : 'autofocus'}>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" ${input.loginHint ? 'autofocus' : ''}>
<button type="submit" id="submit">Sign in</button>
</form>
${errorLine(input.error)}`,
  );
}

export function mfaPage(input: { action: string; mfaTempToken: string; error?: string | undefined }): string {
  return page(
    'Two-step verification',
    `<form method="post" action="${escapeHtml(input.action)}" id="mfa">
<input type="hidden" name="mfaTempToken" value="${escapeHtml(input.mfaTempToken)}">
<label for="otp">Authenticator code or recovery code</label><input id="otp" name="code" autocomplete="one-time-code" required maxlength="64" autofocus>
<button type="submit" id="submit">Verify</button>
</form>
${errorLine(input.error)}`,
  );
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'Your name and user name',
  email: 'Your email address',
  groups: 'The groups you belong to',
  offline_access: 'Stay signed in while you are away',
};

export function consentPage(input: { action: string; clientName: string; scopes: string[] }): string {
  const items = input.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('');
  return page(
    'Allow access',
    `<p><strong>${escapeHtml(input.clientName)}</strong> asks to:</p>
<ul>${items}</ul>
<form method="post" action="${escapeHtml(input.action)}" id="consent">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny" class="secondary">Deny</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<p id="message">${escapeHtml(message)}</p>`);
}
