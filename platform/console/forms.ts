/**
 * Posted forms → API requests. Fields arrive as strings (a repeated field, such
 * as a group of checkboxes, as an array); what a person left as it was is not
 * sent, so an edit changes only what they changed.
 */
import type { CreateTokenRequest, Token, UpdateTokenRequest } from '../../core/client/index.ts';
import { dateTimeLocal } from './views/format.ts';

type Form = Record<string, string | string[] | undefined>;

/** A form value the console itself refuses before asking the platform. */
export class FormError extends Error {}

/** One field, trimmed ('' when absent or sent twice). */
export function field(form: unknown, name: string): string {
  const value = (form as Form | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** Every value of a repeated field (checkboxes). */
export function fields(form: unknown, name: string): string[] {
  const value = (form as Form | undefined)?.[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => v.trim());
}

/** A datetime-local value (UTC) as RFC 3339; '' means "never expires". */
export function expiry(local: string): string | null {
  if (local === '') return null;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local) ? `${local}:00Z` : `${local}Z`;
}

/** Entries of a textarea, one per line (commas and spaces separate too). */
function list(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}

/** A whole number field; '' → null. */
function whole(form: unknown, name: string, label: string): number | null {
  const text = field(form, name);
  if (text === '') return null;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new FormError(`${label} must be a whole number.`);
  return n;
}

/** The scopes of the form: the checked sets, and single metrics named in a text field. */
function scopes(form: unknown): string[] {
  const named = list(field(form, 'metrics')).map((m) => `metric:${m}:read`);
  return [...fields(form, 'scope'), ...named];
}

function rateLimit(form: unknown): Token['rateLimit'] {
  const requests = whole(form, 'rateRequests', 'Rate limit requests');
  const perSeconds = whole(form, 'ratePerSeconds', 'Rate limit window');
  if (requests === null && perSeconds === null) return null;
  if (requests === null || perSeconds === null) {
    throw new FormError(
      'A rate limit needs both the requests and the window; leave both empty for none.',
    );
  }
  return { requests, perSeconds };
}

function usageLimit(form: unknown): Token['usageLimit'] {
  const limit = whole(form, 'usageLimit', 'Usage limit');
  if (limit === null) return null;
  return { limit, period: (field(form, 'usagePeriod') || 'month') as 'day' | 'month' | 'total' };
}

/** The "New" form: the name, and a type and origins only when given (else the platform's defaults). */
export function newTokenRequest(form: unknown): CreateTokenRequest {
  const origins = list(field(form, 'allowedOrigins'));
  return {
    name: field(form, 'name'),
    ...(field(form, 'type') === 'publishable' ? { type: 'publishable' as const } : {}),
    ...(origins.length > 0 ? { allowedOrigins: origins } : {}),
  };
}

/** The PATCH for the Edit form: only the fields that differ from the token as it is. */
export function tokenChanges(current: Token, form: unknown): UpdateTokenRequest {
  const wanted: UpdateTokenRequest = {
    name: field(form, 'name'),
    status: field(form, 'status') as Token['status'],
    // The field shows minutes only: left as it was, it must not cut the seconds off.
    expiresAt:
      field(form, 'expiresAt') === dateTimeLocal(current.expiresAt)
        ? current.expiresAt
        : expiry(field(form, 'expiresAt')),
    scopes: scopes(form),
    allowedOrigins: list(field(form, 'allowedOrigins')),
    allowedIps: list(field(form, 'allowedIps')),
    rateLimit: rateLimit(form),
    usageLimit: usageLimit(form),
    requireSignedRequests: fields(form, 'requireSignedRequests').length > 0,
  };
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (!same(value, current[key as keyof Token])) changes[key] = value;
  }
  return changes as UpdateTokenRequest;
}

/** Equal values; lists compare as sets of entries (their order means nothing here). */
function same(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown) => JSON.stringify(Array.isArray(v) ? [...v].sort() : v);
  return canonical(a) === canonical(b);
}
