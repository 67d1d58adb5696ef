const SECRET_KEY = /pass(word)?|secret|token|otp|code|key|seed|cookie|authorization|credential/i;
const MAX_STRING = 200;
const MAX_DEPTH = 4;

/**
 * The one masking function every audit write goes through: values under secret-looking keys
 * become `[redacted]`, long strings are cut, depth is bounded.
 */
export function maskAuditData(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => maskAuditData(v, depth + 1));
  // Why: `Object.fromEntries` defines each key as an own property; an assignment `out[k] = …` with a
  // key `__proto__` would replace the copy's prototype instead of copying the value.
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      // Field names (e.g. `changedFields: ['password']`) are fine; values under a secret key are not.
      SECRET_KEY.test(k) && k !== 'changedFields' && typeof v !== 'boolean' ? '[redacted]' : maskAuditData(v, depth + 1),
    ]),
  );
}
