/**
 * The signature of GitHub's secret-scanning partner alerts: ECDSA P-256 with
 * SHA-256 over the raw request body, `Github-Public-Key-Signature` carrying the
 * base64 (DER) signature and `Github-Public-Key-Identifier` naming the key among
 * those published as JSON at a keys URL (GitHub's is
 * https://api.github.com/meta/public_keys/secret_scanning; configurable, so a
 * deployment can point at a mirror and tests at a loopback server).
 *
 * Keys are fetched on first use and kept an hour; a key identifier not among
 * them triggers one new fetch (GitHub rotates keys), at most once a minute so
 * forged identifiers cannot make the server hammer the keys URL.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { request } from 'undici';
import { ProblemError } from '../../core/domain/problems.ts';
import { LeakReportKeys } from '../../core/schemas/index.ts';

const KEEP_MS = 3_600_000;
const REFETCH_UNKNOWN_MS = 60_000;
const FETCH_TIMEOUT_MS = 10_000;

export const SIGNATURE_HEADER = 'github-public-key-signature';
export const KEY_ID_HEADER = 'github-public-key-identifier';

/** How to send a leak report without the administrator key, for refusals to say. */
export const SIGNED_REPORTS =
  'Leak reports may instead be signed as GitHub signs them (Github-Public-Key-Identifier and ' +
  'Github-Public-Key-Signature), once the server is started with TOKENPLANE_LEAK_REPORT_KEYS_URL ' +
  '(GitHub: https://api.github.com/meta/public_keys/secret_scanning).';

export class LeakReportSignatures {
  readonly #url: string;
  readonly #clock: () => number;
  #keys = new Map<string, KeyObject>();
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #fetching: Promise<void> | null = null;

  constructor(url: string, clock: () => number = Date.now) {
    this.#url = url;
    this.#clock = clock;
  }

  /** Whether `signature` (base64 DER) is the named key's signature of `body`. */
  async verify(body: Buffer, keyId: string, signature: string): Promise<boolean> {
    const key = await this.#key(keyId);
    if (!key) return false;
    try {
      return verify('sha256', body, key, Buffer.from(signature, 'base64'));
    } catch {
      return false; // not a DER signature at all
    }
  }

  async #key(keyId: string): Promise<KeyObject | undefined> {
    const age = this.#clock() - this.#fetchedAt;
    if (age > KEEP_MS || (!this.#keys.has(keyId) && age > REFETCH_UNKNOWN_MS)) {
      this.#fetching ??= this.#fetch().finally(() => {
        this.#fetching = null;
      });
      await this.#fetching;
    }
    return this.#keys.get(keyId);
  }

  async #fetch(): Promise<void> {
    let document: unknown;
    try {
      const res = await request(this.#url, {
        headers: { accept: 'application/json' },
        headersTimeout: FETCH_TIMEOUT_MS,
        bodyTimeout: FETCH_TIMEOUT_MS,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`status ${res.statusCode}`);
      }
      document = await res.body.json();
    } catch (error) {
      throw unreachable(this.#url, (error as Error).message);
    }
    const parsed = LeakReportKeys.safeParse(document);
    if (!parsed.success) throw unreachable(this.#url, 'not a {public_keys:[…]} document');
    const keys = new Map<string, KeyObject>();
    for (const { key_identifier, key } of parsed.data.public_keys) {
      try {
        keys.set(key_identifier, createPublicKey(key));
      } catch {
        // A key we cannot read verifies nothing; the others still do.
      }
    }
    this.#keys = keys;
    this.#fetchedAt = this.#clock();
  }
}

const unreachable = (url: string, why: string) =>
  new ProblemError(
    'unavailable',
    `Could not read the leak-report signing keys from ${url} (${why}); the report was not ` +
      'processed. Check TOKENPLANE_LEAK_REPORT_KEYS_URL and that the server reaches it; the ' +
      'sender retries, or report with the administrator key meanwhile.',
  );
