/**
 * Sessions for the refresh and logout rows, minted through the service layer (the same
 * `issueSession` a login ends with) against the server's own database and master key, in the bench
 * process. Signing in thousands of times through argon2 would take minutes at ~150 logins/s.
 */
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

export interface MintedSession {
  token: string;
  refreshToken: string;
}

export async function mintSessions(env: Record<string, string>, userName: string, count: number): Promise<MintedSession[]> {
  const config = loadConfig({ ...env, PORTCULLIS_LOG_LEVEL: 'silent' });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const app = await buildApp(config, { logStream: sink, announce: () => {} });
  try {
    const s = app.services;
    const user = await s.users.lookup.findByUserName(userName);
    if (!user) throw new Error(`no user ${userName}`);
    const out: MintedSession[] = [];
    const batch = 64;
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      const issued = await Promise.all(
        Array.from({ length: n }, () =>
          s.sessions.issueSession(
            { principal: undefined, ip: '127.0.0.1', requestId: 'bench', userAgent: 'bench', now: new Date() },
            user,
            { method: 'password' },
          ),
        ),
      );
      for (const t of issued) out.push({ token: t.token, refreshToken: t.refreshToken });
    }
    return out;
  } finally {
    await app.close();
  }
}
