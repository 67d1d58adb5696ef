import { type MasterSealedColumn, sealLabel } from '../crypto/index.js';
import { createMfaRepo } from './mfa.repo.js';

// Why: the label binds a sealed secret to its user and column, so a ciphertext copied to another row fails to open.
/** Associated data of a user's active TOTP secret. */
export const activeAad = (userId: string): string => sealLabel('mfa.totp_secret', userId);
/** Associated data of the TOTP secret of an enrolment in progress. */
export const pendingAad = (userId: string): string => sealLabel('mfa.pending_totp_secret', userId);

/**
 * What MFA seals under the master key: the users' TOTP secrets, active and pending. Registered
 * for `keys rotate-master` (issue 14, finding 10: they were left out, and every MFA sign-in
 * answered 500 once the old key was dropped).
 */
export const mfaSealedColumns: readonly MasterSealedColumn[] = [
  {
    owner: 'mfa',
    kind: 'master_key',
    table: 'user_mfa',
    column: 'secret_sealed',
    holds: "users' MFA TOTP secrets",
    labelOf: activeAad,
    rows: ({ db }) => createMfaRepo(db).sealedSecrets('secretSealed'),
  },
  {
    owner: 'mfa',
    kind: 'master_key',
    table: 'user_mfa',
    column: 'pending_secret_sealed',
    holds: 'TOTP secrets of MFA enrolments in progress',
    labelOf: pendingAad,
    rows: ({ db }) => createMfaRepo(db).sealedSecrets('pendingSecretSealed'),
  },
];
