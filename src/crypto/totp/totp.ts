import { randomBytes } from 'node:crypto';
import { HOTP, Secret as OtpSecret, TOTP, URI } from 'otpauth';

/**
 * RFC 6238 / RFC 4226 one-time passwords, one module for the whole codebase: the MFA domain verifies
 * codes of its own users' authenticators; the vault generates codes from stored third-party seeds.
 *
 * RFC 6238 TOTP as authenticator apps expect it: HMAC-SHA-1, 6 digits, 30-second steps.
 * Verification accepts one step of clock drift each way (the code of the previous, current or
 * next step): RFC 6238 §5.2 recommends at most one step of network delay.
 */
export const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
export const TOTP_DRIFT_STEPS = 1;
/** 160 bits, the HMAC-SHA-1 key length RFC 4226 §4 recommends. */
export const TOTP_SECRET_BYTES = 20;

/** A fresh random secret, base32 (RFC 4648, no padding) as authenticator apps take it. */
export function generateTotpSecret(): string {
  return new OtpSecret({ buffer: Uint8Array.from(randomBytes(TOTP_SECRET_BYTES)).buffer }).base32;
}

/** The time step (RFC 6238's T) of an instant. */
export const timeStep = (timeMs: number, period: number = TOTP_PARAMS.period): number => Math.floor(timeMs / 1000 / period);

/** The code of a base32 secret at an instant (tests and RFC vectors pass other algorithms and lengths). */
export function totpCode(
  secretBase32: string,
  timeMs: number,
  options: { algorithm?: string; digits?: number; period?: number } = {},
): string {
  return TOTP.generate({ secret: OtpSecret.fromBase32(secretBase32), ...TOTP_PARAMS, ...options, timestamp: timeMs });
}

/** RFC 4226 HOTP of a raw key at a counter. */
export const hotpCode = (key: Buffer, counter: number, digits = 6): string =>
  HOTP.generate({ secret: new OtpSecret({ buffer: Uint8Array.from(key).buffer }), algorithm: 'SHA1', digits, counter });

/**
 * Checks a submitted code against a secret at `timeMs`, within the drift window.
 * Answers the time step the code belongs to (for replay protection), or undefined.
 */
export function matchTotp(secretBase32: string, code: string, timeMs: number): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = TOTP.validate({
    token,
    secret: OtpSecret.fromBase32(secretBase32),
    ...TOTP_PARAMS,
    timestamp: timeMs,
    window: TOTP_DRIFT_STEPS,
  });
  return delta === null ? undefined : timeStep(timeMs) + delta;
}

/** The `otpauth://totp/…` URI that authenticator apps scan. */
export function otpauthUri(secretBase32: string, issuer: string, label: string): string {
  return new TOTP({ issuer, label, secret: OtpSecret.fromBase32(secretBase32), ...TOTP_PARAMS }).toString();
}

/** The URI as a PNG QR code data URL. */
export async function qrCodeDataUrl(uri: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
}

// Stored seeds (the vault): base32 or otpauth:// URIs with their own parameters.

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
export function currentTotpCode(params: TotpParams, at: Date): { code: string; period: number; expiresAt: Date } {
  const totp = new TOTP({ secret: params.secret, algorithm: params.algorithm, digits: params.digits, period: params.period });
  const ms = at.getTime();
  const step = params.period * 1000;
  return { code: totp.generate({ timestamp: ms }), period: params.period, expiresAt: new Date((Math.floor(ms / step) + 1) * step) };
}
