/**
 * Key material of a platform instance.
 *
 * - The administrator key authenticates the operator of the platform. When
 *   TOKENPLANE_ADMIN_KEY is unset, one is generated into `<dataDir>/admin-key` (0600).
 * - The encryption key is the root of every derived key: the HMAC key that turns
 *   a token or access key into its look-up digest, and the AES-256-GCM key that
 *   encrypts revealable token values and stored idempotent responses. When
 *   TOKENPLANE_ENCRYPTION_KEY is unset, one is generated into `<dataDir>/encryption-key` (0600).
 *
 * Changing the encryption key makes every stored token unverifiable and
 * unrevealable: keep it with the database backups. So a generated encryption
 * key is written only once storage has confirmed that the database holds no
 * data yet (`NewKey.save`, called by the repository's key check): a missing key
 * file next to a database with data is a restore job, never a new key.
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  apparentEntropyBits,
  generateSecret,
  MIN_CREDENTIAL_BITS,
} from '../domain/secret-format.ts';

export const ADMIN_KEY_FILE = 'admin-key';
export const ENCRYPTION_KEY_FILE = 'encryption-key';
const MIN_KEY_LENGTH = 16;

export type KeySource = 'option' | 'file' | 'generated';

export type LoadedKey = { value: string; source: KeySource; path?: string };

/** A key that was given or read from its file. */
export type ExistingKey = LoadedKey & { source: 'option' | 'file' };

/** A key generated in memory: `save()` writes it to `path` (0600, never over an existing file). */
export type NewKey = { value: string; source: 'generated'; path: string; save(): void };

/** Ensure the data directory exists and is private to this user. */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw dataDirProblem(dataDir, error, 'create');
  }
}

/**
 * Fails with the path and the fix when the data directory cannot be written
 * (read-only, another owner): the platform keeps its keys and SQLite database there.
 */
export function ensureWritableDataDir(dataDir: string): void {
  ensureDataDir(dataDir);
  try {
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    throw dataDirProblem(dataDir, error, 'write to');
  }
}

function dataDirProblem(path: string, error: unknown, doing: string): Error {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new Error(
    `Cannot ${doing} the data directory ${path} (${code}): tokenplane keeps its generated keys and ` +
      'its SQLite database there. Make it writable by this user, or choose another with --data-dir ' +
      'or TOKENPLANE_DATA_DIR.',
  );
}

/**
 * Refuses an administrator key a guesser could find: it opens everything, so
 * it needs the 128 bits our generated tokens carry.
 */
function checkAdminKeyStrength(value: string, from: string): void {
  const bits = Math.floor(apparentEntropyBits(value));
  if (bits >= MIN_CREDENTIAL_BITS) return;
  throw new Error(
    `The administrator key from ${from} looks guessable (about ${bits} bits; at least ` +
      `${MIN_CREDENTIAL_BITS} are required, as much as a generated token carries, because this key ` +
      'opens every entity). Use a random value, e.g. `openssl rand -base64 32`, or leave ' +
      'TOKENPLANE_ADMIN_KEY unset to have one generated into the data directory.',
  );
}

/** Use the given key, else the key file in the data dir, else a new key (not yet written). */
function readOrGenerate(
  dataDir: string,
  file: string,
  given: string | undefined,
  generate: () => string,
  what: string,
  check: (value: string, from: string) => void = () => {},
): ExistingKey | NewKey {
  if (given !== undefined && given !== '') {
    if (given.length < MIN_KEY_LENGTH) {
      throw new Error(`${what} must be at least ${MIN_KEY_LENGTH} characters long`);
    }
    check(given, 'TOKENPLANE_ADMIN_KEY');
    return { value: given, source: 'option' };
  }
  const path = join(dataDir, file);
  if (existsSync(path)) {
    const value = readFileSync(path, 'utf8').trim();
    if (value.length < MIN_KEY_LENGTH) throw new Error(`${what} in ${path} is too short`);
    check(value, path);
    return { value, source: 'file', path };
  }
  const value = generate();
  const save = () => {
    ensureWritableDataDir(dataDir);
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  };
  return { value, source: 'generated', path, save };
}

/** The administrator key: given, read from its file, or generated into it at once. */
export function loadAdminKey(dataDir: string, given: string | undefined): LoadedKey {
  const key = readOrGenerate(
    dataDir,
    ADMIN_KEY_FILE,
    given,
    () => generateSecret('adminKey'),
    'the administrator key',
    checkAdminKeyStrength,
  );
  if (key.source === 'generated') key.save();
  return key;
}

/**
 * The encryption key: given, or read from its file; otherwise a new key that
 * is written only when the database turns out to be empty (see NewKey).
 */
export function loadEncryptionKey(
  dataDir: string,
  given: string | undefined,
): ExistingKey | NewKey {
  return readOrGenerate(
    dataDir,
    ENCRYPTION_KEY_FILE,
    given,
    () => randomBytes(32).toString('base64url'),
    'the encryption key',
  );
}

/** Keys derived (HKDF-SHA-256) from the encryption key, one per purpose. */
export type DerivedKeys = { lookup: Buffer; seal: Buffer };

export function deriveKeys(encryptionKey: string): DerivedKeys {
  const ikm = Buffer.from(encryptionKey, 'utf8');
  const salt = Buffer.from('tokenplane/v1');
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
  return { lookup: derive('lookup-hmac'), seal: derive('seal-aes-256-gcm') };
}

/** Constant-time comparison of two strings of any length (compares SHA-256 digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
