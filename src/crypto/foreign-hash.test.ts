import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  argon2iCli,
  djangoPbkdf2,
  djangoScrypt,
  FIREBASE_CONFIG,
  firebaseScrypt,
  htpasswdBcrypt,
  opensslApr1,
  opensslMd5Crypt,
  opensslSha256Crypt,
  opensslSha512Crypt,
  phcPbkdf2,
  phcScrypt,
  sshaHash,
} from '../../test/helpers/foreign-hashes.js';
import { firebaseHash, HashFormatError, keycloakCredentialHash, normalizeForeignHash, verifyForeignHash } from './foreign-hash.js';
import { createPasswordHasher } from './password.js';

const PASSWORD = 'Tr0ub4dor&3 — ünïcode';
const hasher = createPasswordHasher({ memoryKiB: 64, timeCost: 1, parallelism: 1, concurrency: 2 });

/** @see issue 20: hashes made by tools outside the project verify, and a wrong password does not. */
describe('foreign password hashes made by other tools', () => {
  const cases = [
    ['htpasswd -B', () => htpasswdBcrypt(PASSWORD)],
    ['openssl passwd -6', () => opensslSha512Crypt(PASSWORD)],
    ['openssl passwd -5', () => opensslSha256Crypt(PASSWORD)],
    ['openssl passwd -1', () => opensslMd5Crypt(PASSWORD)],
    ['openssl passwd -apr1', () => opensslApr1(PASSWORD)],
    ['Django pbkdf2_sha256', () => djangoPbkdf2(PASSWORD)],
    ['Django pbkdf2_sha1', () => djangoPbkdf2(PASSWORD, 'sha1')],
    ['Django scrypt', () => djangoScrypt(PASSWORD)],
    ['PHC scrypt', () => phcScrypt(PASSWORD)],
    ['PHC pbkdf2-sha512', () => phcPbkdf2(PASSWORD)],
    ['{SSHA}', () => sshaHash(PASSWORD, '')],
    ['{SSHA256}', () => sshaHash(PASSWORD, '256')],
    ['{SSHA512}', () => sshaHash(PASSWORD, '512')],
    ['argon2 -i', () => argon2iCli(PASSWORD)],
  ] as const;

  for (const [name, make] of cases) {
    it(`${name}: the right password verifies, a wrong one does not, and it needs a rehash`, async () => {
      const { passwordHash } = make();
      const { stored, unsalted } = normalizeForeignHash(passwordHash);
      expect(unsalted).toBe(false);
      expect(await hasher.verify(stored, PASSWORD)).toBe(true);
      expect(await hasher.verify(stored, `${PASSWORD}x`)).toBe(false);
      expect(await hasher.verify(stored, '')).toBe(false);
      expect(hasher.needsRehash(stored)).toBe(true);
    });
  }

  it('Firebase scrypt from the firebase-scrypt package, with the project parameters', async () => {
    const { passwordHash, salt } = await firebaseScrypt(PASSWORD);
    const stored = firebaseHash(
      {
        signerKey: FIREBASE_CONFIG.base64_signer_key,
        saltSeparator: FIREBASE_CONFIG.base64_salt_separator,
        rounds: FIREBASE_CONFIG.rounds,
        memCost: FIREBASE_CONFIG.mem_cost,
      },
      passwordHash,
      salt,
    );
    expect(normalizeForeignHash(stored).stored).toBe(stored);
    expect(await verifyForeignHash(stored, PASSWORD)).toBe(true);
    expect(await verifyForeignHash(stored, 'wrong')).toBe(false);
  });
});

