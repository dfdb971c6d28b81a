/**
 * Secret value format, shared by API tokens and access keys:
 *
 *   <prefix>_<30 base62 random chars><6 base62 chars of CRC32(prefix_random)>
 *
 * 30 base62 characters carry 178 bits from the CSPRNG. The fixed prefix lets
 * secret scanners find values with near-zero false positives; the checksum lets
 * them (and us, before any database look-up) reject typos offline. `_` keeps a
 * double-click selection whole.
 */
import { randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const SECRET_PREFIXES = {
  apiToken: 'tpt',
  publishableToken: 'tpp',
  accessKey: 'tpk',
  adminKey: 'tpadm',
} as const;
export type SecretKind = keyof typeof SECRET_PREFIXES;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;

export function generateSecret(kind: SecretKind): string {
  let random = '';
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[randomInt(ALPHABET.length)];
  const body = `${SECRET_PREFIXES[kind]}_${random}`;
  return body + checksum(body);
}

/** True when the value has the kind's prefix, the right length and a valid checksum. */
export function isWellFormedSecret(value: string, kind: SecretKind): boolean {
  const prefix = `${SECRET_PREFIXES[kind]}_`;
  if (!value.startsWith(prefix)) return false;
  if (value.length !== prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH) return false;
  const body = value.slice(0, -CHECKSUM_LENGTH);
  if (!/^[0-9A-Za-z]+$/.test(value.slice(prefix.length))) return false;
  return checksum(body) === value.slice(-CHECKSUM_LENGTH);
}

/** An API token value of either type (README "Token permissions and limits": secret `tpt_`, publishable `tpp_`). */
export function isApiTokenValue(value: string): boolean {
  return isWellFormedSecret(value, 'apiToken') || isWellFormedSecret(value, 'publishableToken');
}

/** A short, non-secret fragment a person can match against a value: `tpt_…Ab12`. */
export function secretHint(value: string): string {
  const prefix = value.slice(0, value.indexOf('_') + 1);
  return `${prefix}…${value.slice(-4)}`;
}

/** Pattern a secret scanner can use to find every tokenplane secret. */
export const SECRET_PATTERN = new RegExp(
  `\\b(?:${Object.values(SECRET_PREFIXES).join('|')})_[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}\\b`,
  'g',
);

/** Character classes and how many characters each offers a guesser. */
const CLASSES: [RegExp, number][] = [
  [/[a-z]/, 26],
  [/[A-Z]/, 26],
  [/[0-9]/, 10],
  [/[^a-zA-Z0-9]/, 33],
];

/**
 * Apparent entropy of a credential a person chose, in bits: log2 of the
 * alphabet its character classes span, times its length once repeats and
 * runs (`aaaa`, `abcd`, `4321`) count as one character. A heuristic for
 * refusing the guessable — 16 identical characters score under 5 bits — never
 * proof of randomness; 128 bits is the bar our own generated values clear.
 */
export function apparentEntropyBits(value: string): number {
  const pool = CLASSES.reduce((sum, [re, size]) => sum + (re.test(value) ? size : 0), 0);
  const codes = Array.from(value, (c) => c.codePointAt(0) as number);
  let effective = 0;
  for (let i = 0; i < codes.length; i++) {
    const step = i > 0 ? (codes[i] as number) - (codes[i - 1] as number) : Number.NaN;
    const before = i > 1 ? (codes[i - 1] as number) - (codes[i - 2] as number) : Number.NaN;
    const repeat = step === 0;
    const run = Math.abs(step) === 1 && step === before;
    if (!repeat && !run) effective++;
  }
  return pool > 0 ? effective * Math.log2(pool) : 0;
}

export const MIN_CREDENTIAL_BITS = 128;

/**
 * A webhook signing secret (Standard Webhooks: `whsec_` + base64), also when
 * percent-encoded in a URL — for redaction, it has no checksum to validate.
 */
export const WEBHOOK_SECRET_PATTERN = /\bwhsec_(?:[A-Za-z0-9+/=]|%2[BbFf]|%3[Dd]){20,}/g;

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
