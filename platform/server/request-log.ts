/**
 * Request logging at `debug`: one line per request at `info` (≈350 bytes, a
 * 401 flood included) filled disks for no reader. Refusals stay countable in
 * `/metrics` (tokenplane_problems_total by slug); TOKENPLANE_LOG_LEVEL=debug
 * brings the request lines back. Requests that failed with an error still log
 * at `error`.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export class RequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error(
        { res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    } else {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
