import { Type } from 'typebox';

const NullableString = (options: Record<string, unknown> = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'AWAITING_CODE', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
const RunStatus = Type.Unsafe<(typeof RUN_STATUSES)[number]>({ type: 'string', enum: [...RUN_STATUSES] });

export const AuthenticationIdParam = Type.Object({ authenticationId: Type.String({ maxLength: 64 }) });

export const AuthenticationStarted = Type.Object(
  { authenticationId: Type.String(), status: RunStatus },
  { $id: 'AuthenticationStarted', title: 'AuthenticationStarted' },
);

export const Authentication = Type.Object(
  {
    authenticationId: Type.String(),
    loginId: Type.String(),
    status: RunStatus,
    steps: Type.Array(Type.Object({ at: Type.String(), step: Type.String(), detail: Type.Optional(Type.String()) })),
    reason: NullableString({ description: 'Why the sign-in failed or was cancelled' }),
    usedStoredSession: Type.Boolean({ description: 'The stored session was still signed in: no new sign-in happened' }),
    hasScreenshot: Type.Boolean({ description: 'A failure screenshot is kept (sealed) until `screenshotExpiresAt`' }),
    screenshotExpiresAt: NullableString(),
    createdAt: Type.String(),
    startedAt: NullableString(),
    finishedAt: NullableString(),
  },
  { $id: 'Authentication', title: 'Authentication' },
);

/** Kaizen's body is `{code}`; `authenticationId` or `loginId` pick the run when several wait. */
export const SubmitCodeBody = Type.Object(
  {
    code: Type.String({ minLength: 4, maxLength: 8, pattern: '^[A-Za-z0-9]+$', description: 'The second-factor code (4–8 characters)' }),
    authenticationId: Type.Optional(Type.String({ maxLength: 64 })),
    loginId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export const SubmitCodeResponse = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Object({ authenticationId: Type.String() }),
});

export const GetCodeBody = Type.Object({ loginId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const GetCodeResponse = Type.Object({
  code: Type.String(),
  secondsRemaining: Type.Number({ description: 'Seconds until the next code' }),
});

export const BrowserSessionIdParam = Type.Object({ browserSessionId: Type.String({ maxLength: 64 }) });
export const OpenBrowserSessionBody = Type.Object(
  {
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 86_400, description: 'At most PORTCULLIS_BROWSER_SESSION_TTL' })),
    idleTimeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 5,
        maximum: 86_400,
        description: 'Closed after this long with no CDP client; at most PORTCULLIS_BROWSER_SESSION_IDLE',
      }),
    ),
  },
  { additionalProperties: false },
);
export const BrowserSession = Type.Object(
  {
    id: Type.String(),
    contextAuthenticationId: Type.String({ description: 'The same id, as `completeLogin` names it' }),
    loginId: Type.String(),
    status: Type.Unsafe<'READY' | 'AWAITING_MANUAL_LOGIN' | 'CLOSED'>({
      type: 'string',
      enum: ['READY', 'AWAITING_MANUAL_LOGIN', 'CLOSED'],
    }),
    cdpUrl: Type.String({
      description: 'CDP WebSocket URL on this server: `chromium.connectOverCDP(cdpUrl, {headers: {"x-api-key": …}})`',
    }),
    usedStoredSession: Type.Boolean(),
    createdAt: Type.String(),
    expiresAt: Type.String(),
  },
  { $id: 'BrowserSession', title: 'BrowserSession' },
);
export const CompleteLoginBody = Type.Object(
  { contextAuthenticationId: Type.String({ minLength: 1, maxLength: 64, description: 'The live browser session a person signed in' }) },
  { additionalProperties: false },
);
export const CompleteLoginResponse = Type.Object({ success: Type.Boolean(), message: Type.String() });

/** Optional: a run may ask for a shorter deadline than PORTCULLIS_RUNNER_TIMEOUT (never a longer one). */
export const AuthenticateBody = Type.Object(
  { timeoutSeconds: Type.Optional(Type.Integer({ minimum: 2, maximum: 3600, description: 'At most PORTCULLIS_RUNNER_TIMEOUT' })) },
  { additionalProperties: false },
);
