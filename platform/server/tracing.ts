/**
 * A server span per request (core/tracing.ts), named by method and route
 * pattern, a child of the caller's `traceparent`. Installed only when traces
 * are wanted, so that the hot path pays nothing otherwise. The span is made
 * active for the handler (storage spans become its children): once when the
 * request arrives, again before the handler, as parsing a body runs outside it.
 */
import type { Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
} from '../../core/tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span, while tracing is installed. */
    span: Span | null;
  }
}

export function installTracing(app: FastifyInstance): void {
  app.decorateRequest('span', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(context.active(), request.raw.headers); // raw: see auth.ts
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer.startSpan(`${request.method} ${route}`, { kind: SpanKind.SERVER }, parent);
    // Attributes only for a span that is recorded: an unsampled request pays for no more.
    if (span.isRecording()) {
      span.setAttributes({ 'http.request.method': request.method, 'http.route': route });
    }
    request.span = span;
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const span = request.span;
    // Re-entered only where reading the body left the request's context.
    if (span && trace.getSpan(context.active()) !== span) {
      context.with(trace.setSpan(context.active(), span), done);
    } else done();
  });
  // Ended when the answer is handed to Node, as the request metrics are: an
  // onResponse hook would make fastify listen for every response's end
  // (request-log.ts).
  app.addHook('onSend', (request, reply, payload, done) => {
    const span = request.span;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      request.span = null; // an answer sent again (an onSend hook that failed) ends it once
    }
    done(null, payload);
  });
}
