/**
 * RFC 9421 HTTP Message Signatures with `hmac-sha256`, as README "Token permissions and limits" uses them:
 * `keyid` = the token id, key = the token value's UTF-8 bytes, covering at
 * least `@method`, `@path` and `@query`, with a `created` parameter.
 *
 * Components are derived by `http-message-signatures`; structured fields are
 * parsed and serialised by `structured-headers`, except the one form a
 * serialiser writes, which one expression reads (readSerialised). This module adds
 * the HMAC and the shape README "Token permissions and limits" requires; the server decides freshness and
 * replay (platform/server/permissions/signed-requests.ts). The client signs
 * with `signRequest`.
 */
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import {
  type BareItem,
  type InnerList,
  isInnerList,
  type Parameters,
  parseDictionary,
  serializeBareItem,
  serializeInnerList,
  serializeItem,
  Token,
} from 'structured-headers';
import { randomHex } from './ids.ts';

export const SIGNATURE_ALGORITHM = 'hmac-sha256';
/** Components every signed analytics request covers (README "Token permissions and limits"). */
export const REQUIRED_COMPONENTS = ['@method', '@path', '@query'] as const;

export type SignableRequest = {
  method: string;
  /** Absolute URL of the request. */
  url: string;
  headers?: Record<string, string | string[] | undefined>;
};

/**
 * The signature base of RFC 9421 §2.5 for `request` and one Signature-Input
 * member: each covered component derived by `http-message-signatures` from the
 * parsed member (its `createSignatureBase` takes components as text and parses
 * every one twice more), the URL parsed once.
 */
export function signatureBase(
  request: SignableRequest,
  input: InnerList,
  signatureParams = serializeInnerList(input),
): string {
  const message = {
    method: request.method,
    url: new URL(request.url),
    // extractHeader finds a field by name, whatever its case; an undefined value is no field.
    headers: (request.headers ?? {}) as Record<string, string | string[]>,
  };
  let base = '';
  for (const [name, params] of input[0]) {
    const component = String(name).toLowerCase();
    // The usual component has no parameters: no Map to build (the library only
    // reads it), and its label is the bare item (serializeItem copies the
    // parameters to an array even when there are none).
    const plain = params.size === 0;
    const read = plain
      ? NO_PARAMS
      : new Map([...params].map(([key, value]) => [key, paramValue(value)]));
    const values = component.startsWith('@')
      ? httpbis.deriveComponent(component, read, message)
      : httpbis.extractHeader(component, read, message);
    const label = plain ? serializeBareItem(name) : serializeItem([name, params]);
    for (const value of values) base += `${label}: ${value}\n`;
  }
  return `${base}"@signature-params": ${signatureParams}`;
}

/** Shared by every call: deriveComponent and extractHeader only read their parameters. */
const NO_PARAMS = new Map<string, string | number | boolean>();

/** A component parameter's value as http-message-signatures reads it. */
function paramValue(value: BareItem): string | number | boolean {
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  return typeof value === 'object' ? String(value) : value;
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
    ['nonce', options.nonce ?? randomHex(16)],
  ]);
  const components = options.components ?? [...REQUIRED_COMPONENTS, '@authority'];
  const input: InnerList = [components.map((c) => [c, new Map()]), params];
  const label = options.label ?? 'sig1';
  const signatureParams = serializeInnerList(input);
  const signature = hmacSha256(options.key, signatureBase(request, input, signatureParams));
  return {
    'signature-input': `${label}=${signatureParams}`,
    signature: `${label}=:${signature.toString('base64')}:`,
  };
}

export type ParsedSignature = {
  input: InnerList;
  /** The `@signature-params` value: the member serialised (RFC 9421 §2.3). */
  signatureParams: string;
  components: string[];
  keyId: string;
  created: number;
  expires: number | undefined;
  signature: Buffer;
};

/** What the two headers say of one signature, before its shape is checked. */
type ReadSignature = { list: InnerList; signatureParams: string; signature: Buffer };

/**
 * The first signature of the headers, checked for the shape README "Token permissions and limits" needs;
 * throws an Error whose message says what is wrong (safe to show: no secret).
 */
export function parseSignature(signatureInput: string, signatureHeader: string): ParsedSignature {
  const { list, signatureParams, signature } =
    readSerialised(signatureInput, signatureHeader) ??
    readDictionaries(signatureInput, signatureHeader);
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
    signatureParams,
    components,
    keyId,
    created,
    expires: typeof expires === 'number' ? expires : undefined,
    signature,
  };
}

/** Any RFC 8941 form of the headers, read by structured-headers. */
export function readDictionaries(signatureInput: string, signatureHeader: string): ReadSignature {
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
  return { list, signatureParams: serializeInnerList(list), signature: Buffer.from(sig[0]) };
}

const KEY = '[a-z*][a-z0-9_.*-]*';
const STRING = '"[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*"';
const INTEGER = '(?:0|-?[1-9][0-9]{0,14})';
/** One member, quoted components without parameters, integer and string parameters; nothing else. */
const SERIALISED_INPUT = new RegExp(
  `^(${KEY})=(\\(((?:${STRING}(?: ${STRING})*)?)\\)((?:;${KEY}=(?:${INTEGER}|${STRING}))*))$`,
);
const SERIALISED_PARAM = new RegExp(`;(${KEY})=(?:(${INTEGER})|"([^"]*)")`, 'g');
const SERIALISED_SIGNATURE = new RegExp(
  `^(${KEY})=:((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):$`,
);

/**
 * The headers as a signer that follows RFC 8941's serialisation writes one
 * signature (signRequest does), read without a general parser: the member's
 * text is then its own serialisation, the `@signature-params` value. Null for
 * any other form, which readDictionaries reads; both readings agree
 * (test/unit/permissions.test.ts compares them). Parsing and serialising the
 * member with structured-headers was the largest part of a signed request's
 * own cost.
 */
export function readSerialised(
  signatureInput: string,
  signatureHeader: string,
): ReadSignature | null {
  const input = SERIALISED_INPUT.exec(signatureInput);
  const sig = SERIALISED_SIGNATURE.exec(signatureHeader);
  if (!input || !sig || sig[1] !== input[1]) return null;
  const params = new Map<string, number | string>();
  // exec, not matchAll: matchAll compiles a copy of the expression on every call.
  SERIALISED_PARAM.lastIndex = 0;
  for (
    let m = SERIALISED_PARAM.exec(input[4] as string);
    m;
    m = SERIALISED_PARAM.exec(input[4] as string)
  ) {
    const [, key, integer, string] = m;
    if (params.has(key as string)) return null; // the last one counts, and serialises once
    params.set(key as string, integer === undefined ? (string as string) : Number(integer));
  }
  const names = input[3] ? (input[3] as string).slice(1, -1).split('" "') : [];
  return {
    list: [names.map((name) => [name, new Map()]), params],
    signatureParams: input[2] as string,
    signature: Buffer.from(sig[2] as string, 'base64'),
  };
}

/**
 * Whether a parsed signature was made with one of `keys` (each compared in
 * constant time; the signature base is built once for them all).
 */
export function signatureMatches(
  request: SignableRequest,
  parsed: ParsedSignature,
  keys: readonly (string | Buffer | KeyObject)[],
): boolean {
  const base = signatureBase(request, parsed.input, parsed.signatureParams);
  return keys.some((key) => {
    const expected = hmacSha256(key, base);
    return (
      expected.length === parsed.signature.length && timingSafeEqual(expected, parsed.signature)
    );
  });
}
