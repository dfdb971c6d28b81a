/**
 * The platform's one JSON body parser. What it refuses, it refuses with a
 * problem that says what is wrong, before any schema runs:
 * - a charset other than UTF-8 (415: JSON is UTF-8, RFC 8259 §8.1);
 * - bytes that are not UTF-8 (400), instead of decoding them to U+FFFD;
 * - nesting deeper than MAX_DEPTH (400): no schema needs it, and messages
 *   built from such values recursed until the stack ran out;
 * - `__proto__`, `constructor` and `prototype` keys (400 naming where):
 *   no field has those names, and code handed such an object could change a
 *   prototype;
 * - a string or key holding a lone surrogate (a `\ud800` escape with no pair,
 *   400 naming where): it is no Unicode text, and the databases would store it
 *   altered, as U+FFFD.
 * A blank body counts as no body (undefined): a POST gets `{}` later
 * (…/reveal, …/rotate), a PATCH is refused for saying nothing.
 */
import type { FastifyRequest } from 'fastify';
import { ProblemError, validationProblem } from '../../core/domain/problems.ts';

export const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The charset a Content-Type names, lower-cased; undefined when it names none. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase();
}

/** Where `text` holds a lone surrogate ("U+D800 at position 3", by code point), if it does. */
function loneSurrogate(text: string): string | undefined {
  if (text.isWellFormed()) return undefined;
  let position = 0;
  for (const char of text) {
    position += 1;
    if (!char.isWellFormed()) {
      const code = (char.codePointAt(0) ?? 0).toString(16).toUpperCase();
      return `U+${code} at position ${position}`;
    }
  }
  return undefined;
}

function surrogateProblem(path: string, where: string): ProblemError {
  const message = `holds a lone surrogate (${where}), which is not Unicode text`;
  return validationProblem(
    [{ path, message }],
    `${path || 'The body'}: ${message}; send the character it stands for, or remove it.`,
  );
}

/** Walks the parsed value without recursion: the first key, string or depth refused, as a problem. */
function checkShape(value: unknown): ProblemError | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: node, path, depth } = stack.pop() as (typeof stack)[number];
    if (typeof node === 'string') {
      const where = loneSurrogate(node);
      if (where) return surrogateProblem(path, where);
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_DEPTH) {
      return validationProblem(
        [{ path, message: `nested more than ${MAX_DEPTH} levels deep` }],
        `The request body is nested more than ${MAX_DEPTH} levels deep; no field takes that.`,
      );
    }
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      const where = loneSurrogate(key);
      if (where) return surrogateProblem(at, where);
      if (FORBIDDEN_KEYS.has(key)) {
        return validationProblem(
          [{ path: at, message: 'unknown field' }],
          `${at}: unknown field (no field is named ${key}).`,
        );
      }
      stack.push({ value: (node as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Parses a JSON body, or says why not. */
export function parseJsonBody(contentType: string | undefined, body: Buffer): unknown {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ProblemError(
      'unsupported-media-type',
      `The body's charset is ${charset}: send JSON as UTF-8 (Content-Type: application/json, or charset=utf-8).`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw validationProblem(
      [{ path: '', message: 'not valid UTF-8' }],
      'The request body is not valid UTF-8: send JSON encoded as UTF-8.',
    );
  }
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw validationProblem(
      [{ path: '', message: 'invalid JSON' }],
      'The request body is not valid JSON.',
    );
  }
  const refused = checkShape(value);
  if (refused) throw refused;
  return value;
}

/** A fastify content-type parser over parseJsonBody (`parseAs: 'buffer'`). */
export function jsonBodyParser(
  request: FastifyRequest,
  body: Buffer | string,
  done: (err: Error | null, value?: unknown) => void,
): void {
  try {
    done(null, parseJsonBody(request.headers['content-type'], body as Buffer));
  } catch (error) {
    done(error as Error);
  }
}
