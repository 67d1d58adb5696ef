import type { AttrExp, Filter, LogExp, NotFilter, ValuePath } from 'scim2-parse-filter';
import { AppError } from '../../errors/index.js';
import { findKey, mentionsForbiddenKey } from '../../http/index.js';

/**
 * SCIM input that becomes an object path — PATCH paths, the keys of PATCH values (scim-patch reads
 * `{"name.givenName": …}` as a path), resource keys, filter attributes, `attributes`,
 * `excludedAttributes`, `sortBy` — never names `__proto__`, `constructor` or `prototype`, in any
 * letter case (SCIM attribute names ignore case). scim-patch walks paths with plain property access,
 * so `__proto__.x` or `constructor.prototype.x` would write onto `Object.prototype`. Everything here
 * runs before the input reaches scim-patch, the filter evaluator or a stored resource.
 */

/** Query parameters naming attributes (RFC 7644 §3.4.2.3, §3.9). */
export interface AttributeParams {
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
  sortBy?: string | undefined;
}

/** A PATCH operation as the request carries it (RFC 7644 §3.5.2). */
export interface PatchOperationLike {
  path?: string | undefined;
  value?: unknown;
}

function refusedPath(where: string): AppError {
  return new AppError('scim.invalid_path', { details: [where.slice(0, 256)], detail: `forbidden attribute name in ${where}` });
}

/**
 * Refuses (`scim.invalid_path`) a PATCH path that names a forbidden key anywhere: as a segment
 * (`name.__proto__`), after a schema URN (`urn:…:User:__proto__`), as a value-filter attribute
 * (`emails[__proto__ eq "x"]`) or after one (`emails[type eq "work"].constructor`).
 */
export function assertSafePath(path: string, where = 'path'): void {
  // Why: the whole text is searched, quoted filter values included. scim-patch splits paths with its
  // own regular expressions, which do not read quotes the way the grammar does (`a".__proto__."b`
  // is split into `a"`, `__proto__`, `"b`); only a search that ignores quoting cannot be outwitted by
  // that difference. The cost is that a value filter on a literal such as "constructor" is refused.
  if (mentionsForbiddenKey(path)) throw refusedPath(where);
}

/**
 * Refuses (`scim.invalid_path`) a key, at any depth of `value`, that names a forbidden key as a
 * word (`__proto__.x`, `name.constructor`, `urn:…:prototype`): scim-patch assigns the keys of an
 * object value as dotted paths, and the keys of a resource become attribute names.
 */
export function assertSafeKeys(value: unknown, where = 'body'): void {
  const found = findKey(value, mentionsForbiddenKey);
  if (found !== undefined) throw refusedPath(`${where}.${found}`);
}

/** Every operation's path and every key of every operation's value ({@link assertSafePath}, {@link assertSafeKeys}). */
export function assertSafePatch(operations: readonly PatchOperationLike[]): void {
  operations.forEach((operation, i) => {
    if (typeof operation.path === 'string') assertSafePath(operation.path, `Operations[${i}].path`);
    assertSafeKeys(operation.value, `Operations[${i}].value`);
  });
}

/** `attributes`, `excludedAttributes` and `sortBy` name no forbidden key (`scim.invalid_path`). */
export function assertSafeAttributeParams(params: AttributeParams): void {
  for (const name of ['attributes', 'excludedAttributes', 'sortBy'] as const) {
    // Why: own properties only, so a polluted prototype cannot add a parameter the request did not send.
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    if (typeof value === 'string' && mentionsForbiddenKey(value)) throw refusedPath(name);
  }
}

/**
 * The first attribute path of a parsed filter that names a forbidden key (`__proto__ eq "x"`,
 * `emails[constructor pr]`, `name.prototype sw "a"`), or `undefined`. Compared values are not
 * looked at: `displayName eq "constructor"` is an ordinary search.
 */
export function forbiddenFilterAttribute(filter: Filter): string | undefined {
  const stack: Filter[] = [filter];
  for (let f = stack.pop(); f; f = stack.pop()) {
    // By operator, not by `in`: a node's shape follows from its own `op`, never from what it inherits.
    switch (f.op) {
      case 'and':
      case 'or':
        stack.push(...(f as LogExp).filters);
        break;
      case 'not':
        stack.push((f as NotFilter).filter);
        break;
      case '[]':
        stack.push((f as ValuePath).valFilter);
        if (mentionsForbiddenKey((f as ValuePath).attrPath)) return (f as ValuePath).attrPath;
        break;
      default:
        if (mentionsForbiddenKey((f as AttrExp).attrPath)) return (f as AttrExp).attrPath;
    }
  }
  return undefined;
}
