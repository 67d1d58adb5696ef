import { randomBytes } from 'node:crypto';
import { HOTP, Secret as OtpSecret, TOTP } from 'otpauth';

/**
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
