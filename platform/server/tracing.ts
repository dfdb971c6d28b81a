/**
 * A server span per request (core/tracing.ts), named by method and route
 * pattern, a child of the caller's `traceparent`. Installed only when traces
 * are wanted, so that the hot path pays nothing otherwise. The span is made
 * active for the handler (storage spans become its children): once when the
 * request arrives, again before the handler, as parsing a body runs outside it.
 */
import type { Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
} from '../../core/tracing.ts';

const spans = new WeakMap<FastifyRequest, Span>();

export function installTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(context.active(), request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer.startSpan(`${request.method} ${route}`, { kind: SpanKind.SERVER }, parent);
    // Attributes only for a span that is recorded: an unsampled request pays for no more.
    if (span.isRecording()) {
      span.setAttributes({ 'http.request.method': request.method, 'http.route': route });
    }
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    // Re-entered only where reading the body left the request's context.
    if (span && trace.getSpan(context.active()) !== span) {
      context.with(trace.setSpan(context.active(), span), done);
    } else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
