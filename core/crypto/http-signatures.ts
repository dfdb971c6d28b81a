/**
 * RFC 9421 HTTP Message Signatures with `hmac-sha256`, as README "Token permissions and limits" uses them:
 * `keyid` = the token id, key = the token value's UTF-8 bytes, covering at
 * least `@method`, `@path` and `@query`, with a `created` parameter.
 *
 * The signature base (component derivation, quoting, the
 * `@signature-params` line) comes from `http-message-signatures`; structured
 * field parsing and serialising from `structured-headers`. This module adds
 * the HMAC and the shape README "Token permissions and limits" requires; the server decides freshness and
 * replay (platform/server/permissions/signed-requests.ts). The client signs
 * with `signRequest`.
 */
import { createHmac, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import {
  type InnerList,
  isInnerList,
  type Parameters,
  parseDictionary,
  serializeInnerList,
  Token,
} from 'structured-headers';

export const SIGNATURE_ALGORITHM = 'hmac-sha256';
/** Components every signed analytics request covers (README "Token permissions and limits"). */
export const REQUIRED_COMPONENTS = ['@method', '@path', '@query'] as const;

export type SignableRequest = {
  method: string;
  /** Absolute URL of the request. */
  url: string;
  headers?: Record<string, string | string[] | undefined>;
};

/** The signature base of RFC 9421 §2.5 for `request` and one Signature-Input member. */
export function signatureBase(request: SignableRequest, input: InnerList): string {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const fields = input[0].map(([name]) => String(name));
  const base = httpbis.createSignatureBase(
    { fields: fields.map((f) => `"${f}"`) },
    { method: request.method, url: request.url, headers },
  );
  base.push(['"@signature-params"', [serializeInnerList(input)]]);
  return httpbis.formatSignatureBase(base);
}

export function hmacSha256(key: string | Buffer | KeyObject, base: string): Buffer {
  return createHmac('sha256', key).update(base, 'utf8').digest();
}

export type SignOptions = {
  keyId: string;
  /** The token value (its UTF-8 bytes are the key). */
  key: string | Buffer;
  /** Seconds since the epoch; default now. */
  created?: number;
  /** Unique per signature (default: 128 random bits), so that two requests within a second differ. */
  nonce?: string;
  /** Components to cover; default @method, @path, @query, @authority. */
  components?: readonly string[];
  label?: string;
};

/** `Signature-Input` and `Signature` headers for a request. */
export function signRequest(
  request: SignableRequest,
  options: SignOptions,
): { 'signature-input': string; signature: string } {
  const params: Parameters = new Map<string, string | number>([
    ['created', options.created ?? Math.floor(Date.now() / 1000)],
    ['keyid', options.keyId],
    ['alg', SIGNATURE_ALGORITHM],
    ['nonce', options.nonce ?? randomBytes(16).toString('base64url')],
  ]);
  const components = options.components ?? [...REQUIRED_COMPONENTS, '@authority'];
  const input: InnerList = [components.map((c) => [c, new Map()]), params];
  const label = options.label ?? 'sig1';
  const signature = hmacSha256(options.key, signatureBase(request, input));
  return {
    'signature-input': `${label}=${serializeInnerList(input)}`,
    signature: `${label}=:${signature.toString('base64')}:`,
  };
}

export type ParsedSignature = {
  input: InnerList;
  components: string[];
  keyId: string;
  created: number;
  expires: number | undefined;
  signature: Buffer;
};

/**
 * The first signature of the headers, checked for the shape README "Token permissions and limits" needs;
 * throws an Error whose message says what is wrong (safe to show: no secret).
 */
export function parseSignature(signatureInput: string, signatureHeader: string): ParsedSignature {
  let inputs: Map<string, unknown>;
  let signatures: Map<string, unknown>;
  try {
    inputs = parseDictionary(signatureInput);
    signatures = parseDictionary(signatureHeader);
  } catch {
    throw new Error('Signature-Input and Signature must be RFC 8941 dictionaries');
  }
  const [label, input] = [...inputs.entries()][0] ?? [];
  if (label === undefined || !isInnerList(input as InnerList)) {
    throw new Error('Signature-Input needs one member with a list of covered components');
  }
  const list = input as InnerList;
  const sig = signatures.get(label) as [unknown, unknown] | undefined;
  if (!sig || !(sig[0] instanceof ArrayBuffer)) {
    throw new Error(`Signature needs a byte sequence labelled "${label}" like Signature-Input`);
  }
  const components = list[0].map(([name]) => String(name));
  const missing = REQUIRED_COMPONENTS.filter((c) => !components.includes(c));
  if (missing.length > 0) throw new Error(`the signature must cover ${missing.join(', ')}`);
  const params = list[1];
  const created = params.get('created');
  const keyId = params.get('keyid');
  const alg = params.get('alg');
  const expires = params.get('expires');
  if (typeof created !== 'number' || !Number.isInteger(created)) {
    throw new Error('the signature needs a created parameter (seconds since the epoch)');
  }
  if (typeof keyId !== 'string') throw new Error('the signature needs keyid = the token id');
  if (
    alg !== undefined &&
    !(
      alg === SIGNATURE_ALGORITHM ||
      (alg instanceof Token && alg.toString() === SIGNATURE_ALGORITHM)
    )
  ) {
    throw new Error(`alg must be "${SIGNATURE_ALGORITHM}"`);
  }
  return {
    input: list,
    components,
    keyId,
    created,
    expires: typeof expires === 'number' ? expires : undefined,
    signature: Buffer.from(sig[0]),
  };
}

/** Constant-time check of a parsed signature against the key. */
export function signatureMatches(
  request: SignableRequest,
  parsed: ParsedSignature,
  key: string | Buffer | KeyObject,
): boolean {
  const expected = hmacSha256(key, signatureBase(request, parsed.input));
  return expected.length === parsed.signature.length && timingSafeEqual(expected, parsed.signature);
}
