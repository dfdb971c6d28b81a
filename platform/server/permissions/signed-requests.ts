/**
 * Signed analytics requests (README "Token permissions and limits", RFC 9421 hmac-sha256): the token named
 * by `keyid`, a `created` within 300 s of this server's clock, a signature
 * that matches, and one that was never accepted before.
 *
 * "Accepted once" holds across servers and restarts: each accepted signature
 * is recorded in the database until its window closes (one row per signed
 * request, written in batches: platform/storage/signatures.ts — signing
 * trades that write for never sending the value). A
 * replayed request is refused by every server of the database, also right
 * after a restart, which an in-memory record could not promise.
 */
import { hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  type ParsedSignature,
  parseSignature,
  signatureMatches,
} from '../../../core/crypto/http-signatures.ts';
import { ProblemError } from '../../../core/domain/problems.ts';
import type { PlatformContext } from '../context.ts';
import type { VerifiedToken } from '../verifier.ts';

export const SIGNATURE_WINDOW_S = 300;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalid(detail: string): ProblemError {
  return new ProblemError('signature-invalid', detail);
}

export function isSigned(request: FastifyRequest): boolean {
  const headers = request.raw.headers; // raw: see auth.ts
  return headers['signature-input'] !== undefined || headers.signature !== undefined;
}

export async function verifySignedRequest(
  ctx: PlatformContext,
  request: FastifyRequest,
): Promise<VerifiedToken> {
  const headers = request.raw.headers; // raw: see auth.ts
  const input = headers['signature-input'];
  const signature = headers.signature;
  if (typeof input !== 'string' || typeof signature !== 'string') {
    throw invalid('Send one Signature-Input and one Signature header (RFC 9421).');
  }
  let parsed: ParsedSignature;
  try {
    parsed = parseSignature(input, signature);
  } catch (error) {
    throw invalid(`Bad signature headers: ${(error as Error).message}.`);
  }
  const found = UUID.test(parsed.keyId) ? await ctx.verifier.verifyById(parsed.keyId) : null;
  if (!found) {
    throw new ProblemError(
      'unauthorized',
      'The signature keyid names no active token; keyid is the token id.',
    );
  }
  if (found.token.policy.type === 'publishable') {
    throw invalid('Publishable tokens cannot sign requests; send the value as a bearer token.');
  }
  const nowS = Math.floor(ctx.clock() / 1000);
  const skew = parsed.created - nowS;
  if (Math.abs(skew) > SIGNATURE_WINDOW_S) {
    throw invalid(
      `The signature was created ${Math.abs(skew)} s ${skew < 0 ? 'ago' : 'in the future'}; ` +
        `sign each request when you send it (window ${SIGNATURE_WINDOW_S} s) and check the clock.`,
    );
  }
  if (parsed.expires !== undefined && parsed.expires < nowS) {
    throw invalid(
      'The signature has expired (its expires parameter has passed); sign the request anew.',
    );
  }
  const url = `http://${headers.host ?? 'localhost'}${request.url}`;
  const message = { method: request.method, url, headers };
  // Values a rotation replaced sign too while their graces last, as they authenticate as bearers.
  if (!signatureMatches(message, parsed, found.keys)) {
    throw invalid(
      'The signature does not match this request: sign the method, path and query you send, with the current token value (or one a rotation replaced, during its grace) as the HMAC-SHA256 key.',
    );
  }
  const digest = hash('sha256', parsed.signature, 'base64url');
  if (!(await ctx.signatures.remember(digest, parsed.created))) {
    throw invalid('This signature was already used; sign every request anew (a new created time).');
  }
  ctx.verifier.recordUse(found.token.tokenId);
  return found.token;
}
