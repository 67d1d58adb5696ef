import { type FirebaseHashConfig, firebaseHash, HashFormatError, normalizeForeignHash } from '../crypto/index.js';
import type { ImportedUser, ImportLineError } from '../identity/index.js';

/** The import formats (`--format`, `?format=`). */
export const IMPORT_FORMATS = ['portcullis', 'keycloak', 'auth0', 'firebase'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** One element of an import before it is checked: where it was and what it held. */
export interface RawItem {
  line: number;
  value: unknown;
}

export interface ConvertOptions {
  /** Accept unsalted MD5/SHA-1 hashes (the user must change the password at first sign-in). */
  allowUnsalted?: boolean | undefined;
  /** Firebase's project hash parameters (`--hash-key`, `--salt-separator`, `--rounds`, `--mem-cost`). */
  firebase?: FirebaseHashConfig | undefined;
}

export class ImportFileError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (o: Obj, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Splits an import text into items: a JSON array (item n is "line" n), JSON lines (the file's line
 * numbers), or for Keycloak and Firebase one JSON document holding `users` (item numbers).
 */
export function splitItems(text: string, format: ImportFormat): { items: RawItem[]; errors: ImportLineError[]; context: Obj } {
  const trimmed = text.trim();
  const errors: ImportLineError[] = [];
  if (trimmed === '') return { items: [], errors, context: {} };
  if (format === 'keycloak' || format === 'firebase' || trimmed.startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch {
      // A Keycloak or Firebase file may also come as JSON lines of users.
      if (!trimmed.startsWith('[') && !trimmed.startsWith('{"users"')) return jsonLines(text);
      throw new ImportFileError('the file is not valid JSON');
    }
    if (Array.isArray(doc)) return { items: doc.map((value, i) => ({ line: i + 1, value })), errors, context: {} };
    if (isObj(doc) && Array.isArray(own(doc, 'users'))) {
      return { items: (doc.users as unknown[]).map((value, i) => ({ line: i + 1, value })), errors, context: doc };
    }
    if (isObj(doc) && (format === 'portcullis' || format === 'auth0')) return { items: [{ line: 1, value: doc }], errors, context: {} };
    throw new ImportFileError('expected a JSON array, JSON lines, or a document with a "users" array');
  }
  return jsonLines(text);
}

function jsonLines(text: string): { items: RawItem[]; errors: ImportLineError[]; context: Obj } {
  const items: RawItem[] = [];
  const errors: ImportLineError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      items.push({ line: i + 1, value: JSON.parse(line) });
    } catch {
      errors.push({ line: i + 1, field: '', reason: 'not a JSON value' });
    }
  }
  return { items, errors, context: {} };
}

