import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal } from './envelope.js';
import { SEAL_PURPOSES, type SealPurpose, sealLabel } from './seal-label.js';

/**
 * The exact bytes each purpose's label had before the labels moved into one helper (the ad-hoc
 * builders in vault.keys.ts, signing-keys.ts, idps.service.ts and mfa.service.ts). Values sealed
 * before open only if these stay byte-identical: a new purpose must add its vector here.
 */
const PINNED: Record<SealPurpose, { ids: string[]; label: string }> = {
  'vault.data_key': { ids: ['org-1'], label: '["portcullis/vault/data-key","org-1"]' },
  'vault.field': {
    ids: ['org-1', 'row-1', 'loginConfiguration.password'],
    label: '["portcullis/vault/field","org-1","row-1","loginConfiguration.password"]',
  },
  'sessions.signing_key': { ids: ['kmabc123xyz'], label: 'signing_key:kmabc123xyz' },
  'federation.idp_client_secret': { ids: ['corp-sso'], label: 'idp:corp-sso:client_secret' },
  'federation.auth_flow_verifier': { ids: ['9f86d081884c7d65'], label: 'auth_flow:9f86d081884c7d65:code_verifier' },
  'mfa.totp_secret': { ids: ['u_01'], label: 'user_mfa.secret:u_01' },
  'mfa.pending_totp_secret': { ids: ['u_01'], label: 'user_mfa.pending:u_01' },
  'webhooks.endpoint_secret': { ids: ['wh-1'], label: '["portcullis/webhooks/endpoint-secret","wh-1"]' },
};

const label = (purpose: SealPurpose, ids: string[]): string => (sealLabel as (p: SealPurpose, ...i: string[]) => string)(purpose, ...ids);

describe('sealLabel', () => {
  it('builds every purpose byte-for-byte as values already stored were sealed', () => {
    expect(Object.keys(PINNED).sort()).toEqual([...SEAL_PURPOSES].sort());
    for (const purpose of SEAL_PURPOSES) {
      const { ids, label: expected } = PINNED[purpose];
      expect(label(purpose, ids), purpose).toBe(expected);
    }
  });

  it('opens a value sealed under the label as the old builders wrote it', () => {
    const key = randomBytes(32);
    const stored = seal(key, 'JBSWY3DPEHPK3PXP', 'user_mfa.secret:u_01');
    expect(open(key, stored, sealLabel('mfa.totp_secret', 'u_01')).toString()).toBe('JBSWY3DPEHPK3PXP');
    expect(() => open(key, stored, sealLabel('mfa.pending_totp_secret', 'u_01'))).toThrow();
    expect(() => open(key, stored, sealLabel('mfa.totp_secret', 'u_02'))).toThrow();
  });

  it('gives different labels to different purposes and ids, JSON-escaped ids included', () => {
    const seen = new Set<string>();
    const ids = ['a', 'b', 'a:b', 'a"b', 'a\\b', '["x"]'];
    for (const purpose of SEAL_PURPOSES) {
      const arity = PINNED[purpose].ids.length;
      for (const id of ids) {
        const made = label(
          purpose,
          Array.from({ length: arity }, (_, i) => (i === 0 ? id : `f${i}`)),
        );
        expect(seen.has(made), made).toBe(false);
        seen.add(made);
      }
    }
  });

  it('refuses an empty id', () => {
    expect(() => sealLabel('mfa.totp_secret', '')).toThrow(/empty id/);
    expect(() => sealLabel('vault.field', 'org', '', 'f')).toThrow(/empty id/);
  });
});