describe('published vectors and formats', () => {
  it('phpass: the test vector of the phpass distribution', async () => {
    const stored = normalizeForeignHash('$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0').stored;
    expect(await verifyForeignHash(stored, 'test12345')).toBe(true);
    expect(await verifyForeignHash(stored, 'test12346')).toBe(false);
    expect(await verifyForeignHash(stored.replace('$P$', '$H$'), 'test12345')).toBe(true);
  });

  it('sha-crypt: the vectors of Drepper’s specification', async () => {
    expect(await verifyForeignHash('$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5', 'Hello world!')).toBe(true);
    expect(
      await verifyForeignHash(
        '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
        'Hello world!',
      ),
    ).toBe(true);
    expect(
      await verifyForeignHash(
        '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
        'Hello world!',
      ),
    ).toBe(true);
  });

  it('bcrypt $2a$/$2b$/$2y$ are one algorithm', async () => {
    const { passwordHash } = htpasswdBcrypt('pw-123456');
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const stored = normalizeForeignHash(prefix + passwordHash.slice(4)).stored;
      expect(await verifyForeignHash(stored, 'pw-123456')).toBe(true);
    }
  });

  it('Keycloak credentials (PBKDF2-SHA256, the 27,500-iteration default) become a PHC string', async () => {
    const salt = randomBytes(16);
    const value = pbkdf2Sync('kc-password', salt, 27500, 64, 'sha256');
    const credential = {
      type: 'password',
      secretData: JSON.stringify({ value: value.toString('base64'), salt: salt.toString('base64'), additionalParameters: {} }),
      credentialData: JSON.stringify({ hashIterations: 27500, algorithm: 'pbkdf2-sha256', additionalParameters: {} }),
    };
    const stored = keycloakCredentialHash(credential);
    expect(stored.startsWith('$pbkdf2-sha256$i=27500$')).toBe(true);
    expect(await verifyForeignHash(stored, 'kc-password')).toBe(true);
    expect(await verifyForeignHash(stored, 'kc-passwort')).toBe(false);
    expect(normalizeForeignHash(credential).stored).toBe(stored);
  });

  it('unsalted MD5 and SHA-1 pass only with allowUnsalted, and say so', async () => {
    const md5 = createHash('md5').update('plain-old').digest('hex');
    const sha1 = createHash('sha1').update('plain-old').digest('hex');
    expect(() => normalizeForeignHash(md5)).toThrow(HashFormatError);
    expect(() => normalizeForeignHash(`{SHA}${Buffer.from(sha1, 'hex').toString('base64')}`)).toThrow(/allowUnsalted/);
    for (const h of [md5, sha1]) {
      const n = normalizeForeignHash(h, { allowUnsalted: true });
      expect(n.unsalted).toBe(true);
      expect(await verifyForeignHash(n.stored, 'plain-old')).toBe(true);
      expect(await verifyForeignHash(n.stored, 'plain-new')).toBe(false);
    }
  });

  it('refuses unknown formats, malformed hashes and costs beyond the limits', () => {
    for (const bad of [
      'plaintext',
      '$2b$31$' + 'a'.repeat(53),
      '$6$rounds=999999999$salt$' + 'a'.repeat(86),
      '$pbkdf2-sha256$i=99999999$c2FsdA$' + 'a'.repeat(43),
      '$scrypt$ln=30,r=8,p=1$c2FsdA$' + 'a'.repeat(43),
      '$argon2id$v=19$m=9999999,t=2,p=1$c2FsdHNhbHQ$' + 'a'.repeat(43),
      42,
      { type: 'password', secretData: '{}', credentialData: '{"algorithm":"md4"}' },
    ]) {
      expect(() => normalizeForeignHash(bad)).toThrow(HashFormatError);
    }
  });

  it('a malformed stored hash answers false, never throws', async () => {
    expect(await hasher.verify('$scrypt$garbage', 'x')).toBe(false);
    expect(await hasher.verify('nonsense', 'x')).toBe(false);
  });

  it('argon2id of the current parameters needs no rehash', async () => {
    const h = await hasher.hash(PASSWORD);
    expect(hasher.needsRehash(h)).toBe(false);
    expect(await hasher.verify(h, PASSWORD)).toBe(true);
  });
});
