import { type ScimPatchOperation, scimPatch } from 'scim-patch';
import { AppError, type ErrorCode } from '../../errors/index.js';
import { assertSafePatch } from './scim.paths.js';
import type { ScimAttributes } from './scim.repo.js';
import { checkDisplayName, isObject, type Resource, str, topLevel } from './scim.resources.js';
import { SCIM } from './scim.schemas.js';

/**
 * SCIM PATCH (RFC 7644 §3.5.2) for Users and Groups: one reading of the operations
 * ({@link patchSteps}), applied to a user resource through scim-patch or to a group's state.
 * The callers check the operations' paths and keys (`assertSafePatch`) before they get here.
 */

/** A PATCH operation as the request carries it. */
export interface PatchOperationInput {
  op: string;
  path?: string | undefined;
  value?: unknown;
}

/** An operation's `op`, lower-cased. */
export type PatchOp = 'add' | 'replace' | 'remove';

/** One attribute an operation addresses. */
export interface PatchStep {
  op: PatchOp;
  /** The operation's path, or — for an operation without one — a key of its value. */
  path: string;
  value: unknown;
  /** True when `path` is a key of a no-path operation's value (Entra's `{op, value: {"name.givenName": …}}`). */
  fromValue: boolean;
}

/**
 * The operations, one step per addressed attribute, in order: `op` in any case (`Add`, `Replace`,
 * `Remove`), else `scim.invalid_syntax`; an operation without `path` needs an object value and
 * addresses each of its keys; `remove` needs a path (`scim.no_target`). Lazy, so that a step is
 * applied before a later operation is read (errors come in request order).
 */
export function* patchSteps(operations: readonly PatchOperationInput[]): Generator<PatchStep> {
  for (const o of operations) {
    const op = o.op.trim().toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new AppError('scim.invalid_syntax', { detail: `unknown op ${o.op}` });
    const path = o.path?.trim();
    if (path) {
      yield { op, path, value: o.value, fromValue: false };
      continue;
    }
    if (op === 'remove') throw new AppError('scim.no_target', { detail: 'remove without path' });
    if (!isObject(o.value)) throw new AppError('scim.invalid_syntax', { detail: 'an operation without path needs an object value' });
    for (const [key, value] of Object.entries(o.value)) yield { op, path: key, value, fromValue: true };
  }
}

function scimPatchError(err: unknown): AppError {
  const code = (err as { scimCode?: string }).scimCode;
  const map: Record<string, ErrorCode> = {
    noTarget: 'scim.no_target',
    invalidPath: 'scim.invalid_path',
    invalidValue: 'scim.invalid_value',
    mutability: 'scim.mutability',
  };
  return new AppError((code && map[code]) || 'scim.invalid_syntax', { detail: (err as Error).message, cause: err });
}

/**
 * scim-patch operations for a user: a key of a no-path value that names one of the user's schemas
 * with an object value addresses each of its keys under that schema; `password` is dropped (never
 * provisioned through SCIM); `id`, `meta`, `groups` and `schemas` are read-only (`scim.mutability`).
 */
function userOperations(operations: readonly PatchOperationInput[], schemas: readonly string[]): ScimPatchOperation[] {
  const out: ScimPatchOperation[] = [];
  const known = new Set([SCIM.user, SCIM.enterprise, ...schemas].map((s) => s.toLowerCase()));
  const push = (op: PatchOp, path: string, value: unknown) => {
    const top = topLevel(path);
    if (top === 'password') return;
    if (['id', 'meta', 'groups', 'schemas'].includes(top)) throw new AppError('scim.mutability', { detail: `${top} is read-only` });
    out.push((op === 'remove' ? { op, path, ...(value !== undefined ? { value } : {}) } : { op, path, value }) as ScimPatchOperation);
  };
  for (const step of patchSteps(operations)) {
    if (step.fromValue && known.has(step.path.toLowerCase()) && isObject(step.value)) {
      const prefix = step.path.toLowerCase() === SCIM.user.toLowerCase() ? '' : `${step.path}:`;
      for (const [sub, v] of Object.entries(step.value)) push(step.op, `${prefix}${sub}`, v);
    } else {
      push(step.op, step.path, step.value);
    }
  }
  return out;
}

/**
 * A user resource with the operations applied (PATCH /Users/{id}), including Entra's no-path
 * forms; scim-patch's failures become the matching `scim.*` errors.
 */
export function patchUserResource(current: Resource, operations: readonly PatchOperationInput[]): Resource {
  const schemas = Array.isArray(current.schemas) ? (current.schemas as string[]) : [];
  const ops = userOperations(operations, schemas);
  // Why: these are exactly what scim-patch walks; checked again after normalization so that no
  // path composed from keys can reach it unchecked.
  assertSafePatch(ops);
  try {
    return scimPatch(current as never, ops, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as Resource;
  } catch (err) {
    throw scimPatchError(err);
  }
}

/** What PATCH /Groups/{id} changes. */
export interface GroupState {
  displayName: string;
  externalId: string | null;
  /** Schema-extension attributes, as sent. */
  extra: ScimAttributes;
  /** Member user ids. */
  members: Set<string>;
}

const MEMBER_FILTER = /^members\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]$/i;

/**
 * Applies the operations to a group's state: `displayName`/`externalId` replace, members are
 * added and removed by value list or by a `members[value eq "…"]` path (removing an absent member
 * is a no-op), `urn:…` attributes are kept; other attributes are ignored, as on create.
 * `memberIds` checks added members (the caller's organization's users).
 */
export async function patchGroupState(
  state: GroupState,
  operations: readonly PatchOperationInput[],
  memberIds: (value: unknown) => Promise<string[]>,
): Promise<void> {
  const { members } = state;
  const setAttribute = async (op: PatchOp, key: string, value: unknown): Promise<void> => {
    const k = key.toLowerCase();
    if (k === 'displayname') {
      if (op === 'remove') throw new AppError('scim.mutability', { detail: 'displayName is required' });
      state.displayName = checkDisplayName(value);
    } else if (k === 'externalid') {
      state.externalId = op === 'remove' ? null : str(value);
    } else if (k === 'members') {
      if (op === 'replace') members.clear();
      if (op === 'remove' && (value === undefined || value === null)) members.clear();
      else if (op === 'remove') for (const m of Array.isArray(value) ? value : [value]) members.delete(String(isObject(m) ? m.value : m));
      else for (const m of await memberIds(value)) members.add(m);
    } else if (['id', 'meta', 'schemas'].includes(k)) {
      throw new AppError('scim.mutability', { detail: `${key} is read-only` });
    } else if (!k.startsWith('urn:')) {
      // an attribute no schema defines: ignored, as on create
    } else if (op === 'remove') {
      delete state.extra[key];
    } else {
      state.extra[key] = value;
    }
  };

  for (const step of patchSteps(operations)) {
    if (step.fromValue) {
      await setAttribute(step.op, step.path, step.value);
      continue;
    }
    const filtered = MEMBER_FILTER.exec(step.path);
    if (filtered) {
      if (step.op !== 'remove') throw new AppError('scim.invalid_path', { detail: 'a member filter is only valid for remove' });
      members.delete(JSON.parse(`"${filtered[1]}"`) as string);
      continue;
    }
    if (step.path.includes('[') || step.path.includes('.')) {
      throw new AppError('scim.invalid_path', { detail: `unsupported path ${step.path}` });
    }
    await setAttribute(step.op, step.path, step.value);
  }
}
