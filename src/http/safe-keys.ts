/**
 * Names that lead from an ordinary object to a shared prototype when used as a property key:
 * `o.__proto__` is `Object.prototype`, `o.constructor` is `Object` and `o.constructor.prototype`
 * is `Object.prototype` again. A request that gets one of them into a key or an object path can
 * write onto every object of the process (prototype pollution), so input carrying them is refused
 * before it reaches code that walks or copies objects (DESIGN.md, "Authorization").
 */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

const FORBIDDEN_SET = new Set(FORBIDDEN_KEYS);

/**
 * A forbidden name as a whole word: not preceded or followed by an ASCII letter, digit, `_` or `$`.
 * Every other character (`.`, `:`, `[`, `"`, `-`, space, `%`, any non-ASCII character…) counts as a
 * boundary, which errs towards refusing: a parser that splits a path on any of them cannot produce
 * a forbidden segment this misses.
 */
const FORBIDDEN_WORD = /(?<![A-Za-z0-9_$])(?:__proto__|constructor|prototype)(?![A-Za-z0-9_$])/i;

/** Cheap test for text that may hold a forbidden key, escaped (`\u0063onstructor`) or not. */
const MAY_HOLD_FORBIDDEN = /__proto__|constructor|prototype|\\u/i;

/** True when `key` is one of {@link FORBIDDEN_KEYS}, in any letter case. */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_SET.has(key.toLowerCase());
}

/**
 * True when `text` names a forbidden key anywhere as a whole word, in any letter case:
 * `__proto__.x`, `name.constructor`, `emails[Prototype eq "a"]`, `urn:x:__proto__`.
 * For text that becomes an object path (SCIM attribute paths, dotted keys).
 */
export function mentionsForbiddenKey(text: string): boolean {
  return FORBIDDEN_WORD.test(text);
}

/**
 * The location (`a.b[2].c`) of the first key, at any depth of a parsed JSON value, that `refuse`
 * refuses; `undefined` when there is none. Walks iteratively, so a deeply nested body cannot
 * overflow the stack, and builds the location only for the key it reports.
 */
export function findKey(value: unknown, refuse: (key: string) => boolean): string | undefined {
  interface Step {
    value: unknown;
    label: string;
    parent: Step | undefined;
  }
  const stack: Step[] = [{ value, label: '', parent: undefined }];
  for (let step = stack.pop(); step; step = stack.pop()) {
    const node = step.value;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ value: node[i], label: `[${i}]`, parent: step });
      continue;
    }
    for (const key of Object.keys(node)) {
      const child: Step = { value: (node as Record<string, unknown>)[key], label: `.${key}`, parent: step };
      if (refuse(key)) return locationOf(child);
      stack.push(child);
    }
  }
  return undefined;
}

function locationOf(step: { label: string; parent: unknown }): string {
  const labels: string[] = [];
  for (let s: typeof step | undefined = step; s; s = s.parent as typeof step | undefined) labels.push(s.label);
  const path = labels.reverse().join('');
  return path.startsWith('.') ? path.slice(1) : path;
}

/**
 * Where a parsed JSON body holds a forbidden key ({@link isForbiddenKey}) at any depth, or
 * `undefined`. `text` is the raw body: when it cannot hold one, the walk is skipped.
 */
export function findForbiddenKey(value: unknown, text?: string): string | undefined {
  if (text !== undefined && !MAY_HOLD_FORBIDDEN.test(text)) return undefined;
  return findKey(value, isForbiddenKey);
}

/**
 * A copy of `bag`'s own enumerable properties on an object without a prototype: reading a field the
 * caller did not set gives `undefined`, never an inherited value. For option bags and request inputs
 * whose absent fields carry meaning (`options.bootstrap`, `input.roles ?? ['member']`), so that even a
 * polluted `Object.prototype` cannot supply one.
 */
export function ownProps<T extends object>(bag: T | undefined | null): T {
  return Object.assign(Object.create(null) as T, bag);
}
