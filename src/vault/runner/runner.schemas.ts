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
