import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { AuditService } from '../../audit/index.js';
import type { RequestContext } from '../../auth/index.js';
import type { Config } from '../../config/index.js';
import { currentTotpCode, newId, type Secret } from '../../crypto/index.js';
import { AppError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { SharedState } from '../../state/index.js';
import type { LoginRow } from '../vault.repo.js';
import type { VaultService } from '../vault.service.js';
import { browserAvailable, launchBrowser, type ProxySettings } from './browser.js';
import { createOutboundCheck, guardContext } from './outbound.js';
import { IN_FLIGHT, type RunRow, type RunStatus, type RunsRepo } from './runner.repo.js';
import { type SelectorOverrides, signedIn, signIn } from './signin.js';

export type RunnerConfig = Pick<
  Config,
  | 'chromiumPath'
  | 'runnerConcurrency'
  | 'runnerQueueLimit'
  | 'runnerTimeoutSeconds'
  | 'runnerAllowPrivateHosts'
  | 'runnerScreenshotTtlSeconds'
>;

export interface RunnerDeps {
  repo: RunsRepo;
  vault: VaultService['runnerAccess'];
  audit: AuditService;
  state: SharedState;
  log: Logger;
  config: RunnerConfig;
  /** SQLite is one process: at start, every run left in flight belongs to a process that is gone. */
  dialect: 'sqlite' | 'postgres';
}

export interface RunStep {
  at: string;
  step: string;
  detail?: string;
}

/** The public view of a run. */
export interface AuthenticationView {
  authenticationId: string;
  loginId: string;
  status: RunStatus;
  steps: RunStep[];
  reason: string | null;
  usedStoredSession: boolean;
  hasScreenshot: boolean;
  screenshotExpiresAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface ActiveRun {
  id: string;
  organizationId: string;
  loginId: string;
  /** Who asked: the audit actor of the run's outcome. */
  ctx: RequestContext;
  timeoutSeconds: number;
  abort: AbortController;
  /** Set while AWAITING_CODE: hands a pushed code to the run. */
  deliverCode?: (code: string) => void;
}

const RUNNER_CHANNEL = 'vault.runner';
type RunnerMessage = { type: 'cancel'; runId: string } | { type: 'code'; runId: string; organizationId: string; sealed: string };

const CODE_FIELD = 'pushedCode';
const SCREENSHOT_FIELD = 'screenshot';

export function present(row: RunRow): AuthenticationView {
  return {
    authenticationId: row.id,
    loginId: row.loginId,
    status: row.status as RunStatus,
    steps: JSON.parse(row.steps) as RunStep[],
    reason: row.reason,
    usedStoredSession: row.usedStoredSession === 1,
    hasScreenshot: row.screenshotSealed !== null,
    screenshotExpiresAt: row.screenshotExpiresAt,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** The login's proxy for Playwright (its password opened only here). */
function proxyOf(login: LoginRow, password: Secret | undefined): ProxySettings | undefined {
  if (!login.hasProxy || !login.proxyServer) return undefined;
  return {
    server: login.proxyServer,
    ...(login.proxyUsername ? { username: login.proxyUsername } : {}),
    ...(password ? { password: password.unwrap() } : {}),
  };
}

/**
 * The vault's login runner: a bounded pool of headless-Chromium sign-ins. Runs are rows in
 * `vault_runs`; the pool, the browsers and the code hand-offs live in this process. A pushed code or
 * a cancel reaches the instance running the sign-in through the shared-state channel (codes sealed).
 */
export function createRunnerService(deps: RunnerDeps) {
  const { repo, vault, audit, state, log, config } = deps;
  const instanceId = newId();
  const queue: ActiveRun[] = [];
  const running = new Map<string, ActiveRun>();
  const browsers = new Set<Browser>();
  let closed = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  const durations = new Histogram({
    name: 'portcullis_runner_run_duration_seconds',
    help: 'Duration of login runner sign-ins (queue wait excluded), by outcome',
    labelNames: ['status'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 45, 90, 180],
    registers: [],
  });

  async function audited(run: ActiveRun, action: Parameters<AuditService['record']>[1]['action'], data?: Record<string, unknown>) {
    await audit.record(run.ctx, {
      action,
      organizationId: run.organizationId,
      targetType: 'login',
      targetId: run.loginId,
      ...(action === 'login.authentication_failed' ? { outcome: 'failure' as const } : {}),
      data: { authenticationId: run.id, ...(data ?? {}) },
    });
  }

  /** Writes the run's steps and status as they change (one write at a time per run). */
  function recorder(run: ActiveRun) {
    const steps: RunStep[] = [];
    let chain: Promise<unknown> = Promise.resolve();
    const write = (patch: Parameters<RunsRepo['updateInFlight']>[1]) => {
      chain = chain.then(() => repo.updateInFlight(run.id, { steps: JSON.stringify(steps), ...patch })).catch(() => {});
      return chain;
    };
    return {
      step(step: string, detail?: string) {
        steps.push({ at: new Date().toISOString(), step, ...(detail ? { detail } : {}) });
        void write({});
      },
      status: (status: RunStatus) => write({ status }),
      flush: () => chain,
      steps,
    };
  }

  async function codeFor(
    run: Pick<ActiveRun, 'abort' | 'deliverCode'>,
    login: LoginRow,
    rec: Pick<ReturnType<typeof recorder>, 'step' | 'status'>,
    secrets: Awaited<ReturnType<typeof vault.secrets>>,
    since: string,
    deadline: number,
    allowPush = true,
  ) {
    const method = login.twoFactorMethod;
    if (secrets.totp && (method === 'TOTP' || method === null || method === 'None')) {
      let at = new Date();
      let current = currentTotpCode(secrets.totp, at);
      // A code with under 5 s left may expire before the site checks it: wait for the next one.
      const left = current.expiresAt.getTime() - at.getTime();
      if (left < 5000) {
        rec.step('totp_wait_next', `${Math.ceil(left / 1000)} s left`);
        await new Promise((r) => setTimeout(r, left + 50));
        at = new Date();
        current = currentTotpCode(secrets.totp, at);
      }
      rec.step('totp_generated');
      return current.code;
    }
    if (method === 'Email' && login.twoFactorEmail) {
      rec.step('email_code_wait');
      const code = await vault.awaitEmailCode(login, since, deadline, run.abort.signal);
      rec.step(code ? 'email_code_received' : 'email_code_missing');
      return code;
    }
    // SMS or any other channel: the caller pushes the code while the run waits for it.
    if (!allowPush) {
      rec.step('code_unavailable', method ?? undefined);
      return undefined;
    }
    await rec.status('AWAITING_CODE');
    rec.step('awaiting_code', method ?? undefined);
    const code = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
      const onAbort = () => resolve(undefined);
      run.abort.signal.addEventListener('abort', onAbort, { once: true });
      run.deliverCode = (c) => {
        clearTimeout(timer);
        run.abort.signal.removeEventListener('abort', onAbort);
        resolve(c);
      };
    });
    run.deliverCode = undefined;
    if (code !== undefined) {
      await rec.status('RUNNING');
      rec.step('code_received');
    }
    return code;
  }

  async function screenshotOf(page: Page | undefined, run: ActiveRun): Promise<{ sealed: string; expiresAt: string } | undefined> {
    if (!page || page.isClosed()) return undefined;
    try {
      const png = await page.screenshot({ type: 'png', timeout: 3000 });
      const cipher = await vault.cipher(run.organizationId);
      return {
        sealed: cipher.seal(run.id, SCREENSHOT_FIELD, png.toString('base64')),
        expiresAt: new Date(Date.now() + config.runnerScreenshotTtlSeconds * 1000).toISOString(),
      };
    } catch {
      return undefined;
    }
  }

  async function execute(run: ActiveRun): Promise<void> {
    const started = Date.now();
    const deadline = started + run.timeoutSeconds * 1000;
    const rec = recorder(run);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      run.abort.abort();
    }, run.timeoutSeconds * 1000);
    let browser: Browser | undefined;
    let page: Page | undefined;
    let status: RunStatus = 'FAILED';
    let reason: string | null = null;
    let usedStoredSession = false;
    let shot: { sealed: string; expiresAt: string } | undefined;
    try {
      await repo.updateInFlight(run.id, { status: 'RUNNING', startedAt: new Date().toISOString() });
      const login = await vault.findLogin(run.organizationId, run.loginId);
      if (!login) throw new RunError('The login was deleted.');
      const secrets = await vault.secrets(login);
      const selectors: SelectorOverrides = login.selectors ? (JSON.parse(login.selectors) as SelectorOverrides) : {};
      rec.step('browser_start');
      browser = await launchBrowser(config.chromiumPath, instanceId, proxyOf(login, secrets.proxyPassword));
      browsers.add(browser);
      if (run.abort.signal.aborted) throw new RunAborted();
      const allowed = createOutboundCheck(config.runnerAllowPrivateHosts);
      const blocked = (host: string) => rec.step('request_blocked', host);
      const newContext = async (storageState?: string): Promise<BrowserContext> => {
        const context = await browser!.newContext({
          serviceWorkers: 'block',
          ...(storageState
            ? { storageState: JSON.parse(storageState) as Exclude<Parameters<Browser['newContext']>[0], undefined>['storageState'] }
            : {}),
        });
        context.setDefaultTimeout(Math.max(1000, Math.min(15_000, deadline - Date.now())));
        context.setDefaultNavigationTimeout(Math.max(1000, deadline - Date.now()));
        await guardContext(context, allowed, blocked);
        return context;
      };
      const whenAborted = new Promise<never>((_, reject) => {
        if (run.abort.signal.aborted) reject(new RunAborted());
        run.abort.signal.addEventListener('abort', () => reject(new RunAborted()), { once: true });
      });
      whenAborted.catch(() => {});

      let context: BrowserContext | undefined;
      // A stored session first: reaching the home URL with it means no new sign-in.
      if (login.persistSession === 1 && secrets.sessionState) {
        rec.step('stored_session_try');
        context = await newContext(secrets.sessionState.unwrap());
        page = await context.newPage();
        await Promise.race([page.goto(login.homeUrl, { waitUntil: 'domcontentloaded' }), whenAborted]);
        await Promise.race([page.waitForLoadState('load', { timeout: 3000 }).catch(() => {}), whenAborted]);
        if (await signedIn(page, login.homeUrl, selectors)) {
          usedStoredSession = true;
          rec.step('stored_session_valid');
        } else {
          rec.step('stored_session_stale');
          await context.close();
          context = undefined;
        }
      }
      if (!usedStoredSession) {
        context = await newContext();
        page = await context.newPage();
        let codeSince = new Date(Date.now() - 1000).toISOString();
        const outcome = await Promise.race([
          signIn(page, {
            authenticationUrl: login.authenticationUrl,
            homeUrl: login.homeUrl,
            identifiers: { username: login.username, email: login.email, phone: login.phone },
            password: secrets.password,
            selectors,
            signal: run.abort.signal,
            step: rec.step,
            beforeCredentialsSubmitted() {
              codeSince = new Date(Date.now() - 1000).toISOString();
            },
            code: () => codeFor(run, login, rec, secrets, codeSince, deadline),
          }),
          whenAborted,
        ]);
        if (!outcome.ok) {
          if (outcome.kind === 'aborted') throw new RunAborted();
          throw new RunError(outcome.reason);
        }
      }
      rec.step('signed_in');
      if (login.persistSession === 1 && context) {
        await vault.saveSession(undefined, login, JSON.stringify(await context.storageState()), 'runner');
        rec.step('session_stored');
      }
      status = 'SUCCEEDED';
    } catch (err) {
      if (err instanceof RunAborted || run.abort.signal.aborted) {
        status = timedOut ? 'FAILED' : 'CANCELLED';
        reason = timedOut ? `The sign-in did not finish within ${run.timeoutSeconds} s.` : 'Cancelled by the caller.';
        if (closed && !timedOut) {
          status = 'FAILED';
          reason = 'The server stopped while this sign-in was in progress.';
        }
      } else if (err instanceof RunError) {
        reason = err.message;
      } else {
        // Why generic: a browser error message can quote the page (and what was typed into it).
        reason = 'The browser failed during the sign-in.';
        log.warn({ err: err instanceof Error ? err.name : 'unknown', authenticationId: run.id }, 'login runner error');
      }
      if (status === 'FAILED') shot = await screenshotOf(page, run);
    } finally {
      clearTimeout(timer);
      if (browser) {
        browsers.delete(browser);
        await browser.close().catch(() => {});
      }
    }
    await rec.flush();
    const finishedAt = new Date().toISOString();
    await repo.updateInFlight(run.id, {
      status,
      reason,
      steps: JSON.stringify(rec.steps),
      finishedAt,
      usedStoredSession: usedStoredSession ? 1 : 0,
      ...(shot ? { screenshotSealed: shot.sealed, screenshotExpiresAt: shot.expiresAt } : {}),
    });
    durations.observe({ status }, (Date.now() - started) / 1000);
    await audited(
      run,
      status === 'SUCCEEDED'
        ? 'login.authentication_succeeded'
        : status === 'CANCELLED'
          ? 'login.authentication_cancelled'
          : 'login.authentication_failed',
      status === 'SUCCEEDED' ? { usedStoredSession } : { reason },
    ).catch(() => {});
  }

  function pump(): void {
    while (!closed && running.size < config.runnerConcurrency && queue.length > 0) {
      const run = queue.shift() as ActiveRun;
      running.set(run.id, run);
      void execute(run)
        .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.name : 'unknown' }, 'login runner run crashed'))
        .finally(() => {
          running.delete(run.id);
          pump();
        });
    }
  }

  function localRun(id: string): ActiveRun | undefined {
    return running.get(id) ?? queue.find((r) => r.id === id);
  }

  async function onMessage(raw: string): Promise<void> {
    let msg: RunnerMessage;
    try {
      msg = JSON.parse(raw) as RunnerMessage;
    } catch {
      return;
    }
    const run = localRun(msg.runId);
    if (!run) return;
    if (msg.type === 'cancel') return cancelLocal(run);
    if (msg.type === 'code' && run.deliverCode && msg.organizationId === run.organizationId) {
      const cipher = await vault.cipher(run.organizationId);
      run.deliverCode(cipher.open(run.id, CODE_FIELD, msg.sealed).unwrap());
    }
  }

  async function cancelLocal(run: ActiveRun): Promise<void> {
    const i = queue.indexOf(run);
    if (i >= 0) {
      queue.splice(i, 1);
      await repo.updateInFlight(run.id, { status: 'CANCELLED', reason: 'Cancelled by the caller.', finishedAt: new Date().toISOString() });
      await audited(run, 'login.authentication_cancelled', { reason: 'cancelled while queued' });
      return;
    }
    run.abort.abort();
  }

  async function runOf(ctx: RequestContext, id: string): Promise<RunRow> {
    const organizationId = vault.organizationOf(ctx, 'vault.authenticate');
    const row = await repo.findById(organizationId, id);
    if (!row) throw new AppError('resource.not_found', { detail: 'no such authentication in the organization' });
    return row;
  }

  async function assertBrowser(): Promise<void> {
    if (!(await browserAvailable(config.chromiumPath))) {
      throw new AppError('vault.browser_unavailable', { detail: `no executable at ${config.chromiumPath}` });
    }
  }

  return {
    instanceId,

    /** Ends the runs a stopped process left in flight; subscribes to cancels and pushed codes. */
    async start(): Promise<void> {
      const at = new Date().toISOString();
      const reason = 'The server running this sign-in stopped before it finished.';
      // SQLite is one process, so every run in flight is an orphan; on PostgreSQL other instances may be
      // running theirs: only runs older than any run can live are theirs to end.
      const horizon = () => new Date(Date.now() - (config.runnerTimeoutSeconds + 600) * 1000).toISOString();
      const ended = await repo.failAbandoned(instanceId, reason, at, deps.dialect === 'sqlite' ? undefined : horizon());
      if (ended > 0) log.warn({ runs: ended }, 'login runner: ended runs left in flight by a stopped server');
      unsubscribe = await state.subscribe(RUNNER_CHANNEL, (m) => void onMessage(m).catch(() => {}));
      sweeper = setInterval(() => {
        const now = new Date().toISOString();
        void repo.dropExpiredScreenshots(now).catch(() => {});
        if (deps.dialect === 'postgres') void repo.failAbandoned(instanceId, reason, now, horizon()).catch(() => {});
      }, 60_000);
      sweeper.unref();
    },

    /** `POST /logins/{id}/authenticate`: queues a sign-in and answers at once. */
    async authenticate(
      ctx: RequestContext,
      loginId: string,
      options: { timeoutSeconds?: number | undefined } = {},
    ): Promise<{ authenticationId: string; status: RunStatus }> {
      const organizationId = vault.organizationOf(ctx, 'vault.authenticate');
      const login = await vault.findLogin(organizationId, loginId);
      if (!login) throw new AppError('resource.not_found', { detail: 'no such login in the organization' });
      if (login.isManualAuthentication === 1) throw new AppError('vault.manual_authentication');
      await assertBrowser();
      if (closed) throw new AppError('service.unavailable', { detail: 'runner closing' });
      if (queue.length >= config.runnerQueueLimit && running.size >= config.runnerConcurrency) {
        throw new AppError('vault.runner_busy', { detail: `queue full (${queue.length})` });
      }
      const timeoutSeconds = Math.min(options.timeoutSeconds ?? config.runnerTimeoutSeconds, config.runnerTimeoutSeconds);
      const run: ActiveRun = { id: newId(), organizationId, loginId, ctx, abort: new AbortController(), timeoutSeconds };
      const now = new Date().toISOString();
      await repo.insert({
        id: run.id,
        organizationId,
        loginId,
        status: 'QUEUED',
        steps: '[]',
        reason: null,
        screenshotSealed: null,
        screenshotExpiresAt: null,
        usedStoredSession: 0,
        instanceId,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
      });
      await audited(run, 'login.authentication_started');
      queue.push(run);
      pump();
      return { authenticationId: run.id, status: 'QUEUED' };
    },

    async get(ctx: RequestContext, id: string): Promise<AuthenticationView> {
      return present(await runOf(ctx, id));
    },

    /** The failure screenshot (PNG), for a caller allowed to see what the browser saw. */
    async screenshot(ctx: RequestContext, id: string): Promise<Buffer> {
      vault.organizationOf(ctx, 'vault.reveal');
      const row = await runOf(ctx, id);
      if (!row.screenshotSealed || !row.screenshotExpiresAt || row.screenshotExpiresAt <= new Date().toISOString()) {
        throw new AppError('resource.not_found', { detail: 'no screenshot (none taken, or expired)' });
      }
      const cipher = await vault.cipher(row.organizationId);
      return Buffer.from(cipher.open(row.id, SCREENSHOT_FIELD, row.screenshotSealed).unwrap(), 'base64');
    },

    /** `DELETE /authentications/{id}`: cancels a queued or running sign-in (wherever it runs). */
    async cancel(ctx: RequestContext, id: string): Promise<AuthenticationView> {
      const row = await runOf(ctx, id);
      if ((IN_FLIGHT as readonly string[]).includes(row.status)) {
        const local = localRun(id);
        if (local) await cancelLocal(local);
        else await state.publish(RUNNER_CHANNEL, JSON.stringify({ type: 'cancel', runId: id } satisfies RunnerMessage));
        // The run ends within moments; answer its state once it has.
        for (let i = 0; i < 50; i++) {
          const now = await repo.findById(row.organizationId, id);
          if (now && !(IN_FLIGHT as readonly string[]).includes(now.status)) return present(now);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      return present((await repo.findById(row.organizationId, id)) ?? row);
    },

    /**
     * Kaizen's `POST /authentication/submitTwoFactorAuthCode`: the code for a run in AWAITING_CODE —
     * the one named, or the organization's (or login's) only one. The code travels sealed.
     */
    async submitCode(ctx: RequestContext, input: { code: string; authenticationId?: string | undefined; loginId?: string | undefined }) {
      const organizationId = vault.organizationOf(ctx, 'vault.authenticate');
      let row: RunRow | undefined;
      if (input.authenticationId) {
        row = await repo.findById(organizationId, input.authenticationId);
        if (!row) throw new AppError('resource.not_found', { detail: 'no such authentication in the organization' });
        if (row.status !== 'AWAITING_CODE') throw new AppError('vault.no_code_awaited');
      } else {
        const waiting = await repo.awaitingCode(organizationId, input.loginId);
        if (waiting.length === 0) throw new AppError('vault.no_code_awaited');
        if (waiting.length > 1) {
          throw new AppError('vault.no_code_awaited', {
            message: 'Several sign-ins are waiting for a code: name one with `authenticationId`.',
            details: ['body.authenticationId'],
          });
        }
        row = waiting[0] as RunRow;
      }
      const cipher = await vault.cipher(organizationId);
      const local = running.get(row.id);
      if (local?.deliverCode) local.deliverCode(input.code);
      else {
        const msg: RunnerMessage = { type: 'code', runId: row.id, organizationId, sealed: cipher.seal(row.id, CODE_FIELD, input.code) };
        await state.publish(RUNNER_CHANNEL, JSON.stringify(msg));
      }
      await audit.record(ctx, {
        action: 'login.authentication_code_submitted',
        organizationId,
        targetType: 'login',
        targetId: row.loginId,
        data: { authenticationId: row.id },
      });
      return { success: true, message: 'The code was handed to the sign-in.', data: { authenticationId: row.id } };
    },

    /**
     * Signs a live browser session in (its context stays open): the stored session first, else the
     * sign-in with TOTP or an emailed code (a code pushed by a caller needs a run: `authenticate`).
     */
    async signInOn(
      login: LoginRow,
      context: BrowserContext,
      page: Page,
      signal: AbortSignal,
      step: (name: string, detail?: string) => void,
    ): Promise<{ ok: true; usedStoredSession: boolean } | { ok: false; reason: string }> {
      const deadline = Date.now() + config.runnerTimeoutSeconds * 1000;
      const secrets = await vault.secrets(login);
      const selectors: SelectorOverrides = login.selectors ? (JSON.parse(login.selectors) as SelectorOverrides) : {};
      if (login.persistSession === 1 && secrets.sessionState) {
        const stored = JSON.parse(secrets.sessionState.unwrap()) as { cookies?: Parameters<BrowserContext['addCookies']>[0] };
        if (stored.cookies?.length) await context.addCookies(stored.cookies);
        await page.goto(login.homeUrl, { waitUntil: 'domcontentloaded' });
        await page.waitForLoadState('load', { timeout: 3000 }).catch(() => {});
        if (await signedIn(page, login.homeUrl, selectors)) return { ok: true, usedStoredSession: true };
        await context.clearCookies();
      }
      let since = new Date(Date.now() - 1000).toISOString();
      const abort = new AbortController();
      signal.addEventListener('abort', () => abort.abort(), { once: true });
      const outcome = await signIn(page, {
        authenticationUrl: login.authenticationUrl,
        homeUrl: login.homeUrl,
        identifiers: { username: login.username, email: login.email, phone: login.phone },
        password: secrets.password,
        selectors,
        signal,
        step,
        beforeCredentialsSubmitted() {
          since = new Date(Date.now() - 1000).toISOString();
        },
        code: () => codeFor({ abort }, login, { step, status: async () => {} }, secrets, since, deadline, false),
      });
      return outcome.ok ? { ok: true, usedStoredSession: false } : { ok: false, reason: outcome.reason };
    },

    /** Runner state for `/metrics`: queue length, runs in progress, run durations. */
    registerMetrics(registry: Registry): void {
      registry.registerMetric(durations);
      new Gauge({
        name: 'portcullis_runner_queue_length',
        help: 'Login runner sign-ins waiting for a slot',
        registers: [registry],
        collect() {
          this.set(queue.length);
        },
      });
      new Gauge({
        name: 'portcullis_runner_running',
        help: 'Login runner sign-ins in progress',
        registers: [registry],
        collect() {
          this.set(running.size);
        },
      });
    },

    /** Stops taking runs, fails the queued ones, aborts the running ones and closes every browser. */
    async close(): Promise<void> {
      closed = true;
      if (sweeper) clearInterval(sweeper);
      const at = new Date().toISOString();
      for (const run of queue.splice(0)) {
        await repo
          .updateInFlight(run.id, { status: 'FAILED', reason: 'The server stopped before this sign-in started.', finishedAt: at })
          .catch(() => {});
      }
      for (const run of running.values()) run.abort.abort();
      await Promise.all([...browsers].map((b) => b.close().catch(() => {})));
      for (let i = 0; i < 50 && running.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
      await unsubscribe?.().catch(() => {});
    },
  };
}
export type RunnerService = ReturnType<typeof createRunnerService>;

/** A sign-in that ended with a reason safe to show. */
class RunError extends Error {
  override name = 'RunError';
}
/** The run's signal fired (cancel, timeout, shutdown). */
class RunAborted extends Error {
  override name = 'RunAborted';
}
