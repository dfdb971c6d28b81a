/**
 * RFC 9457 problem responses: the error handler, the not-found handler, and
 * the mapping of fastify and zod errors onto README "Platform API"'s slugs.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  type FieldError,
  PROBLEMS,
  ProblemError,
  problemType,
  TRANSPORT_PROBLEMS,
} from '../../core/domain/problems.ts';
import type { PlatformContext } from './context.ts';
import type { RouteMethods } from './methods.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: ProblemError,
): FastifyReply {
  const slug = problem.slug;
  const meta =
    slug in PROBLEMS
      ? PROBLEMS[slug as keyof typeof PROBLEMS]
      : TRANSPORT_PROBLEMS[slug as keyof typeof TRANSPORT_PROBLEMS];
  request.problemSlug = slug;
  if (slug === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="tokenplane"');
  return reply
    .code(meta.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({
      type: problemType(slug as never),
      title: meta.title,
      status: meta.status,
      detail: problem.detail,
      instance: request.url.split('?')[0],
      requestId: request.id,
      ...problem.extensions,
    });
}

export function installProblemHandlers(
  app: FastifyInstance,
  ctx: PlatformContext,
  routes: RouteMethods,
): void {
  const { metrics, warnings } = ctx;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // No route matched, but fastify read the body first (QUERY and other methods
    // with one): answer what no route means, not the body's fault.
    if (request.is404) return unmatched(request, reply, routes);
    const problem = toProblem(error);
    if (problem.slug === 'quota-exceeded') metrics.quotaRefusals.inc();
    if (problem.slug === 'tier-ceiling') metrics.ceilingRefusals.inc();
    if (problem.status >= 500) {
      warnings.write(request.log, 'error', { err: error, reqId: request.id }, 'request failed');
    }
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) => unmatched(request, reply, routes));
}

/** No route for this method and path: 405 with `Allow` when the path has others, else 404. */
function unmatched(
  request: FastifyRequest,
  reply: FastifyReply,
  routes: RouteMethods,
): FastifyReply {
  const path = request.url.split('?')[0] as string;
  const allow = routes.allowed(path);
  if (allow.length > 0 && !allow.includes(request.method)) {
    reply.header('allow', allow.join(', '));
    return sendProblem(
      request,
      reply,
      new ProblemError(
        'method-not-allowed',
        `${request.method} is not allowed on ${path}; it answers ${allow.join(', ')}.`,
        { allow },
      ),
    );
  }
  return sendProblem(
    request,
    reply,
    new ProblemError('not-found', `No route ${request.method} ${path}.`),
  );
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route runs
 * (a path parameter over the length limit, a malformed percent-encoding)
 * answers as a problem like everything else.
 */
export function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  reply.header('x-request-id', request.id);
  const problem =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ProblemError(
          'uri-too-long',
          'A path segment is longer than 100 characters; no id or metric name is that long.',
        )
      : error.code === 'FST_ERR_BAD_URL'
        ? new ProblemError('bad-request', 'The URL path is not valid percent-encoding.')
        : new ProblemError('internal', 'Internal error; the server log has the details.');
  return sendProblem(request, reply, problem);
}

/** What Node's HTTP parser refuses (before fastify sees a request), by its error code. */
const CLIENT_ERRORS: Record<string, ProblemError> = {
  HPE_HEADER_OVERFLOW: new ProblemError(
    'header-fields-too-large',
    'The request headers are larger than the server accepts (16 KiB in all); send fewer or shorter headers.',
  ),
  ERR_HTTP_REQUEST_TIMEOUT: new ProblemError(
    'request-timeout',
    'The request was not received in time; send it again.',
  ),
};

/**
 * Fastify's `clientErrorHandler`: Node's parser refused the request, so there
 * is no request object — write the problem onto the socket ourselves, in the
 * same RFC 9457 shape as every other error, and close the connection.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    CLIENT_ERRORS[error.code ?? ''] ??
    new ProblemError('bad-request', 'The request is not valid HTTP/1.1.');
  const meta = TRANSPORT_PROBLEMS[problem.slug as keyof typeof TRANSPORT_PROBLEMS];
  const body = JSON.stringify({
    type: problemType(problem.slug as never),
    title: meta.title,
    status: meta.status,
    detail: problem.detail,
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${meta.status} ${meta.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const LOCATION: Record<string, string> = {
  body: '',
  querystring: 'query.',
  params: 'params.',
  headers: 'headers.',
};

export function toProblem(error: FastifyError | ProblemError | Error): ProblemError {
  if (error instanceof ProblemError) return error;
  const e = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(e)) {
    const prefix = LOCATION[e.validationContext ?? 'body'] ?? '';
    const errors: FieldError[] = [];
    for (const issue of e.validation) {
      const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
      const keys = (issue.params as { keys?: string[] } | undefined)?.keys;
      if (issue.keyword === 'unrecognized_keys' && keys) {
        for (const key of keys) {
          errors.push({ path: prefix + (path ? `${path}.${key}` : key), message: 'unknown field' });
        }
      } else {
        errors.push({
          path: path ? prefix + path : prefix.replace(/\.$/, ''),
          message: issue.message ?? 'invalid value',
        });
      }
    }
    const where = e.validationContext === 'querystring' ? 'query' : (e.validationContext ?? 'body');
    return new ProblemError(
      'validation',
      `The ${where} does not match the schema: ${errors.map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)).join('; ')}`,
      { errors },
    );
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError('payload-too-large', 'The request body is larger than the limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError(
        'unsupported-media-type',
        'Send the request body as application/json.',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ProblemError('validation', 'The request body is not valid JSON.', {
        errors: [{ path: '', message: 'invalid JSON' }],
      });
  }
  if (e instanceof SyntaxError || e.statusCode === 400) {
    return new ProblemError('validation', 'The request body is not valid JSON.', {
      errors: [{ path: '', message: 'invalid JSON' }],
    });
  }
  if (e.statusCode === 413) {
    return new ProblemError('payload-too-large', 'The request body is larger than the limit.');
  }
  if (e.statusCode === 415) {
    return new ProblemError('unsupported-media-type', 'Send the request body as application/json.');
  }
  return new ProblemError('internal', 'Internal error; the server log has the details.');
}
