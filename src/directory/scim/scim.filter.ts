import { type Filter, parse } from 'scim2-parse-filter';
import { AppError } from '../../errors/index.js';
import { forbiddenFilterAttribute } from './scim.paths.js';

/** RFC 7643: these compare case-sensitively; every other string attribute ignores case. */
const CASE_EXACT = new Set(['id', 'externalid', 'meta.version', 'members.value', 'groups.value']);

/**
 * Parses a SCIM filter (`userName eq "x" and emails[type eq "work"].value eq "y"`). A filter on an
 * attribute named `__proto__`, `constructor` or `prototype` is refused (`scim.invalid_filter`).
 */
export function parseFilter(text: string | undefined): Filter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let filter: Filter;
  try {
    filter = parse(text);
  } catch (cause) {
    throw new AppError('scim.invalid_filter', { detail: (cause as Error).message, cause });
  }
  // Why: attribute paths are looked up on resources by name; one that names a prototype is never a
  // real attribute and is refused before anything evaluates it.
  const forbidden = forbiddenFilterAttribute(filter);
  if (forbidden !== undefined) {
    throw new AppError('scim.invalid_filter', { details: ['filter'], detail: `forbidden attribute name ${forbidden.slice(0, 256)}` });
  }
  return filter;
}

/**
 * A top-level `attr eq "value"` conjunct, so the repo can narrow by an indexed column before
 * the whole filter is evaluated in memory.
 */
export function eqHint(filter: Filter | undefined, attribute: string): string | undefined {
  if (!filter) return undefined;
  if (filter.op === 'eq' && 'attrPath' in filter && filter.attrPath.toLowerCase() === attribute.toLowerCase()) {
    return typeof filter.compValue === 'string' ? filter.compValue : undefined;
  }
  if (filter.op === 'and' && 'filters' in filter) {
    for (const f of filter.filters) {
      const hit = eqHint(f, attribute);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** Values at `path` (case-insensitive names, URN-prefixed extension paths, arrays flattened). */
function valuesAt(resource: unknown, path: string[]): unknown[] {
  if (path.length === 0) return Array.isArray(resource) ? resource : [resource];
  if (Array.isArray(resource)) return resource.flatMap((r) => valuesAt(r, path));
  if (typeof resource !== 'object' || resource === null) return [];
  const [head, ...rest] = path as [string, ...string[]];
  const key = Object.keys(resource).find((k) => k.toLowerCase() === head.toLowerCase());
  return key === undefined ? [] : valuesAt((resource as Record<string, unknown>)[key], rest);
}

function splitPath(path: string): string[] {
  const colon = path.lastIndexOf(':');
  return colon === -1 ? path.split('.') : [path.slice(0, colon), ...path.slice(colon + 1).split('.')];
}

function compare(op: string, actual: unknown, expected: unknown, caseExact: boolean): boolean {
  if (op === 'pr') return actual !== undefined && actual !== null && actual !== '';
  let a = actual;
  let e = expected;
  if (typeof a === 'string' && typeof e === 'string' && !caseExact) {
    a = a.toLowerCase();
    e = e.toLowerCase();
  }
  // Entra sends booleans as strings in places ("True"); compare them as booleans.
  if (typeof a === 'boolean' && typeof e === 'string' && /^(true|false)$/i.test(e)) e = e.toLowerCase() === 'true';
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return typeof a === 'string' && typeof e === 'string' && a.includes(e);
    case 'sw':
      return typeof a === 'string' && typeof e === 'string' && a.startsWith(e);
    case 'ew':
      return typeof a === 'string' && typeof e === 'string' && a.endsWith(e);
    case 'gt':
      return e !== null && (a as number) > (e as number);
    case 'ge':
      return e !== null && (a as number) >= (e as number);
    case 'lt':
      return e !== null && (a as number) < (e as number);
    case 'le':
      return e !== null && (a as number) <= (e as number);
    default:
      return false;
  }
}

/** Evaluates a parsed filter against a SCIM resource (RFC 7644 §3.4.2.2). */
export function matches(resource: unknown, filter: Filter, prefix = ''): boolean {
  switch (filter.op) {
    case 'and':
      return (filter as { filters: Filter[] }).filters.every((f) => matches(resource, f, prefix));
    case 'or':
      return (filter as { filters: Filter[] }).filters.some((f) => matches(resource, f, prefix));
    case 'not':
      return !matches(resource, (filter as { filter: Filter }).filter, prefix);
    case '[]': {
      const f = filter as { attrPath: string; valFilter: Filter };
      return valuesAt(resource, splitPath(f.attrPath)).some((item) => matches(item, f.valFilter, `${prefix}${f.attrPath}.`));
    }
    default: {
      const f = filter as { op: string; attrPath: string; compValue?: unknown };
      const caseExact = CASE_EXACT.has(`${prefix}${f.attrPath}`.toLowerCase());
      const values = valuesAt(resource, splitPath(f.attrPath));
      if (f.op === 'ne') return values.every((v) => compare('ne', v, f.compValue, caseExact));
      return values.some((v) => compare(f.op, v, f.compValue, caseExact));
    }
  }
}
