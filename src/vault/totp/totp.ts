import { Secret as OtpSecret, TOTP, URI } from 'otpauth';

export interface TotpParams {
  secret: OtpSecret;
  algorithm: string;
  digits: number;
  period: number;
}

const BASE32 = /^[A-Z2-7]+=*$/;
const ALGORITHMS = new Set(['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'SHA3-224', 'SHA3-256', 'SHA3-384', 'SHA3-512']);

/**
 * Parses a stored TOTP seed: base32 (spaces and case ignored) or an `otpauth://totp/…` URI whose
 * algorithm, digits and period are honoured. Returns `undefined` when it is neither.
 */
export function parseTotpSeed(value: string): TotpParams | undefined {
  const text = value.trim();
  if (/^otpauth:\/\//i.test(text)) {
    let parsed: ReturnType<typeof URI.parse>;
    try {
      parsed = URI.parse(text);
    } catch {
      return undefined;
    }
    if (!(parsed instanceof TOTP)) return undefined;
    if (!ALGORITHMS.has(parsed.algorithm) || parsed.digits < 4 || parsed.digits > 10 || parsed.period < 1 || parsed.period > 3600) {
      return undefined;
    }
    if (parsed.secret.bytes.length === 0) return undefined;
    return { secret: parsed.secret, algorithm: parsed.algorithm, digits: parsed.digits, period: parsed.period };
  }
  const base32 = text.replace(/[\s-]/g, '').toUpperCase();
  if (base32.length < 8 || base32.length > 1024 || !BASE32.test(base32)) return undefined;
  try {
    return { secret: OtpSecret.fromBase32(base32.replace(/=+$/, '')), algorithm: 'SHA1', digits: 6, period: 30 };
  } catch {
    return undefined;
  }
}

/** The RFC 6238 code at `at`, its period and when it stops being current. */
export function totpCode(params: TotpParams, at: Date): { code: string; period: number; expiresAt: Date } {
  const totp = new TOTP({ secret: params.secret, algorithm: params.algorithm, digits: params.digits, period: params.period });
  const ms = at.getTime();
  const step = params.period * 1000;
  return { code: totp.generate({ timestamp: ms }), period: params.period, expiresAt: new Date((Math.floor(ms / step) + 1) * step) };
}
