/**
 * The thin typed fetch layer over Portcullis's public JSON API, in cookie mode: the server keeps
 * the tokens in HttpOnly cookies (`access-token`, `refresh-token`), and the browser's
 * `Sec-Fetch-Site: same-origin` (plus `Origin`) is what the server's cross-site defence checks on
 * every cookie-authenticated write. Nothing here ever sees a token.
 *
 * Refresh: before the access token expires (a timer at 80 % of `expiresIn`) and after (a 401 on
 * any call), one refresh runs at a time across every tab (Web Locks), and a tab that finds a
 * newer refresh done by another tab does not rotate again (a second rotation of the same
 * refresh token is reuse, which revokes the session). A refused refresh — expired, revoked, or a
 * reuse the server detected — signs out in every tab.
 *
 * Swappable for the generated client (packages/client) later: pages import only `api.ts`.
 */

export interface ErrorBody {
  success: false;
  code: number;
  message: string;
  error: string;
  status: number;
  details?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Do not try a refresh on 401 (the sign-in calls themselves). */
  noRefresh?: boolean;
}

const LAST_REFRESH_KEY = 'portcullis.lastRefresh';
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('portcullis.session') : undefined;
const signedOutListeners = new Set<(reason: string) => void>();
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

/** Called when the session ends in this tab or in another (reuse, expiry, sign-out). */
export function onSignedOut(listener: (reason: string) => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function emitSignedOut(reason: string, broadcast: boolean): void {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = undefined;
  if (broadcast) channel?.postMessage({ type: 'signed-out', reason });
  for (const l of signedOutListeners) l(reason);
}
channel?.addEventListener('message', (e: MessageEvent<{ type: string; reason?: string; expiresIn?: number }>) => {
  if (e.data?.type === 'signed-out') emitSignedOut(e.data.reason ?? 'signed-out', false);
  if (e.data?.type === 'refreshed' && typeof e.data.expiresIn === 'number') scheduleRefresh(e.data.expiresIn, false);
});

/** Refresh at 80 % of the access token's life (and never sooner than 1 s). */
export function scheduleRefresh(expiresInSeconds: number, broadcast = true): void {
  if (refreshTimer) clearTimeout(refreshTimer);
  const ms = Math.max(1_000, expiresInSeconds * 800);
  refreshTimer = setTimeout(() => {
    void refreshSession().catch(() => undefined);
  }, ms);
  if (broadcast) channel?.postMessage({ type: 'refreshed', expiresIn: expiresInSeconds });
}

export function cancelRefresh(): void {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = undefined;
}

async function send(method: Method, path: string, options: RequestOptions): Promise<Response> {
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' };
  if (options.body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(options.body);
  }
  return fetch(url, init);
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = {};
  }
  if (!res.ok) {
    const body = data as Partial<ErrorBody>;
    throw new ApiError(res.status, body.error ?? 'unknown', body.message ?? `Request failed (${res.status})`, body.details);
  }
  return data as T;
}

let inflight: Promise<boolean> | undefined;

async function rotate(startedAt: number): Promise<boolean> {
  // Another tab refreshed after this call began: its cookies are already ours.
  const last = Number(localStorage.getItem(LAST_REFRESH_KEY) ?? 0);
  if (last > startedAt) return true;
  const res = await send('POST', '/v1/auth/refresh', { body: {} });
  if (!res.ok) {
    emitSignedOut('expired', true);
    return false;
  }
  const body = await parse<{ expiresIn?: number }>(res);
  localStorage.setItem(LAST_REFRESH_KEY, String(Date.now()));
  scheduleRefresh(body.expiresIn ?? 60);
  return true;
}

/** One refresh at a time in this tab and, where Web Locks exist, across tabs. Answers whether the session lives. */
export function refreshSession(): Promise<boolean> {
  if (inflight) return inflight;
  const startedAt = Date.now();
  const run = async () => {
    try {
      if (navigator.locks) return await navigator.locks.request('portcullis.refresh', () => rotate(startedAt));
      return await rotate(startedAt);
    } finally {
      inflight = undefined;
    }
  };
  inflight = run();
  return inflight;
}

export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const startedAt = Date.now();
  let res = await send(method, path, options);
  if (res.status === 401 && !options.noRefresh) {
    const body = await res
      .clone()
      .json()
      .catch(() => ({}));
    const error = (body as Partial<ErrorBody>).error;
    const expired = error === 'auth.invalid_credentials' || error === 'auth.invalid_token';
    // No access cookie at all: the browser dropped it at its Max-Age; the refresh cookie may live on.
    if (expired || (error === 'auth.unauthenticated' && mayBeSignedIn())) {
      const last = Number(localStorage.getItem(LAST_REFRESH_KEY) ?? 0);
      const alive = last > startedAt ? true : await refreshSession();
      if (alive) res = await send(method, path, options);
    }
  }
  return parse<T>(res);
}

/** Ends the session on the server (and its cookies), and tells every tab. */
export async function signOut(reason = 'signed-out'): Promise<void> {
  cancelRefresh();
  await send('POST', '/v1/auth/logout', { body: {} }).catch(() => undefined);
  emitSignedOut(reason, true);
}

/** Whether a `user` cookie (readable, not a secret) says a session may exist. */
export function mayBeSignedIn(): boolean {
  return document.cookie.split(';').some((c) => c.trim().startsWith('user=users/'));
}
