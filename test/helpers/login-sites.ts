import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import nodemailer from 'nodemailer';
import { TOTP } from 'otpauth';

/**
 * Sign-in pages the vault's login runner is tested against, served on loopback: a plain form, a
 * two-step form, a form in an iframe, a CSRF-token form with its button outside the form, TOTP,
 * emailed code (mailed through real SMTP), SMS code, and a slow site. Each site signs `USER` in with
 * a session cookie and serves `/<site>/home` only to a signed-in browser.
 */
export const USER = { username: 'alice', email: 'alice@example.test', password: 'Sup3r-s3cret-pw!' };
export const TOTP_SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

export interface LoginSites {
  url: string;
  /** Password submissions seen per site (a retry storm would show here). */
  attempts: Map<string, number>;
  /** The last SMS code "sent" by the sms site. */
  lastSmsCode(): string | undefined;
  /** Where the email site mails its codes (the vault's inbound SMTP listener). */
  setMailTarget(target: { port: number; to: string }): void;
  close(): Promise<void>;
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(/;\s*/)) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export async function startLoginSites(): Promise<LoginSites> {
  const sessions = new Map<string, { site: string; stage: 'pending' | 'done'; code?: string }>();
  const attempts = new Map<string, number>();
  let smsCode: string | undefined;
  let mailTarget: { port: number; to: string } | undefined;
  const totp = new TOTP({ secret: TOTP_SEED });

  const send = (res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(html);
  };
  const redirect = (res: ServerResponse, to: string, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(303, { location: to, ...headers });
    res.end();
  };
  const newSession = (site: string, stage: 'pending' | 'done', code?: string) => {
    const sid = randomBytes(12).toString('hex');
    sessions.set(sid, { site, stage, ...(code ? { code } : {}) });
    return sid;
  };
  const sessionOf = (req: IncomingMessage, site: string) => {
    const s = sessions.get(cookies(req)[`sid_${site}`] ?? '');
    return s && s.site === site ? s : undefined;
  };
  const setSid = (site: string, sid: string) => `sid_${site}=${sid}; Path=/${site}; HttpOnly; SameSite=Lax`;
  // Any `alice-<tag>` (and `alice-<tag>@example.test`) is Alice: each test's login needs its own identifier in the vault.
  const credentialsOk = (id: string | null, pw: string | null) =>
    /^alice(-[\w-]+)?(@example\.test)?$/.test(id ?? '') && pw === USER.password;
  const count = (site: string) => attempts.set(site, (attempts.get(site) ?? 0) + 1);

  const passwordForm = (site: string, error = '', extra = '') =>
    page(
      `${site} sign in`,
      `<h1>Sign in</h1>${error ? `<div role="alert" class="error">${error}</div>` : ''}
      <form method="post" action="/${site}/login">${extra}
        <label for="u">Username or email</label><input id="u" name="username" autocomplete="username">
        <label for="p">Password</label><input id="p" name="password" type="password" autocomplete="current-password">
        <button type="submit">Sign in</button>
      </form>`,
    );
  const codeForm = (site: string, error = '') =>
    page(
      `${site} verification`,
      `<h1>Enter your verification code</h1>${error ? `<div role="alert">${error}</div>` : ''}
      <form method="post" action="/${site}/code">
        <label for="c">Verification code</label><input id="c" name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="6">
        <button type="submit">Verify</button>
      </form>`,
    );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, site = '', action = ''] = url.pathname.split('/');
    const post = req.method === 'POST';

    if (action === 'home') {
      const s = sessionOf(req, site);
      if (s?.stage === 'done') return send(res, 200, page('Home', `<h1 id="welcome">Welcome, ${USER.username}</h1>`));
      return redirect(res, `/${site}/login`);
    }

    switch (site) {
      case 'plain':
      case 'totp':
      case 'email':
      case 'sms': {
        if (action === 'login' && !post) return send(res, 200, passwordForm(site));
        if (action === 'login' && post) {
          count(site);
          const body = await readBody(req);
          if (!credentialsOk(body.get('username'), body.get('password'))) {
            return send(res, 200, passwordForm(site, 'Invalid username or password.'));
          }
          if (site === 'plain') return redirect(res, `/${site}/home`, { 'set-cookie': setSid(site, newSession(site, 'done')) });
          let code: string | undefined;
          if (site === 'sms') {
            code = String(100000 + Math.floor(Math.random() * 900000));
            smsCode = code;
          }
          if (site === 'email') {
            code = String(100000 + Math.floor(Math.random() * 900000));
            if (mailTarget) {
              const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mailTarget.port, secure: false, ignoreTLS: true });
              await transport.sendMail({
                from: 'no-reply@fixture.test',
                to: mailTarget.to,
                subject: 'Your sign-in code',
                text: `Your verification code is ${code}. It expires in 10 minutes.`,
              });
              transport.close();
            }
          }
          return redirect(res, `/${site}/code`, { 'set-cookie': setSid(site, newSession(site, 'pending', code)) });
        }
        if (action === 'code') {
          const s = sessionOf(req, site);
          if (!s) return redirect(res, `/${site}/login`);
          if (!post) return send(res, 200, codeForm(site));
          const given = (await readBody(req)).get('otp') ?? '';
          const ok = site === 'totp' ? totp.validate({ token: given, window: 1 }) !== null : given === s.code;
          if (!ok) return send(res, 200, codeForm(site, 'That code is not right.'));
          s.stage = 'done';
          return redirect(res, `/${site}/home`);
        }
        break;
      }
      case 'two-step': {
        if (action === 'login' && !post) {
          return send(
            res,
            200,
            page(
              'Sign in',
              `<form method="post" action="/two-step/login"><label>Email address <input type="email" name="identifier"></label><button>Next</button></form>`,
            ),
          );
        }
        if (action === 'login' && post) {
          const id = (await readBody(req)).get('identifier');
          return redirect(res, `/two-step/password?u=${encodeURIComponent(id ?? '')}`);
        }
        if (action === 'password' && !post) {
          const u = url.searchParams.get('u') ?? '';
          return send(
            res,
            200,
            page(
              'Password',
              `<p>Signing in as ${u.replace(/[<>&"]/g, '')}</p><form method="post" action="/two-step/password"><input type="hidden" name="u" value="${u.replace(/[<>&"]/g, '')}"><input type="password" name="pw" placeholder="Password"><button>Sign in</button></form>`,
            ),
          );
        }
        if (action === 'password' && post) {
          count(site);
          const body = await readBody(req);
          if (!credentialsOk(body.get('u'), body.get('pw'))) return redirect(res, '/two-step/login');
          return redirect(res, '/two-step/home', { 'set-cookie': setSid(site, newSession(site, 'done')) });
        }
        break;
      }
      case 'iframe': {
        if (action === 'login')
          return send(res, 200, page('Portal', `<h1>Portal</h1><iframe src="/iframe/frame" width="600" height="400"></iframe>`));
        if (action === 'frame' && !post) {
          return send(
            res,
            200,
            page(
              'frame',
              `<form method="post" action="/iframe/frame" target="_top"><input name="user" placeholder="User name"><input type="password" name="pass"><input type="submit" value="Log in"></form>`,
            ),
          );
        }
        if (action === 'frame' && post) {
          count(site);
          const body = await readBody(req);
          if (!credentialsOk(body.get('user'), body.get('pass'))) return redirect(res, '/iframe/login');
          return redirect(res, '/iframe/home', { 'set-cookie': setSid(site, newSession(site, 'done')) });
        }
        break;
      }
      case 'csrf': {
        if (action === 'login' && !post) {
          const token = randomBytes(16).toString('hex');
          return send(
            res,
            200,
            page(
              'Sign in',
              `<form id="signin" method="post" action="/csrf/login"><input type="hidden" name="csrf_token" value="${token}">
               <input type="email" id="login-email" aria-label="Email"><input type="password" id="login-password"></form>
               <script>document.getElementById('signin').addEventListener('submit', (e) => {
                 const f = e.target; f.querySelector('#login-email').name = 'email'; f.querySelector('#login-password').name = 'password';
               });</script>
               <div class="actions"><button type="submit" form="signin">Continue</button></div>`,
            ),
            { 'set-cookie': `csrf=${token}; Path=/csrf; HttpOnly; SameSite=Strict` },
          );
        }
        if (action === 'login' && post) {
          count(site);
          const body = await readBody(req);
          if (!body.get('csrf_token') || body.get('csrf_token') !== cookies(req).csrf)
            return send(res, 403, page('Forbidden', '<p>CSRF check failed</p>'));
          if (!credentialsOk(body.get('email'), body.get('password'))) return redirect(res, '/csrf/login');
          return redirect(res, '/csrf/home', { 'set-cookie': setSid(site, newSession(site, 'done')) });
        }
        break;
      }
      case 'slow': {
        // Never answers: the run's deadline must end it.
        if (action === 'login') return;
        break;
      }
    }
    send(res, 404, page('Not found', '<p>Not found</p>'));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, page('Error', 'error'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    lastSmsCode: () => smsCode,
    setMailTarget(target) {
      mailTarget = target;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
