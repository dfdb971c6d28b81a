/**
 * Keyed look-up digests and authenticated encryption of secrets at rest.
 *
 * - `digest(value)`: HMAC-SHA-256 under the derived look-up key. Token values
 *   carry ≥128 random bits, so a fast keyed hash is the right tool (no slow KDF
 *   on the hot path); without the key a leaked database cannot be used to test
 *   guesses offline.
 * - `seal(plain, aad)` / `open(sealed, aad)`: AES-256-GCM with a fresh random
 *   96-bit nonce per message, and associated data binding the ciphertext to its
 *   row (the token id), so a ciphertext copied onto another row fails to open.
 *   Format: `v1.<nonce b64url>.<ciphertext b64url>.<tag b64url>`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { deriveKeys } from './keys.ts';

export class SecretBox {
  // KeyObjects, not Buffers: createHmac with a Buffer key re-imports the key on
  // every call (~17 µs); with a KeyObject a digest takes ~2 µs — the hot path.
  readonly #lookup: KeyObject;
  readonly #seal: KeyObject;

  constructor(encryptionKey: string) {
    const keys = deriveKeys(encryptionKey);
    this.#lookup = createSecretKey(keys.lookup);
    this.#seal = createSecretKey(keys.seal);
  }

  digest(value: string): string {
    return createHmac('sha256', this.#lookup).update(value).digest('base64url');
  }

  seal(plain: string, aad: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#seal, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `v1.${nonce.toString('base64url')}.${body.toString('base64url')}.${tag.toString('base64url')}`;
  }

  open(sealed: string, aad: string): string {
    const [version, nonce, body, tag] = sealed.split('.');
    if (version !== 'v1' || nonce === undefined || body === undefined || tag === undefined) {
      throw new Error('unsupported sealed value format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#seal, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}
