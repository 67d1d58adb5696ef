import { createCipheriv, createHash, pbkdf2 as pbkdf2Cb, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { encrypt as shaCrypt } from 'unixcrypt';

/**
 * Password hashes made by other systems, accepted on import and verified at sign-in until the
 * user's first successful sign-in rehashes the password to argon2id (the hasher's `needsRehash`
 * is true for every one of them).
 *
 * A hash is stored as given (it is a hash, not a secret to seal), in one canonical string per
 * scheme: formats that are not strings (Keycloak's credential JSON, Firebase's per-project
 * parameters) are written as a PHC-like string at import. Every verification ends in a
 * constant-time comparison of equal-length buffers.
 */

/** md5-crypt and Apache's apr1 (a CommonJS module whose typings declare an ES default it does not have). */
const aprMd5 = createRequire(import.meta.url)('apache-md5') as (password: string, salt: string) => string;

const pbkdf2 = promisify(pbkdf2Cb) as (
  pw: Buffer | string,
  salt: Buffer | string,
  iterations: number,
  keylen: number,
  digest: string,
) => Promise<Buffer>;
const scrypt = (pw: Buffer | string, salt: Buffer | string, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

export type ForeignScheme =
  | 'argon2'
  | 'bcrypt'
  | 'scrypt'
  | 'django-scrypt'
  | 'firebase-scrypt'
  | 'pbkdf2'
  | 'django-pbkdf2'
  | 'sha-crypt'
  | 'md5-crypt'
  | 'phpass'
  | 'ssha'
  | 'unsalted';

/** A hash ready to store: its canonical string, its scheme, and whether it is unsalted (MD5/SHA-1: a reset is forced). */
export interface NormalizedHash {
  stored: string;
  scheme: ForeignScheme;
  unsalted: boolean;
}

/** Why a hash was refused at import (the per-line `reason`). */
export class HashFormatError extends Error {}

/** Firebase's project-wide hash parameters (`firebase auth:export` prints them; the console shows them). */
export interface FirebaseHashConfig {
  signerKey: string;
  saltSeparator: string;
  rounds: number;
  memCost: number;
}

/** Work limits a hash must respect: a hash is data from a file, and a huge cost would be a sign-in denial of service. */
export const HASH_LIMITS = {
  bcryptCost: 15,
  pbkdf2Iterations: 5_000_000,
  scryptMemoryBytes: 256 * 1024 * 1024,
  shaCryptRounds: 1_000_000,
  phpassLog2: 24,
  argon2MemoryKiB: 262_144,
  argon2Time: 20,
} as const;

const fail = (reason: string): never => {
  throw new HashFormatError(reason);
};

/** Standard, URL-safe and passlib's "adapted" base64 (`.` for `+`), with or without padding. */
function b64(text: string, what = 'base64'): Buffer {
  if (!/^[A-Za-z0-9+/._-]*={0,2}$/.test(text)) fail(`${what} is not base64`);
  return Buffer.from(text.replace(/\./g, '+').replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
const phc64 = (buf: Buffer): string => buf.toString('base64').replace(/=+$/, '');

function int(text: string | undefined, what: string, min: number, max: number): number {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return fail(`${what} is not a number`);
  const n = Number(text);
  if (n < min || n > max) fail(`${what} ${n} is outside ${min}..${max}`);
  return n;
}

function params(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (text ?? '').split(',')) {
    const [k, v] = part.split('=');
    if (k && v !== undefined) out.set(k, v);
  }
  return out;
}

const DIGESTS: Record<string, { name: string; size: number }> = {
  sha1: { name: 'sha1', size: 20 },
  sha256: { name: 'sha256', size: 32 },
  sha512: { name: 'sha512', size: 64 },
};

function checkScrypt(N: number, r: number, p: number): void {
  if (N < 2 || (N & (N - 1)) !== 0) fail('scrypt N must be a power of two');
  if (128 * N * r * p > HASH_LIMITS.scryptMemoryBytes) fail('scrypt parameters need too much memory');
}

/** PHC-ish `$pbkdf2-sha256$i=…[,l=…]$salt$hash`, passlib's `$pbkdf2-sha256$rounds$salt$hash`, `$pbkdf2$` = SHA-1. */
function parsePbkdf2Phc(s: string): { digest: string; iterations: number; salt: Buffer; hash: Buffer } {
  const m = /^\$pbkdf2(?:-(sha1|sha256|sha512))?\$([^$]+)\$([^$]*)\$([^$]+)$/.exec(s);
  if (!m) return fail('malformed PBKDF2 hash');
  const digest = m[1] ?? 'sha1';
  const p = params(m[2]);
  const iterations = int(p.get('i') ?? m[2], 'PBKDF2 iterations', 1, HASH_LIMITS.pbkdf2Iterations);
  const hash = b64(m[4] as string, 'PBKDF2 hash');
  if (hash.length < 16 || hash.length > 128) fail('PBKDF2 hash length');
  return { digest, iterations, salt: b64(m[3] as string, 'PBKDF2 salt'), hash };
}

function parseDjangoPbkdf2(s: string) {
  const m = /^pbkdf2_(sha1|sha256|sha512)\$(\d+)\$([^$]+)\$([A-Za-z0-9+/=]+)$/.exec(s);
  if (!m) return fail('malformed Django PBKDF2 hash');
  const digest = m[1] as string;
  return {
    digest,
    iterations: int(m[2], 'PBKDF2 iterations', 1, HASH_LIMITS.pbkdf2Iterations),
    salt: m[3] as string,
    hash: b64(m[4] as string, 'PBKDF2 hash'),
  };
}

function parseScryptPhc(s: string) {
  const m = /^\$scrypt\$([^$]+)\$([^$]+)\$([^$]+)$/.exec(s);
  if (!m) return fail('malformed scrypt hash');
  const p = params(m[1]);
  const N = p.has('ln') ? 2 ** int(p.get('ln'), 'scrypt ln', 1, 24) : int(p.get('n') ?? p.get('N'), 'scrypt N', 2, 2 ** 24);
  const r = int(p.get('r'), 'scrypt r', 1, 64);
  const par = int(p.get('p') ?? '1', 'scrypt p', 1, 16);
  checkScrypt(N, r, par);
  const hash = b64(m[3] as string, 'scrypt hash');
  if (hash.length < 16 || hash.length > 128) fail('scrypt hash length');
  return { N, r, p: par, salt: b64(m[2] as string, 'scrypt salt'), hash };
}

/** Django's `scrypt$N$salt$r$p$hash` (salt used as its UTF-8 text, 64-byte key). */
function parseDjangoScrypt(s: string) {
  const m = /^scrypt\$(\d+)\$([^$]+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)$/.exec(s);
  if (!m) return fail('malformed Django scrypt hash');
  const N = int(m[1], 'scrypt N', 2, 2 ** 24);
  const r = int(m[3], 'scrypt r', 1, 64);
  const p = int(m[4], 'scrypt p', 1, 16);
  checkScrypt(N, r, p);
  return { N, r, p, salt: m[2] as string, hash: b64(m[5] as string, 'scrypt hash') };
}

/** Our own canonical Firebase string: `$firebase-scrypt$m=14,r=8$<salt separator>$<signer key>$<salt>$<hash>`. */
function parseFirebase(s: string) {
  const m = /^\$firebase-scrypt\$([^$]+)\$([^$]*)\$([^$]+)\$([^$]+)\$([^$]+)$/.exec(s);
  if (!m) return fail('malformed Firebase scrypt hash');
  const p = params(m[1]);
  const memCost = int(p.get('m'), 'Firebase mem_cost', 1, 20);
  const rounds = int(p.get('r'), 'Firebase rounds', 1, 64);
  checkScrypt(2 ** memCost, rounds, 1);
  return {
    memCost,
    rounds,
    saltSeparator: b64(m[2] as string, 'salt separator'),
    signerKey: b64(m[3] as string, 'signer key'),
    salt: b64(m[4] as string, 'salt'),
    hash: b64(m[5] as string, 'hash'),
  };
}

/** The Firebase string for one user's `passwordHash` and `salt` under the project's parameters. */
export function firebaseHash(config: FirebaseHashConfig, passwordHash: string, salt: string): string {
  const p = (s: string) => phc64(b64(s));
  const stored = `$firebase-scrypt$m=${config.memCost},r=${config.rounds}$${p(config.saltSeparator)}$${p(config.signerKey)}$${p(salt)}$${p(passwordHash)}`;
  parseFirebase(stored);
  return stored;
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function phpassEncode(input: Buffer, count: number): string {
  let out = '';
  let i = 0;
  do {
    let value = input[i++] as number;
    out += ITOA64[value & 0x3f];
    if (i < count) value |= (input[i] as number) << 8;
    out += ITOA64[(value >> 6) & 0x3f];
    if (i++ >= count) break;
    if (i < count) value |= (input[i] as number) << 16;
    out += ITOA64[(value >> 12) & 0x3f];
    if (i++ >= count) break;
    out += ITOA64[(value >> 18) & 0x3f];
  } while (i < count);
  return out;
}

function parsePhpass(s: string) {
  if (!/^\$[PH]\$[./0-9A-Za-z]{31}$/.test(s)) fail('malformed phpass hash');
  const log2 = ITOA64.indexOf(s[3] as string);
  if (log2 < 7 || log2 > HASH_LIMITS.phpassLog2) fail('phpass cost out of range');
  return { count: 2 ** log2, salt: s.slice(4, 12) };
}

function phpassHash(password: Buffer, setting: string, count: number, salt: string): string {
  let hash = createHash('md5').update(salt).update(password).digest();
  for (let i = 0; i < count; i++) hash = createHash('md5').update(hash).update(password).digest();
  return setting.slice(0, 12) + phpassEncode(hash, 16);
}

const SSHA: Record<string, { digest: string; size: number }> = {
  '{SSHA}': { digest: 'sha1', size: 20 },
  '{SSHA256}': { digest: 'sha256', size: 32 },
  '{SSHA512}': { digest: 'sha512', size: 64 },
};

function parseSsha(s: string) {
  const m = /^(\{SSHA(?:256|512)?\})([A-Za-z0-9+/=]+)$/i.exec(s);
  if (!m) return fail('malformed salted SHA hash');
  const kind = SSHA[(m[1] as string).toUpperCase()] as { digest: string; size: number };
  const raw = b64(m[2] as string);
  if (raw.length <= kind.size) fail('salted SHA hash has no salt');
  return { digest: kind.digest, hash: raw.subarray(0, kind.size), salt: raw.subarray(kind.size) };
}

function parseUnsalted(s: string) {
  const m = /^\{(MD5|SHA)\}([A-Za-z0-9+/=]+)$/i.exec(s);
  if (!m) return fail('malformed unsalted hash');
  const digest = (m[1] as string).toUpperCase() === 'MD5' ? 'md5' : 'sha1';
  const hash = b64(m[2] as string);
  if (hash.length !== (digest === 'md5' ? 16 : 20)) fail('unsalted hash has the wrong length');
  return { digest, hash };
}

function checkArgon2(s: string): void {
  const m = /^\$argon2(id|i|d)\$(?:v=(\d+)\$)?m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(s);
  if (!m) fail('malformed argon2 hash');
  int(m?.[3], 'argon2 m', 8, HASH_LIMITS.argon2MemoryKiB);
  int(m?.[4], 'argon2 t', 1, HASH_LIMITS.argon2Time);
  int(m?.[5], 'argon2 p', 1, 16);
}

const asObject = (v: unknown): Record<string, unknown> | undefined => {
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
};

/**
 * Keycloak's password credential (`{type:"password", secretData, credentialData}`, each a JSON
 * string in a realm export): PBKDF2 with SHA-1/256/512, or Argon2 (Keycloak 24+), as a PHC string.
 */
export function keycloakCredentialHash(credential: unknown): string {
  const c = asObject(credential);
  const secret = asObject(c?.secretData);
  const data = asObject(c?.credentialData);
  if (!c || !secret || !data) return fail('Keycloak credential needs secretData and credentialData');
  const algorithm = String(data.algorithm ?? '');
  const value = typeof secret.value === 'string' ? secret.value : fail('Keycloak secretData.value missing');
  const salt = typeof secret.salt === 'string' ? secret.salt : fail('Keycloak secretData.salt missing');
  const iterations = Number(data.hashIterations);
  const kc = /^pbkdf2(?:-(sha256|sha512))?$/.exec(algorithm);
  if (kc) {
    const stored = `$pbkdf2-${kc[1] ?? 'sha1'}$i=${iterations}$${phc64(b64(salt))}$${phc64(b64(value))}`;
    parsePbkdf2Phc(stored);
    return stored;
  }
  if (algorithm === 'argon2') {
    const a = asObject(data.additionalParameters) ?? {};
    const first = (k: string, d: string) => String((Array.isArray(a[k]) ? (a[k] as unknown[])[0] : a[k]) ?? d);
    const type = first('type', 'id');
    const version = first('version', '1.3') === '1.3' ? 19 : 16;
    const stored = `$argon2${type}$v=${version}$m=${first('memory', '7168')},t=${Number.isFinite(iterations) && iterations > 0 ? iterations : first('iterations', '5')},p=${first('parallelism', '1')}$${phc64(b64(salt))}$${phc64(b64(value))}`;
    checkArgon2(stored);
    return stored;
  }
  return fail(`Keycloak algorithm ${algorithm.slice(0, 40) || '(none)'} is not supported`);
}

/**
 * Checks a hash given at import and answers its canonical stored form. Unsalted MD5 and SHA-1
 * (`{MD5}`, `{SHA}`, or bare hex) pass only with `allowUnsalted`.
 */
export function normalizeForeignHash(input: unknown, options: { allowUnsalted?: boolean } = {}): NormalizedHash {
  if (input && typeof input === 'object') return { stored: keycloakCredentialHash(input), scheme: 'pbkdf2', unsalted: false };
  if (typeof input !== 'string') return fail('passwordHash must be a string');
  let s = input.trim();
  if (s.length > 1024) fail('hash too long');
  if (/^\{CRYPT\}/i.test(s)) s = s.slice(7);
  const unsalted = (stored: string): NormalizedHash => {
    if (!options.allowUnsalted) fail('unsalted MD5/SHA-1 hashes need the allowUnsalted option (and force a password change)');
    parseUnsalted(stored);
    return { stored, scheme: 'unsalted', unsalted: true };
  };
  if (/^[0-9a-f]{32}$/i.test(s)) return unsalted(`{MD5}${Buffer.from(s, 'hex').toString('base64')}`);
  if (/^[0-9a-f]{40}$/i.test(s)) return unsalted(`{SHA}${Buffer.from(s, 'hex').toString('base64')}`);
  if (/^\{(MD5|SHA)\}/i.test(s)) return unsalted(s.replace(/^\{(\w+)\}/, (_, k: string) => `{${k.toUpperCase()}}`));
  const scheme = schemeOf(s);
  if (!scheme) return fail('unknown hash format');
  switch (scheme) {
    case 'argon2':
      checkArgon2(s);
      break;
    case 'bcrypt': {
      const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(s);
      if (!m) fail('malformed bcrypt hash');
      int(m?.[1], 'bcrypt cost', 4, HASH_LIMITS.bcryptCost);
      break;
    }
    case 'scrypt':
      parseScryptPhc(s);
      break;
    case 'django-scrypt':
      parseDjangoScrypt(s);
      break;
    case 'firebase-scrypt':
      parseFirebase(s);
      break;
    case 'pbkdf2':
      parsePbkdf2Phc(s);
      break;
    case 'django-pbkdf2':
      parseDjangoPbkdf2(s);
      break;
    case 'sha-crypt': {
      const m = /^\$[56]\$(?:rounds=(\d+)\$)?[^$]{1,16}\$[./A-Za-z0-9]{43,86}$/.exec(s);
      if (!m) fail('malformed sha-crypt hash');
      if (m?.[1]) int(m[1], 'sha-crypt rounds', 1000, HASH_LIMITS.shaCryptRounds);
      break;
    }
    case 'md5-crypt':
      if (!/^\$(1|apr1)\$[^$]{1,8}\$[./A-Za-z0-9]{22}$/.test(s)) fail('malformed md5-crypt hash');
      break;
    case 'phpass':
      parsePhpass(s);
      break;
    case 'ssha':
      parseSsha(s);
      s = s.replace(/^\{(\w+)\}/, (_, k: string) => `{${k.toUpperCase()}}`);
      break;
    case 'unsalted':
      break;
  }
  return { stored: s, scheme, unsalted: false };
}

/** The scheme of a stored hash, by its prefix. */
export function schemeOf(s: string): ForeignScheme | undefined {
  if (s.startsWith('$argon2')) return 'argon2';
  if (/^\$2[aby]\$/.test(s)) return 'bcrypt';
  if (s.startsWith('$scrypt$')) return 'scrypt';
  if (s.startsWith('scrypt$')) return 'django-scrypt';
  if (s.startsWith('$firebase-scrypt$')) return 'firebase-scrypt';
  if (/^\$pbkdf2(-sha(1|256|512))?\$/.test(s)) return 'pbkdf2';
  if (/^pbkdf2_sha(1|256|512)\$/.test(s)) return 'django-pbkdf2';
  if (/^\$[56]\$/.test(s)) return 'sha-crypt';
  if (/^\$(1|apr1)\$/.test(s)) return 'md5-crypt';
  if (/^\$[PH]\$/.test(s)) return 'phpass';
  if (/^\{SSHA(256|512)?\}/i.test(s)) return 'ssha';
  if (/^\{(MD5|SHA)\}/.test(s)) return 'unsalted';
  return undefined;
}

/** Equal-length constant-time comparison; a length mismatch still does the work of one comparison. */
function same(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}
const sameText = (a: string, b: string): boolean => same(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Verifies a password against a stored foreign hash (argon2 is the hasher's own job). Never
 * throws: a malformed hash answers false.
 */
export async function verifyForeignHash(stored: string, password: string): Promise<boolean> {
  try {
    return await verifyOrThrow(stored, password);
  } catch {
    return false;
  }
}

async function verifyOrThrow(stored: string, password: string): Promise<boolean> {
  const pw = Buffer.from(password, 'utf8');
  switch (schemeOf(stored)) {
    case 'bcrypt':
      // $2y$ (PHP) and $2b$ are the same algorithm; bcryptjs compares in constant time.
      return bcrypt.compare(password, stored.replace(/^\$2y\$/, '$2b$'));
    case 'scrypt': {
      const h = parseScryptPhc(stored);
      const key = await scrypt(pw, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: 2 * HASH_LIMITS.scryptMemoryBytes });
      return same(key, h.hash);
    }
    case 'django-scrypt': {
      const h = parseDjangoScrypt(stored);
      const key = await scrypt(pw, Buffer.from(h.salt, 'utf8'), h.hash.length, {
        N: h.N,
        r: h.r,
        p: h.p,
        maxmem: 2 * HASH_LIMITS.scryptMemoryBytes,
      });
      return same(key, h.hash);
    }
    case 'firebase-scrypt': {
      // Firebase's modified scrypt: AES-256-CTR (zero IV) of the project's signer key under
      // scrypt(password, salt ‖ separator, N=2^mem_cost, r=rounds, p=1, 32 bytes).
      const h = parseFirebase(stored);
      const key = await scrypt(pw, Buffer.concat([h.salt, h.saltSeparator]), 32, {
        N: 2 ** h.memCost,
        r: h.rounds,
        p: 1,
        maxmem: 2 * HASH_LIMITS.scryptMemoryBytes,
      });
      const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16, 0));
      const out = Buffer.concat([cipher.update(h.signerKey), cipher.final()]);
      return same(out, h.hash);
    }
    case 'pbkdf2': {
      const h = parsePbkdf2Phc(stored);
      const key = await pbkdf2(pw, h.salt, h.iterations, h.hash.length, (DIGESTS[h.digest] as { name: string }).name);
      return same(key, h.hash);
    }
    case 'django-pbkdf2': {
      const h = parseDjangoPbkdf2(stored);
      const key = await pbkdf2(pw, Buffer.from(h.salt, 'utf8'), h.iterations, h.hash.length, h.digest);
      return same(key, h.hash);
    }
    case 'sha-crypt': {
      const setting = stored.slice(0, stored.lastIndexOf('$'));
      return sameText(shaCrypt(password, setting), stored);
    }
    case 'md5-crypt': {
      // apache-md5 hashes the string's char codes as bytes: hand it the UTF-8 bytes as a binary string.
      const setting = stored.slice(0, stored.lastIndexOf('$') + 1);
      return sameText(aprMd5(pw.toString('latin1'), setting), stored);
    }
    case 'phpass': {
      const h = parsePhpass(stored);
      return sameText(phpassHash(pw, stored, h.count, h.salt), stored);
    }
    case 'ssha': {
      const h = parseSsha(stored);
      return same(createHash(h.digest).update(pw).update(h.salt).digest(), h.hash);
    }
    case 'unsalted': {
      const h = parseUnsalted(stored);
      return same(createHash(h.digest).update(pw).digest(), h.hash);
    }
    default:
      return false;
  }
}