/** Collects the field errors of one record. */
class Check {
  readonly errors: ImportLineError[] = [];
  constructor(readonly line: number) {}
  fail(field: string, reason: string): undefined {
    this.errors.push({ line: this.line, field, reason });
    return undefined;
  }
  str(o: Obj, key: string, max: number, opts: { field?: string; pattern?: RegExp; nullable?: boolean } = {}): string | null | undefined {
    const v = own(o, key);
    const field = opts.field ?? key;
    if (v === undefined) return undefined;
    if (v === null) return opts.nullable === false ? this.fail(field, 'must be a string') : null;
    if (typeof v !== 'string') return this.fail(field, 'must be a string');
    if (v.length > max) return this.fail(field, `longer than ${max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) return this.fail(field, 'has an invalid format');
    return v;
  }
  bool(o: Obj, key: string, field = key): boolean | undefined {
    const v = own(o, key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.fail(field, 'must be true or false');
    return v;
  }
  list(o: Obj, key: string, maxItems: number, maxLength: number, field = key): string[] | undefined {
    const v = own(o, key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.length > maxItems || !v.every((x) => typeof x === 'string' && x.length <= maxLength)) {
      return this.fail(field, `must be an array of at most ${maxItems} strings`);
    }
    return v as string[];
  }
  attributes(v: unknown, field = 'userAttributes'): Record<string, string> | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) return this.fail(field, 'must be an object of strings');
    const entries = Object.entries(v);
    if (entries.length > 50) return this.fail(field, 'at most 50 attributes');
    const out: Record<string, string> = Object.create(null);
    for (const [k, raw] of entries) {
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (FORBIDDEN_KEYS.has(k) || k.length > 128 || k === '') return this.fail(`${field}.${k.slice(0, 64)}`, 'forbidden or too long key');
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        return this.fail(`${field}.${k}`, 'must be a string');
      }
      if (String(value).length > 1024) return this.fail(`${field}.${k}`, 'longer than 1024 characters');
      out[k] = String(value);
    }
    return { ...out };
  }
  hash(value: unknown, options: ConvertOptions, field = 'passwordHash'): { passwordHash?: string; requireReset?: boolean } {
    if (value === undefined || value === null || value === '') return {};
    try {
      const n = normalizeForeignHash(value, { allowUnsalted: options.allowUnsalted });
      return { passwordHash: n.stored, ...(n.unsalted ? { requireReset: true } : {}) };
    } catch (err) {
      if (err instanceof HashFormatError) this.fail(field, err.message);
      else throw err;
      return {};
    }
  }
}

const USER_NAME = /^[^\u0000-\u001f\u007f/]+$/;
const EMAIL = /^\s*[^\s@]+@[^\s@]+\.[^\s@]+\s*$/;
const AD_SID = /^S-1-\d+(-\d+)+$/;

/** Turns one item of the given format into a user to import, or the line's errors. */
export function convertItem(
  format: ImportFormat,
  item: RawItem,
  options: ConvertOptions,
): { user: ImportedUser; errors?: undefined } | { user?: undefined; errors: ImportLineError[] } {
  const c = new Check(item.line);
  if (!isObj(item.value)) return { errors: [{ line: item.line, field: '', reason: 'not a JSON object' }] };
  const user = CONVERTERS[format](item.value, c, options);
  if (c.errors.length || !user) return { errors: c.errors.length ? c.errors : [{ line: item.line, field: '', reason: 'not a user' }] };
  return { user: { ...user, line: item.line } };
}

type Converter = (o: Obj, c: Check, options: ConvertOptions) => Omit<ImportedUser, 'line'> | undefined;

function requireUserName(c: Check, value: unknown, field: string): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return c.fail(field, 'is required');
  if (value.length > 128 || !USER_NAME.test(value))
    return c.fail(field, 'has an invalid format (1-128 characters, no control characters or "/")');
  return value.trim();
}

function splitName(full: unknown): { firstName?: string; lastName?: string } {
  if (typeof full !== 'string' || !full.trim()) return {};
  const [first, ...rest] = full.trim().slice(0, 256).split(/\s+/);
  return { firstName: first as string, ...(rest.length ? { lastName: rest.join(' ') } : {}) };
}

/** Portcullis's own format (what `portcullis export` writes). */
const portcullis: Converter = (o, c, options) => {
  const userName = requireUserName(c, own(o, 'userName'), 'userName');
  const stateValue = own(o, 'state');
  let state: 'ACTIVE' | 'SUSPENDED' | undefined;
  if (stateValue !== undefined && stateValue !== null) {
    if (stateValue !== 'ACTIVE' && stateValue !== 'SUSPENDED') c.fail('state', 'must be ACTIVE or SUSPENDED');
    else state = stateValue;
  }
  const enabled = c.bool(o, 'enabled');
  if (enabled !== undefined && state === undefined) state = enabled ? 'ACTIVE' : 'SUSPENDED';
  const hash = c.hash(own(o, 'passwordHash'), options);
  const requireResetPassword = c.bool(o, 'requireResetPassword');
  const u: Omit<ImportedUser, 'line'> = {
    userName: userName ?? '',
    email: c.str(o, 'email', 254, { pattern: EMAIL }),
    emailVerified: c.bool(o, 'emailVerified'),
    firstName: c.str(o, 'firstName', 256),
    lastName: c.str(o, 'lastName', 256),
    phone: c.str(o, 'phone', 32),
    title: c.str(o, 'title', 256),
    department: c.str(o, 'department', 256),
    mobile: c.str(o, 'mobile', 64),
    externalId: c.str(o, 'externalId', 256),
    adSid: c.str(o, 'adSid', 184, { pattern: AD_SID }),
    roles: c.list(o, 'roles', 10, 32),
    groups: c.list(o, 'groups', 200, 256),
    state,
    userAttributes: c.attributes(own(o, 'userAttributes')),
    ...(hash.passwordHash ? { passwordHash: hash.passwordHash } : {}),
    requireResetPassword: hash.requireReset || requireResetPassword,
  };
  return userName ? u : undefined;
};

/** Roles of a Keycloak realm that name a Portcullis role are granted (the policy still decides); the others become groups. */
const KEYCLOAK_BUILTIN_ROLE = /^(default-roles-.*|offline_access|uma_authorization)$/;

/** A user of a Keycloak realm export (`kc.sh export`, or the admin console's partial export). */
const keycloak: Converter = (o, c, options) => {
  const userName = requireUserName(c, own(o, 'username'), 'username');
  const credentials = own(o, 'credentials');
  const password = Array.isArray(credentials) ? credentials.find((x) => isObj(x) && own(x, 'type') === 'password') : undefined;
  const hash = password ? c.hash(password, options, 'credentials') : {};
  const realmRoles = c.list(o, 'realmRoles', 100, 256) ?? [];
  const roles = realmRoles.filter((r) => ['owner', 'admin', 'member'].includes(r));
  const groups = [
    ...(c.list(o, 'groups', 200, 256) ?? []).map((g) => g.replace(/^\//, '')),
    ...realmRoles.filter((r) => !roles.includes(r) && !KEYCLOAK_BUILTIN_ROLE.test(r)).map((r) => `role:${r}`),
  ];
  const required = c.list(o, 'requiredActions', 20, 64) ?? [];
  const enabled = c.bool(o, 'enabled');
  const u: Omit<ImportedUser, 'line'> = {
    userName: userName ?? '',
    email: c.str(o, 'email', 254, { pattern: EMAIL }),
    emailVerified: c.bool(o, 'emailVerified'),
    firstName: c.str(o, 'firstName', 256),
    lastName: c.str(o, 'lastName', 256),
    externalId: c.str(o, 'id', 256, { field: 'id' }),
    roles: roles.length ? roles : undefined,
    groups,
    state: enabled === false ? 'SUSPENDED' : 'ACTIVE',
    userAttributes: c.attributes(own(o, 'attributes'), 'attributes'),
    ...(hash.passwordHash ? { passwordHash: hash.passwordHash } : {}),
    requireResetPassword: hash.requireReset || required.includes('UPDATE_PASSWORD') || undefined,
    profileSource: 'keycloak',
  };
  return userName ? u : undefined;
};

/** A line of an Auth0 user export, or of Auth0's password hash export (`_id.$oid`, `passwordHash`). */
const auth0: Converter = (o, c, options) => {
  const oid = isObj(own(o, '_id')) ? own(own(o, '_id') as Obj, '$oid') : undefined;
  const userId = own(o, 'user_id') ?? (typeof oid === 'string' ? `auth0|${oid}` : undefined);
  if (userId !== undefined && (typeof userId !== 'string' || userId.length > 256)) return c.fail('user_id', 'must be a string');
  const email = c.str(o, 'email', 254, { pattern: EMAIL });
  const userName = requireUserName(c, own(o, 'username') ?? email ?? userId, own(o, 'username') ? 'username' : 'email');
  const hash = c.hash(
    own(o, 'passwordHash') ?? own(o, 'password_hash'),
    options,
    own(o, 'passwordHash') ? 'passwordHash' : 'password_hash',
  );
  const named = splitName(own(o, 'name'));
  const u: Omit<ImportedUser, 'line'> = {
    userName: userName ?? '',
    email,
    emailVerified: c.bool(o, 'email_verified'),
    firstName: c.str(o, 'given_name', 256) ?? named.firstName,
    lastName: c.str(o, 'family_name', 256) ?? named.lastName,
    phone: c.str(o, 'phone_number', 32),
    externalId: typeof userId === 'string' ? userId : undefined,
    state: c.bool(o, 'blocked') ? 'SUSPENDED' : undefined,
    ...(hash.passwordHash ? { passwordHash: hash.passwordHash } : {}),
    requireResetPassword: hash.requireReset,
    profileSource: 'auth0',
  };
  return userName ? u : undefined;
};

/** A user of `firebase auth:export --format=json`; its hash needs the project's parameters. */
const firebase: Converter = (o, c, options) => {
  const localId = c.str(o, 'localId', 128, { nullable: false });
  const email = c.str(o, 'email', 254, { pattern: EMAIL });
  const userName = requireUserName(c, email ?? localId, email ? 'email' : 'localId');
  const passwordHash = c.str(o, 'passwordHash', 1024);
  const salt = c.str(o, 'salt', 1024);
  let stored: string | undefined;
  if (passwordHash) {
    if (!options.firebase)
      return c.fail(
        'passwordHash',
        'Firebase hashes need the project hash parameters (--hash-key, --salt-separator, --rounds, --mem-cost)',
      );
    if (!salt) return c.fail('salt', 'is required with passwordHash');
    try {
      stored = firebaseHash(options.firebase, passwordHash, salt);
    } catch (err) {
      if (!(err instanceof HashFormatError)) throw err;
      return c.fail('passwordHash', err.message);
    }
  }
  const named = splitName(own(o, 'displayName'));
  const u: Omit<ImportedUser, 'line'> = {
    userName: userName ?? '',
    email,
    emailVerified: c.bool(o, 'emailVerified'),
    ...named,
    phone: c.str(o, 'phoneNumber', 32),
    externalId: localId,
    state: c.bool(o, 'disabled') ? 'SUSPENDED' : 'ACTIVE',
    ...(stored ? { passwordHash: stored } : {}),
    profileSource: 'firebase',
  };
  return userName ? u : undefined;
};

const CONVERTERS: Record<ImportFormat, Converter> = { portcullis, keycloak, auth0, firebase };

/** Firebase's parameters from a document's `hashConfig` (or `hash_config`) when the caller gave none. */
export function firebaseConfigOf(context: Obj): FirebaseHashConfig | undefined {
  const h = own(context, 'hashConfig') ?? own(context, 'hash_config');
  if (!isObj(h)) return undefined;
  const signerKey = own(h, 'base64_signer_key') ?? own(h, 'signerKey');
  const saltSeparator = own(h, 'base64_salt_separator') ?? own(h, 'saltSeparator');
  const rounds = Number(own(h, 'rounds'));
  const memCost = Number(own(h, 'mem_cost') ?? own(h, 'memCost'));
  if (typeof signerKey !== 'string' || typeof saltSeparator !== 'string' || !Number.isInteger(rounds) || !Number.isInteger(memCost)) {
    throw new ImportFileError('hashConfig needs base64_signer_key, base64_salt_separator, rounds and mem_cost');
  }
  return { signerKey, saltSeparator, rounds, memCost };
}
