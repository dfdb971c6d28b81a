/**
 * Traces (README "Observability"), started by `tokenplane serve` and
 * `tokenplane operator` (spans of the typed client go wherever it runs, and
 * are exported by a process that started the SDK): the official OpenTelemetry Node SDK,
 * started only when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). The SDK then reads every standard
 * OTEL_* variable itself: protocol (http/protobuf, http/json), sampler,
 * service name, resource attributes, headers.
 *
 * Unset, the SDK is not even loaded: spans are made through the OpenTelemetry
 * API, whose default tracer and propagator do nothing, so the code paths below
 * cost a function call and no allocation worth measuring (`npm run bench`).
 */
import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { randomHex } from './crypto/ids.ts';

export type Tracing = { shutdown(): Promise<void> };

/** Whether the environment asks for traces. */
export function tracingWanted(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Starts the SDK when the environment asks for it; `serviceName` unless OTEL_SERVICE_NAME says otherwise. */
export async function startTracing(serviceName: string): Promise<Tracing | null> {
  if (!tracingWanted() || process.env.OTEL_SDK_DISABLED === 'true') return null;
  // Traces only, unless asked: metrics are Prometheus's (/metrics), logs are pino's.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || serviceName,
    // Sampled or not, every server span gets ids; the SDK's own make them from Math.random, 4 bytes at a time.
    idGenerator: { generateTraceId: () => traceId(16), generateSpanId: () => traceId(8) },
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/** A W3C trace or span id of `bytes` random bytes: never all zeros, which means none. */
function traceId(bytes: number): string {
  const id = randomHex(bytes);
  return /[^0]/.test(id) ? id : traceId(bytes);
}

export const tracer = trace.getTracer('tokenplane');

/**
 * Exports the spans ended so far, for a process that may be stopped at any
 * moment (a Pulumi plugin); nothing without the SDK, and never an error.
 */
export async function flushSpans(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?(): unknown };
  const sdk = (provider.getDelegate?.() ?? provider) as { forceFlush?(): Promise<void> };
  await sdk.forceFlush?.().catch(() => {});
}

/**
 * Runs `fn` in a span (a child of the active one), ending it with `fn`'s
 * outcome; an error is recorded by its class and message only (they never hold
 * a secret: core/logging.ts redacts what is logged, errors name no value).
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` (and `tracestate`) of the active span, for an outgoing request. */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

export { context, propagation, SpanKind, SpanStatusCode, trace };
