import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { BrowserContext } from 'playwright-core';
import type { AuditService } from '../../audit/index.js';
import { can, inOrganization, type Principal, type RequestContext } from '../../auth/index.js';
import type { Config } from '../../config/index.js';
import { newId } from '../../crypto/index.js';
import { AppError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { VaultService } from '../vault.service.js';
import { browserAvailable, launchLiveBrowser } from './browser.js';
import { createOutboundCheck, guardContext } from './outbound.js';
import type { RunnerService } from './runner.service.js';

export type LiveConfig = Pick<
  Config,
  'chromiumPath' | 'runnerAllowPrivateHosts' | 'browserSessionTtlSeconds' | 'browserSessionIdleSeconds' | 'browserSessionLimit'
>;

export interface LiveDeps {
  vault: VaultService['runnerAccess'];
  runner: Pick<RunnerService, 'signInOn' | 'instanceId'>;
  audit: AuditService;
  log: Logger;
  config: LiveConfig;
}

export type LiveStatus = 'READY' | 'AWAITING_MANUAL_LOGIN' | 'CLOSED';

interface LiveSession {
  id: string;
  organizationId: string;
  loginId: string;
  status: LiveStatus;
  context: BrowserContext;
  userDataDir: string;
  /** Chromium's own DevTools endpoint on loopback (`ws://127.0.0.1:<port>/devtools/browser/<id>`). */
  devtools: { port: number; path: string };
  createdAt: Date;
  expiresAt: Date;
  idleSeconds: number;
  usedStoredSession: boolean;
  clients: Set<Duplex>;
  idleTimer?: NodeJS.Timeout;
  ttlTimer: NodeJS.Timeout;
  closing?: Promise<void>;
}

export interface LiveSessionView {
  id: string;
  contextAuthenticationId: string;
  loginId: string;
  status: LiveStatus;
  /** Path of the CDP WebSocket on this server; the route makes it a `ws(s)://` URL. */
  cdpPath: string;
  usedStoredSession: boolean;
  createdAt: string;
  expiresAt: string;
}

const CDP_PATH = /^\/browser-sessions\/([A-Za-z0-9-]{1,64})\/cdp\/?(?:\?.*)?$/;

/**
 * Live browser sessions: a signed-in Chromium kept open (TTL, idle timeout) and reachable over CDP
 * through Portcullis itself. Chromium's DevTools port listens on loopback only; a client reaches it
 * through `GET /browser-sessions/{id}/cdp` (a WebSocket upgrade authenticated by the caller's key and
 * allowed by the policy), which this process pipes to that port. In-memory: a session lives on the
 * instance that opened it.
 */
export function createLiveSessions(deps: LiveDeps) {
  const { vault, runner, audit, log, config } = deps;
  const sessions = new Map<string, LiveSession>();

  const view = (s: LiveSession): LiveSessionView => ({
    id: s.id,
    contextAuthenticationId: s.id,
    loginId: s.loginId,
    status: s.status,
    cdpPath: `/browser-sessions/${s.id}/cdp`,
    usedStoredSession: s.usedStoredSession,
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
  });

  async function close(s: LiveSession, why: string, ctx?: RequestContext): Promise<void> {
    if (s.closing) return s.closing;
    s.closing = (async () => {
      s.status = 'CLOSED';
      sessions.delete(s.id);
      clearTimeout(s.ttlTimer);
      if (s.idleTimer) clearTimeout(s.idleTimer);
      for (const c of s.clients) c.destroy();
      await s.context.close().catch(() => {});
      await rm(s.userDataDir, { recursive: true, force: true }).catch(() => {});
      await audit
        .record(ctx, {
          action: 'login.browser_session_closed',
          organizationId: s.organizationId,
          targetType: 'login',
          targetId: s.loginId,
          ...(ctx ? {} : { actor: { type: 'runner', id: null } }),
          data: { browserSessionId: s.id, reason: why },
        })
        .catch(() => {});
    })();
    return s.closing;
  }

  function armIdle(s: LiveSession): void {
    if (s.idleTimer) clearTimeout(s.idleTimer);
    if (s.clients.size > 0) return;
    s.idleTimer = setTimeout(() => void close(s, 'idle'), s.idleSeconds * 1000);
    s.idleTimer.unref();
  }

  function sessionOf(ctx: RequestContext, id: string): LiveSession {
    const organizationId = vault.organizationOf(ctx, 'vault.browse');
    const s = sessions.get(id);
    if (!s || s.organizationId !== organizationId) throw new AppError('resource.not_found', { detail: 'no such browser session' });
    return s;
  }

  /** Refuses an upgrade with a bare HTTP status (the socket is not a Fastify request). */
  function refuse(socket: Duplex, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  return {
    /** `POST /logins/{id}/browser-sessions`: opens Chromium, signs it in (or waits for a person), keeps it open. */
    async open(
      ctx: RequestContext,
      loginId: string,
      options: { ttlSeconds?: number | undefined; idleTimeoutSeconds?: number | undefined },
    ) {
      const organizationId = vault.organizationOf(ctx, 'vault.browse');
      const login = await vault.findLogin(organizationId, loginId);
      if (!login) throw new AppError('resource.not_found', { detail: 'no such login in the organization' });
      if (!(await browserAvailable(config.chromiumPath))) throw new AppError('vault.browser_unavailable');
      if (sessions.size >= config.browserSessionLimit) throw new AppError('vault.runner_busy', { detail: 'live session limit' });
      const secrets = await vault.secrets(login);
      const id = newId();
      const userDataDir = await mkdtemp(join(tmpdir(), 'portcullis-live-'));
      let context: BrowserContext | undefined;
      try {
        const proxy =
          login.hasProxy && login.proxyServer
            ? {
                server: login.proxyServer,
                ...(login.proxyUsername ? { username: login.proxyUsername } : {}),
                ...(secrets.proxyPassword ? { password: secrets.proxyPassword.unwrap() } : {}),
              }
            : undefined;
        context = await launchLiveBrowser(config.chromiumPath, runner.instanceId, userDataDir, proxy);
        await guardContext(context, createOutboundCheck(config.runnerAllowPrivateHosts), () => {});
        const [port, path] = (await readFile(join(userDataDir, 'DevToolsActivePort'), 'utf8')).split('\n');
        const page = context.pages()[0] ?? (await context.newPage());
        let status: LiveStatus = 'READY';
        let usedStoredSession = false;
        if (login.isManualAuthentication === 1) {
          // A person signs in through the CDP connection; `completeLogin` then saves the state.
          await page.goto(login.authenticationUrl, { waitUntil: 'domcontentloaded' });
          status = 'AWAITING_MANUAL_LOGIN';
        } else {
          const outcome = await runner.signInOn(login, context, page, new AbortController().signal, () => {});
          if (!outcome.ok) throw new AppError('vault.sign_in_failed', { message: outcome.reason, detail: 'live session sign-in failed' });
          usedStoredSession = outcome.usedStoredSession;
          if (login.persistSession === 1 && !usedStoredSession) {
            await vault.saveSession(undefined, login, JSON.stringify(await context.storageState()), 'browser-session');
          }
        }
        const ttl = Math.min(options.ttlSeconds ?? config.browserSessionTtlSeconds, config.browserSessionTtlSeconds);
        const now = new Date();
        const s: LiveSession = {
          id,
          organizationId,
          loginId,
          status,
          context,
          userDataDir,
          devtools: { port: Number(port), path: (path ?? '').trim() },
          createdAt: now,
          expiresAt: new Date(now.getTime() + ttl * 1000),
          idleSeconds: Math.min(options.idleTimeoutSeconds ?? config.browserSessionIdleSeconds, config.browserSessionIdleSeconds),
          usedStoredSession,
          clients: new Set(),
          ttlTimer: setTimeout(() => void close(s, 'expired'), ttl * 1000),
        };
        s.ttlTimer.unref();
        // Chromium gone (crash, killed): the session is too.
        context.on('close', () => void close(s, 'browser closed'));
        sessions.set(id, s);
        armIdle(s);
        await audit.record(ctx, {
          action: 'login.browser_session_opened',
          organizationId,
          targetType: 'login',
          targetId: loginId,
          data: { browserSessionId: id, usedStoredSession, manual: status === 'AWAITING_MANUAL_LOGIN' },
        });
        return view(s);
      } catch (err) {
        await context?.close().catch(() => {});
        await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
        if (err instanceof AppError) throw err;
        log.warn({ err: err instanceof Error ? err.name : 'unknown' }, 'live browser session failed to open');
        throw new AppError('vault.sign_in_failed', { detail: 'browser error while opening a live session' });
      }
    },

    get(ctx: RequestContext, id: string): LiveSessionView {
      return view(sessionOf(ctx, id));
    },

    async close(ctx: RequestContext, id: string): Promise<void> {
      await close(sessionOf(ctx, id), 'closed by the caller', ctx);
    },

    /** Kaizen's `completeLogin`: a person finished signing in through the live session; its state is saved. */
    async complete(ctx: RequestContext, id: string): Promise<{ success: boolean; message: string }> {
      const s = sessionOf(ctx, id);
      const login = await vault.findLogin(s.organizationId, s.loginId);
      if (!login) throw new AppError('resource.not_found', { detail: 'login deleted' });
      if (login.persistSession !== 1) throw new AppError('vault.session_not_persisted');
      await vault.saveSession(ctx, login, JSON.stringify(await s.context.storageState()), 'completeLogin');
      s.status = 'READY';
      return { success: true, message: 'The browser session was saved.' };
    },

    /**
     * Serves `GET /browser-sessions/{id}/cdp` upgrades on the HTTP server: the caller's API key, the
     * policy (`vault.browse` in the session's organization), then a byte pipe to Chromium's
     * DevTools WebSocket. The caller's credentials are not forwarded.
     */
    attach(server: Server, authenticate: (headers: IncomingMessage['headers']) => Promise<Principal | undefined>): void {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const m = CDP_PATH.exec(req.url ?? '');
        if (!m) return refuse(socket, 404, 'Not Found');
        void (async () => {
          const principal = await authenticate(req.headers);
          if (!principal) return refuse(socket, 401, 'Unauthorized');
          const s = sessions.get(m[1] as string);
          if (
            !s ||
            !can(principal, 'vault.browse', inOrganization(s.organizationId)).allow ||
            principal.organizationId !== s.organizationId
          ) {
            // Another organization's session answers like one that does not exist.
            return refuse(socket, s && principal.organizationId === s.organizationId ? 403 : 404, 'Refused');
          }
          const upstream: Socket = connect(s.devtools.port, '127.0.0.1');
          upstream.once('connect', () => {
            const lines = [`GET ${s.devtools.path} HTTP/1.1`, `Host: 127.0.0.1:${s.devtools.port}`];
            for (const [name, value] of Object.entries(req.headers)) {
              // Only the WebSocket handshake goes on: never the caller's credentials, cookies or Origin.
              if (!/^(upgrade|connection|sec-websocket-key|sec-websocket-version|sec-websocket-protocol)$/i.test(name)) continue;
              for (const v of Array.isArray(value) ? value : [value ?? '']) lines.push(`${name}: ${v}`);
            }
            upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
            if (head.length > 0) upstream.write(head);
            socket.pipe(upstream).pipe(socket);
            s.clients.add(socket);
            armIdle(s);
            void audit
              .record(undefined, {
                action: 'login.browser_session_connected',
                organizationId: s.organizationId,
                targetType: 'login',
                targetId: s.loginId,
                actor:
                  principal.kind === 'api_key'
                    ? { type: 'api_key', id: String(principal.apiKeyId) }
                    : { type: 'user', id: principal.userId },
                data: { browserSessionId: s.id },
              })
              .catch(() => {});
          });
          const done = () => {
            upstream.destroy();
            socket.destroy();
            if (s.clients.delete(socket)) armIdle(s);
          };
          upstream.on('error', done);
          upstream.on('close', done);
          socket.on('error', done);
          socket.on('close', done);
        })().catch(() => socket.destroy());
      });
    },

    /** Closes every live session (server shutdown). */
    async closeAll(): Promise<void> {
      await Promise.all([...sessions.values()].map((s) => close(s, 'server stopping')));
    },
  };
}
export type LiveSessions = ReturnType<typeof createLiveSessions>;
