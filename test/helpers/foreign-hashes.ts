import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { FirebaseScrypt } from 'firebase-scrypt';

/**
 * Password hashes made by tools outside Portcullis, for import tests: apache2-utils' `htpasswd`,
 * `openssl passwd`, python3's hashlib (Django's formats), Debian's `argon2` CLI and the
 * firebase-scrypt package. The apt packages `apache2-utils` and `argon2` must be installed
 * (.ci/run installs them).
 */
export interface ExternalHash {
  tool: string;
  /** What goes into the import file's `passwordHash`. */
  passwordHash: string;
}

const run = (cmd: string, args: string[], input?: string): string => {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8' }).trim();
  } catch (err) {
    throw new Error(`${cmd} failed (apt-get install -y apache2-utils argon2 openssl python3): ${(err as Error).message}`);
  }
};

export const htpasswdBcrypt = (password: string): ExternalHash => ({
  tool: 'htpasswd -B',
  passwordHash: run('htpasswd', ['-nbB', '-C', '5', 'u', password]).split(':')[1] as string,
});

export const opensslSha512Crypt = (password: string): ExternalHash => ({
  tool: 'openssl passwd -6',
  passwordHash: run('openssl', ['passwd', '-6', '-stdin'], password),
});

export const opensslSha256Crypt = (password: string): ExternalHash => ({
  tool: 'openssl passwd -5',
  passwordHash: run('openssl', ['passwd', '-5', '-stdin'], password),
});

export const opensslMd5Crypt = (password: string): ExternalHash => ({
  tool: 'openssl passwd -1',
  passwordHash: run('openssl', ['passwd', '-1', '-stdin'], password),
});

export const opensslApr1 = (password: string): ExternalHash => ({
  tool: 'openssl passwd -apr1',
  passwordHash: run('openssl', ['passwd', '-apr1', '-stdin'], password),
});

/** Django's PBKDF2PasswordHasher format, computed with hashlib as Django does. */
export const djangoPbkdf2 = (password: string, digest: 'sha256' | 'sha1' = 'sha256'): ExternalHash => ({
  tool: `python3 hashlib pbkdf2_${digest}`,
  passwordHash: run(
    'python3',
    [
      '-c',
      `import hashlib,base64,sys,secrets
pw=sys.stdin.read().encode()
salt=secrets.token_hex(11)
it=30000
h=base64.b64encode(hashlib.pbkdf2_hmac('${digest}',pw,salt.encode(),it)).decode()
print(f"pbkdf2_${digest}\${it}\${salt}\${h}")`,
    ],
    password,
  ),
});

/** Django's ScryptPasswordHasher format (N=2^14, r=8, p=1, 64-byte key). */
export const djangoScrypt = (password: string): ExternalHash => ({
  tool: 'python3 hashlib scrypt (Django)',
  passwordHash: run(
    'python3',
    [
      '-c',
      `import hashlib,base64,sys,secrets
pw=sys.stdin.read().encode()
salt=secrets.token_hex(11)
n,r,p=2**14,8,1
h=base64.b64encode(hashlib.scrypt(pw,salt=salt.encode(),n=n,r=r,p=p,maxmem=64*1024*1024,dklen=64)).decode()
print(f"scrypt\${n}\${salt}\${r}\${p}\${h}")`,
    ],
    password,
  ),
});

/** A PHC scrypt string (`$scrypt$ln=…,r=…,p=…$salt$hash`, passlib's layout) from hashlib. */
export const phcScrypt = (password: string): ExternalHash => ({
  tool: 'python3 hashlib scrypt (PHC)',
  passwordHash: run(
    'python3',
    [
      '-c',
      `import hashlib,base64,sys,os
pw=sys.stdin.read().encode()
salt=os.urandom(16)
b=lambda x: base64.b64encode(x).decode().rstrip('=')
print(f"$scrypt$ln=14,r=8,p=1\${b(salt)}\${b(hashlib.scrypt(pw,salt=salt,n=2**14,r=8,p=1,dklen=32))}")`,
    ],
    password,
  ),
});

/** A PHC PBKDF2-SHA512 string from hashlib. */
export const phcPbkdf2 = (password: string): ExternalHash => ({
  tool: 'python3 hashlib pbkdf2-sha512 (PHC)',
  passwordHash: run(
    'python3',
    [
      '-c',
      `import hashlib,base64,sys,os
pw=sys.stdin.read().encode()
salt=os.urandom(16)
b=lambda x: base64.b64encode(x).decode().rstrip('=')
print(f"$pbkdf2-sha512$i=25000\${b(salt)}\${b(hashlib.pbkdf2_hmac('sha512',pw,salt,25000))}")`,
    ],
    password,
  ),
});

/** `{SSHA512}` (OpenLDAP's salted SHA layout) from hashlib. */
export const sshaHash = (password: string, bits: '' | '256' | '512' = '512'): ExternalHash => ({
  tool: `python3 hashlib {SSHA${bits}}`,
  passwordHash: run(
    'python3',
    [
      '-c',
      `import hashlib,base64,sys,os
pw=sys.stdin.read().encode()
salt=os.urandom(8)
print("{SSHA${bits}}"+base64.b64encode(hashlib.new('${bits ? `sha${bits}` : 'sha1'}',pw+salt).digest()+salt).decode())`,
    ],
    password,
  ),
});

/** Debian's `argon2` CLI in argon2i mode, encoded output. */
export const argon2iCli = (password: string): ExternalHash => {
  const out = run('argon2', [randomBytes(8).toString('hex'), '-i', '-t', '2', '-m', '10', '-p', '1', '-e'], password);
  return { tool: 'argon2 -i (Debian CLI)', passwordHash: out };
};

/** Firebase's project parameters in the shape `firebase auth:export` documents (a made-up project). */
export const FIREBASE_CONFIG = {
  algorithm: 'SCRYPT',
  base64_signer_key: randomBytes(64).toString('base64'),
  base64_salt_separator: 'Bw==',
  rounds: 8,
  mem_cost: 14,
};

/** A user's Firebase hash and salt, made by the firebase-scrypt package with {@link FIREBASE_CONFIG}. */
export async function firebaseScrypt(password: string): Promise<{ passwordHash: string; salt: string }> {
  const fb = new FirebaseScrypt({
    memCost: FIREBASE_CONFIG.mem_cost,
    rounds: FIREBASE_CONFIG.rounds,
    saltSeparator: FIREBASE_CONFIG.base64_salt_separator,
    signerKey: FIREBASE_CONFIG.base64_signer_key,
  });
  const salt = randomBytes(16).toString('base64');
  return { passwordHash: (await fb.hash(password, salt)) as string, salt };
}
