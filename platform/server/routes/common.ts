import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ProblemError } from '../../../core/domain/problems.ts';
import { Id, IdParams, Problem } from '../../../core/schemas/index.ts';
import { type Idempotency, requestHash } from '../../storage/idempotency.ts';
import { notFound } from '../../storage/problems.ts';
import { type AuditDeclaration, type AuditInfo, principalOf } from '../context.ts';

/**
 * Error responses every route with a credential may give: declared with the
 * media type they are served with, so the OpenAPI document tells the truth.
 */
export const problemResponses = {
  '4xx': {
    description: 'RFC 9457 problem; `type` ends in the slug',
    content: { 'application/problem+json': { schema: Problem } },
  },
};

/** The answer of every DELETE: no body. */
export const Deleted = z.null().meta({ description: 'Deleted; no body' });

export const IdempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be 1–255 visible ASCII characters')
    .optional()
    .meta({ description: 'Makes the create safe to retry: the first response is replayed' }),
});

const IfMatchHeaders = z.looseObject({
  // `*` alone, or entity tags separated by commas (RFC 9110 §13.1.1): `"x", *` is neither.
  'if-match': z
    .string()
    .max(512)
    .regex(
      /^(?:\*|(?:W\/)?"[\x21\x23-\x7e]*"(?:[ \t]*,[ \t]*(?:W\/)?"[\x21\x23-\x7e]*")*)$/,
      'must be * alone, or entity tags such as "abc" separated by commas',
    )
    .optional()
    .meta({ description: 'ETag from a previous read (strong comparison), or *' }),
});

export const managementSecurity = [{ bearer: [] }];

type RouteSchema = {
  params?: z.ZodType;
  querystring?: z.ZodType;
  headers?: z.ZodType;
  body?: z.ZodType;
  response?: Record<number, z.ZodType>;
};

type Input<T> = T extends z.ZodType ? z.output<T> : undefined;

/** What a route audits, from its validated params and body. */
export type AuditOf<S extends RouteSchema> = (request: {
  params: Input<S['params']>;
  body: Input<S['body']>;
}) => AuditInfo;

/**
 * The verification hot paths (analytics, introspection) answer with plain
 * JSON.stringify: their objects are built right there, typed by the same
 * schemas, so re-validating them on the way out (what the zod serializer
 * does) buys nothing. The schemas still document the routes.
 */
export const plainJson = () => (data: unknown) =>
  typeof data === 'string' ? data : JSON.stringify(data);

/**
 * Options of a management route (administrator or access key): its OpenAPI tag,
 * summary and bearer security, plus the problem responses every such route may
 * give, and what it audits (server/audit.ts records it; none for reads).
 */
export function managementRoute<const S extends RouteSchema>(
  tag: string,
  summary: string,
  schema: S,
  audit?: AuditOf<S>,
) {
  return {
    config: { auth: 'management' as const, ...(audit ? { audit: audit as AuditDeclaration } : {}) },
    schema: {
      tags: [tag],
      summary,
      security: managementSecurity,
      ...schema,
      response: { ...schema.response, ...problemResponses } as S['response'] &
        typeof problemResponses,
    },
  };
}

/**
 * Options of a create under a parent (`POST /<parent kind>/:id/<kind>`): the
 * parent's id, an optional Idempotency-Key and the body; 201 with the new object.
 */
export function createRoute<const B extends z.ZodType, const R extends z.ZodType>(
  tag: string,
  summary: string,
  body: B,
  created: R,
  audit: AuditOf<{ params: typeof IdParams; body: B }>,
) {
  const schema = {
    params: IdParams,
    headers: IdempotencyHeaders,
    body,
    response: { 201: created },
  };
  return managementRoute<typeof schema>(tag, summary, schema, audit);
}

/** Options of `PATCH /<kind>/:id` with If-Match (an ETag from a read): the body; 200 with the object. */
export function updateRoute<const B extends z.ZodType, const R extends z.ZodType>(
  tag: string,
  summary: string,
  body: B,
  updated: R,
  audit: AuditOf<{ params: typeof IdParams; body: B }>,
) {
  const schema = { params: IdParams, headers: IfMatchHeaders, body, response: { 200: updated } };
  return managementRoute<typeof schema>(tag, summary, schema, audit);
}

/** Options of `DELETE /<kind>/:id`: 204 without a body, audited as `action` on that object. */
export function deleteRoute(tag: string, summary: string, action: AuditedAction) {
  return managementRoute(
    tag,
    summary,
    { params: IdParams, response: { 204: Deleted } },
    auditOfTarget(action),
  );
}

type AuditedAction = `${AuditInfo['targetType']}.${string}`;

function targetTypeOf(action: AuditedAction): AuditInfo['targetType'] {
  return action.slice(0, action.indexOf('.')) as AuditInfo['targetType'];
}

/** The audit of a create under an entity (`POST /entities/:id/<kind>`): the new id comes from the result. */
export function auditUnderEntity<B>(action: AuditedAction, detail?: (body: B) => string | null) {
  return (request: { params: { id: string }; body: B }): AuditInfo => ({
    action,
    targetType: targetTypeOf(action),
    targetId: null,
    entityId: request.params.id,
    detail: detail?.(request.body) ?? null,
  });
}

/**
 * The audit of a change to one object (`/<kind>/:id`): an entity is its own
 * entity; the others learn theirs from the result (or, refused, from audit.ts).
 */
export function auditOfTarget<B>(action: AuditedAction, detail?: (body: B) => string | null) {
  return (request: { params: { id: string }; body: B }): AuditInfo => {
    const targetType = targetTypeOf(action);
    const { id } = request.params;
    return {
      action,
      targetType,
      targetId: id,
      entityId: targetType === 'entity' ? id : null,
      detail: detail?.(request.body) ?? null,
    };
  };
}

/**
 * The idempotency scope of a request: the credential that sent it and the
 * route it went to, so one key reused on another route or by another caller
 * never replays someone else's response.
 */
export function idempotencyOf(request: FastifyRequest, body: unknown): Idempotency | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string') {
    throw new ProblemError('validation', 'Send one Idempotency-Key header.', {
      errors: [{ path: 'headers.idempotency-key', message: 'must be a single value' }],
    });
  }
  const principal = principalOf(request);
  const credential = principal.type === 'admin' ? 'admin' : `${principal.type}:${principal.id}`;
  return {
    scope: `${credential}|${request.method} ${request.url.split('?')[0]}`,
    key,
    requestHash: requestHash(body ?? null),
  };
}

/** What a route's `:id` names, by the collection it sits under (`/v1/<collection>/:id`). */
const ID_NAMES: Record<string, string> = {
  entities: 'entity',
  tokens: 'token',
  'access-keys': 'access key',
  members: 'member',
};

/**
 * Ids are opaque (README "Platform API"): a path id of a shape we never issue names nothing,
 * so it answers 404 like any unknown id — without a trip to the database.
 */
export function unknownPathIds(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || Id.safeParse(id).success) {
    done();
    return;
  }
  const collection = request.routeOptions.url?.split('/')[2] ?? '';
  done(notFound(ID_NAMES[collection] ?? 'object', id));
}
