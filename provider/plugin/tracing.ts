/**
 * Traces of the provider plugin (README "Observability"), started as the
 * dynamic provider's are (provider/impl/tracing.ts: OTEL_EXPORTER_OTLP_ENDPOINT,
 * else the receiver of `pulumi up --otel-traces`). The engine sends each call's
 * W3C `traceparent` in the gRPC metadata: the plugin makes a span per resource
 * operation under the engine's, and the typed client carries it on to the
 * platform, so one `pulumi up` is one trace. Not started: nothing is wrapped.
 */
import type { Metadata } from '@grpc/grpc-js';
import { context, flushSpans, inSpan, propagation, SpanKind } from '../../core/tracing.ts';

/** The calls of the resource provider protocol that act on resources. */
const OPERATIONS = ['check', 'diff', 'create', 'read', 'update', 'delete'] as const;

type Callback = (err: unknown, value?: unknown) => void;
type Handler = (call: { metadata?: Metadata }, callback: Callback) => void;

/** The gRPC service implementation with a server span around each resource operation. */
export function tracedOperations<T extends object>(implementation: T): T {
  const traced = Object.create(implementation) as Record<string, Handler>;
  for (const name of OPERATIONS) {
    const handler = (implementation as Record<string, Handler | undefined>)[name];
    if (typeof handler !== 'function') continue;
    const operation = (call: { metadata?: Metadata }) => () =>
      new Promise<unknown>((resolve, reject) =>
        handler.call(implementation, call, (err, value) => (err ? reject(err) : resolve(value))),
      );
    traced[name] = (call, callback) => {
      const engine = propagation.extract(context.active(), call.metadata?.getMap() ?? {});
      context
        .with(engine, () => inSpan(`pulumi.provider/${name}`, {}, operation(call), SpanKind.SERVER))
        // The engine may stop the plugin right after its last answer, and stops
        // its own receiver first: the operation's spans leave before the answer.
        .finally(flushSpans)
        .then((value) => callback(null, value), callback);
    };
  }
  return traced as T;
}
