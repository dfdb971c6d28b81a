/**
 * Request logging at `debug`: one line per request at `info` (≈350 bytes, a
 * 401 flood included) filled disks for no reader. Refusals stay countable in
 * `/metrics` (tokenplane_problems_total by slug); TOKENPLANE_LOG_LEVEL=debug
 * brings the request lines back. Requests that failed with an error still log
 * at `error`.
 *
 * One short line per request, when it completes: method, path, status, time.
 * Never the query string (it may carry a secret) nor the whole request object.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/** `GET /v1/entities 200 1.8 ms` */
function requestLine(request: FastifyRequest, reply: FastifyReply): string {
  const path = request.url.split('?')[0];
  return `${request.method} ${path} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)} ms`;
}

export class RequestLog extends LogController {
  override incomingRequest(): void {
    // Nothing: the completed line says it all.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ err: error }, requestLine(request, reply));
    else reply.log.debug(requestLine(request, reply));
  }
}
