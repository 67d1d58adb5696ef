import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoginSites, startLoginSites, USER } from '../helpers/login-sites.js';

/**
 * @see issue 19 — the server is killed (SIGKILL) while a sign-in runs: its Chromium processes exit
 * with it, and the restarted server ends the run as FAILED with a clear reason. `portcullis serve`
 * runs as a child process on its own SQLite file (one process by definition: at start, every run in
 * flight is an orphan).
 */
const CLI = ['--import', 'tsx', 'src/cli/index.ts'];
const ADMIN = { userName: 'runner-admin', email: 'runner-admin@example.test', password: `admin ${randomBytes(9).toString('base64url')}` };
const dir = mkdtempSync(join(tmpdir(), 'portcullis-runner-restart-'));
const masterKey = randomBytes(32).toString('base64');
let sites: LoginSites;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  sites = await startLoginSites();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await sites?.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  return {
    ...inherited,
    NODE_ENV: 'test',
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_PORT: '0',
    PORTCULLIS_DATA_DIR: dir,
    PORTCULLIS_ADMIN_USERNAME: ADMIN.userName,
    PORTCULLIS_ADMIN_EMAIL: ADMIN.email,
    PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
    PORTCULLIS_ARGON2_MEMORY_KIB: '64',
    PORTCULLIS_ARGON2_TIME_COST: '1',
    PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS: '0',
    PORTCULLIS_MASTER_KEY: masterKey,
    PORTCULLIS_RUNNER_ALLOW_PRIVATE_HOSTS: 'true',
    PORTCULLIS_RUNNER_TIMEOUT: '60',
  };
}

async function serve(): Promise<{ url: string; child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, [...CLI, 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return { url, child, exited };
}

/** Live (not zombie) processes descending from `root`, with their command line. */
function descendants(root: number): { pid: number; cmdline: string }[] {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      parent.set(Number(d), Number(fields[1]));
      cmd.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // Gone while read.
    }
  }
  const out: { pid: number; cmdline: string }[] = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        out.push({ pid, cmdline: cmd.get(pid) ?? '' });
        break;
      }
    }
  }
  return out;
}
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a server killed mid-run', () => {
  it('takes its Chromium with it, and the restarted server ends the run as FAILED', async () => {
    const first = await serve();
    const call = async (url: string, method: string, path: string, token: string, json?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) },
        ...(json ? { body: JSON.stringify(json) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const signIn = await fetch(`${first.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.userName, password: ADMIN.password }),
    });
    const token = ((await signIn.json()) as { token: string }).token;
    const login = await call(first.url, 'POST', '/logins/create', token, {
      name: 'slow',
      authenticationUrl: `${sites.url}/slow/login`,
      homeUrl: `${sites.url}/slow/home`,
      loginConfiguration: { username: 'alice-restart', password: USER.password },
    });
    expect(login.status).toBe(200);
    const started = await call(first.url, 'POST', `/logins/${login.body.id}/authenticate`, token);
    expect(started.status).toBe(200);
    const id = started.body.authenticationId as string;

    // The run is in its browser: Chromium processes under the server.
    const browsers = await until(() => {
      const found = descendants(first.child.pid!).filter((p) => p.cmdline.includes('chromium'));
      return found.length > 0 && found.some((p) => p.cmdline.includes('--portcullis-runner=')) ? found : undefined;
    }, 30_000);
    expect(browsers?.length).toBeGreaterThan(0);
    expect((await call(first.url, 'GET', `/authentications/${id}`, token)).body.status).toBe('RUNNING');

    first.child.kill('SIGKILL');
    await first.exited;
    // Chromium's control pipe closed with the server: every one of its processes exits.
    const left = await until(() => (browsers!.some((p) => alive(p.pid)) ? undefined : true), 15_000);
    expect(left, `left: ${browsers!.filter((p) => alive(p.pid)).map((p) => p.pid)}`).toBe(true);

    const second = await serve();
    try {
      const token2 = (
        (await (
          await fetch(`${second.url}/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: ADMIN.userName, password: ADMIN.password }),
          })
        ).json()) as { token: string }
      ).token;
      const after = await call(second.url, 'GET', `/authentications/${id}`, token2);
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ status: 'FAILED', reason: 'The server running this sign-in stopped before it finished.' });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    expect(descendants(second.child.pid!).length).toBe(0);
  }, 180_000);
});
