import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { Secret } from '../crypto/index.js';
import { ConfigError } from './config-error.js';
import { refuseInProduction } from './production.js';
import { type Config, type ConfigOption, configOptions } from './schema.js';

type Env = Record<string, string | undefined>;

const OPTIONS = configOptions();
const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The schema a set value is checked against: an option that may be unset is `value | undefined`. */
function valueSchema(schema: TSchema): TSchema & Record<string, unknown> {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  const [value, unset] = anyOf ?? [];
  return (value && (unset as { type?: string } | undefined)?.type === 'undefined' ? value : schema) as TSchema & Record<string, unknown>;
}

/** The variable's text as the schema's type: whole numbers and booleans are read here, everything else stays text. */
function fromText(raw: string, schema: TSchema & Record<string, unknown>, name: string): unknown {
  if (schema.type === 'integer') {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
    return Number(raw);
  }
  if (schema.type === 'boolean') {
    const word = raw.toLowerCase();
    if (TRUE.includes(word)) return true;
    if (FALSE.includes(word)) return false;
    throw new ConfigError(`${name} must be true or false, got "${word}"`);
  }
  return raw;
}

/** Checks one value against its option's schema; the first problem becomes a one-line `ConfigError` naming the variable. */
function check(option: ConfigOption, value: unknown): void {
  const schema = valueSchema(option.schema);
  const [error] = Value.Errors(schema, value);
  if (!error) return;
  const name = option.schema.env;
  // The messages never quote a value the schema does not put in its own refinement message: secrets stay out.
  if (error.keyword === 'minimum' || error.keyword === 'maximum') {
    throw new ConfigError(`${name} must be between ${schema.minimum} and ${schema.maximum}, got ${String(value)}`);
  }
  if (error.keyword === 'enum') throw new ConfigError(`${name} must be one of ${(schema.enum as string[]).join(', ')}`);
  throw new ConfigError(`${name} ${error.message}`);
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  target[head] ??= {};
  setAt(target[head] as Record<string, unknown>, rest, value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads every option of the configuration schema from `env` (its variable, else its default), checks it
 * against the schema and decodes it; then applies `overrides` (tests, not checked), the production
 * rules, and deep-freezes the result. Throws `ConfigError` naming the first bad variable.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const values: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const raw = str(env, option.schema.env);
    const encoded = raw === undefined ? option.schema.default : fromText(raw, valueSchema(option.schema), option.schema.env);
    if (encoded !== undefined) check(option, encoded);
    setAt(values, option.path, Value.Decode(option.schema, encoded));
  }
  // Shape guaranteed by the walk above: every option of the schema was set at its path.
  const config = values as Config;
  // Why here: the public URL's default follows the port, which a static schema default cannot say.
  if (str(env, 'PORTCULLIS_PUBLIC_URL') === undefined) config.publicUrl = `http://localhost:${config.port}`;
  config.allowedOrigins = [new URL(config.publicUrl).origin, ...config.allowedOrigins];
  config.allowedReturnUrls = [config.publicUrl, ...config.allowedReturnUrls];
  const result: Config = { ...config, ...overrides };
  if (result.env === 'production') refuseInProduction(result);
  return deepFreeze(result);
}
