import type { AuditService } from '../audit/index.js';
import { authorize, inOrganization, type RequestContext } from '../auth/index.js';
import type { FirebaseHashConfig } from '../crypto/index.js';
import { AppError, assertThat } from '../errors/index.js';
import type { ImportedUser, ImportLineError, User, UsersService } from '../identity/index.js';
import { convertItem, firebaseConfigOf, ImportFileError, type ImportFormat, type RawItem, splitItems } from './formats.js';

export interface ImportRequest {
  format?: ImportFormat | undefined;
  /** The organization users go to (default: the caller's). Another one needs a superadmin. */
  organizationId?: string | undefined;
  dryRun?: boolean | undefined;
  allowUnsalted?: boolean | undefined;
  replacePasswords?: boolean | undefined;
  firebase?: FirebaseHashConfig | undefined;
  /** At most this many users (the HTTP route's limit); the CLI has none. */
  maxItems?: number | undefined;
}

export interface ImportReport {
  dryRun: boolean;
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** Every refused line (a line with several bad fields appears once per field). */
  errors: ImportLineError[];
}

/** How many users one transaction writes. */
export const IMPORT_BATCH = 500;

/** One line of `portcullis export`: the user without secrets beyond its password hash. */
export interface ExportedUser {
  id: string;
  userName: string;
  email: string | null;
  emailVerified: boolean;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  title: string | null;
  department: string | null;
  mobile: string | null;
  externalId: string | null;
  adSid: string | null;
  roles: string[];
  groups: string[];
  state: string;
  requireResetPassword: boolean;
  mfaEnabled: boolean;
  userAttributes: Record<string, string> | null;
  passwordHash: string | null;
  createdAt: string;
}

export interface PortabilityDeps {
  users: UsersService;
  audit: AuditService;
}

export function createPortabilityService(deps: PortabilityDeps) {
  const { users } = deps;

  /**
   * Imports a file's text: splits it into items, converts each from its format (collecting per-line
   * errors), and writes batches of {@link IMPORT_BATCH} through the users service. A batch that hits
   * a unique conflict (a SID or external id held by another user) is retried one user at a time so
   * that only the conflicting lines fail.
   */
  async function importText(
    ctx: RequestContext,
    text: string,
    request: ImportRequest,
    onProgress?: (done: number, total: number) => void,
  ): Promise<ImportReport> {
    const p = ctx.principal;
    assertThat(p, 'auth.unauthenticated');
    const organizationId = request.organizationId ?? p.organizationId;
    authorize(p, 'user.import', inOrganization(organizationId));
    const format = request.format ?? 'portcullis';
    let split: ReturnType<typeof splitItems>;
    let firebase = request.firebase;
    try {
      split = splitItems(text, format);
      if (format === 'firebase') firebase ??= firebaseConfigOf(split.context);
    } catch (err) {
      if (err instanceof ImportFileError)
        throw new AppError('request.invalid', { details: ['body'], detail: err.message, message: err.message });
      throw err;
    }
    const total = split.items.length + split.errors.length;
    if (request.maxItems !== undefined && total > request.maxItems) {
      throw new AppError('request.too_large', {
        details: ['body'],
        message: `At most ${request.maxItems} users per request; use the CLI for larger files.`,
        detail: `${total} items`,
      });
    }
    const report: ImportReport = {
      dryRun: request.dryRun ?? false,
      total,
      created: 0,
      updated: 0,
      unchanged: 0,
      failed: 0,
      errors: [...split.errors],
    };
    const options = { dryRun: request.dryRun, replacePasswords: request.replacePasswords };
    let done = split.errors.length;
    for (let i = 0; i < split.items.length; i += IMPORT_BATCH) {
      const batch: ImportedUser[] = [];
      for (const item of split.items.slice(i, i + IMPORT_BATCH) as RawItem[]) {
        const converted = convertItem(format, item, { allowUnsalted: request.allowUnsalted, firebase });
        if (converted.user) batch.push(converted.user);
        else report.errors.push(...converted.errors);
      }
      let results: Awaited<ReturnType<UsersService['importBatch']>>[];
      try {
        results = [await users.importBatch(ctx, organizationId, batch, options)];
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'resource.conflict') throw err;
        results = [];
        for (const one of batch) {
          try {
            results.push(await users.importBatch(ctx, organizationId, [one], options));
          } catch (e) {
            if (!(e instanceof AppError) || e.code !== 'resource.conflict') throw e;
            const field = e.details?.[0]?.replace(/^body\./, '') ?? 'userName';
            results.push({ created: 0, updated: 0, unchanged: 0, errors: [{ line: one.line, field, reason: `${field} is taken` }] });
          }
        }
      }
      for (const r of results) {
        report.created += r.created;
        report.updated += r.updated;
        report.unchanged += r.unchanged;
        report.errors.push(...r.errors);
      }
      done += Math.min(IMPORT_BATCH, split.items.length - i);
      onProgress?.(done, total);
    }
    report.errors.sort((a, b) => a.line - b.line);
    report.failed = new Set(report.errors.map((e) => e.line)).size;
    return report;
  }

  /**
   * Every user of an organization (DELETED ones left out) as export lines, page by page. Password
   * hashes go out as stored (argon2id once a user has signed in); TOTP seeds, vault secrets and API
   * key hashes never do.
   */
  async function* exportUsers(ctx: RequestContext, organizationId: string): AsyncGenerator<ExportedUser> {
    const p = ctx.principal;
    assertThat(p, 'auth.unauthenticated');
    authorize(p, 'user.export', inOrganization(organizationId));
    let after: { createdAt: string; id: string } | undefined;
    let count = 0;
    for (;;) {
      const page: User[] = await users.lookup.list({ organizationId, excludeState: 'DELETED', limit: 1000, ...(after ? { after } : {}) });
      for (const u of page) {
        if (u.userType !== 'USER') continue;
        count++;
        yield {
          id: u.id,
          userName: u.userName,
          email: u.email,
          emailVerified: u.emailVerified,
          firstName: u.firstName,
          lastName: u.lastName,
          phone: u.phone,
          title: u.title,
          department: u.department,
          mobile: u.mobile,
          externalId: u.externalId,
          adSid: u.adSid,
          roles: u.roles,
          groups: u.groups,
          state: u.state,
          requireResetPassword: u.requireResetPassword,
          mfaEnabled: u.mfaEnabled,
          userAttributes: u.userAttributes,
          passwordHash: u.passwordHash,
          createdAt: u.createdAt,
        };
      }
      const last = page.at(-1);
      if (!last || page.length < 1000) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    await deps.audit.record(ctx, { action: 'user.exported', organizationId, data: { users: count } });
  }

  return { importText, exportUsers };
}
export type PortabilityService = ReturnType<typeof createPortabilityService>;
