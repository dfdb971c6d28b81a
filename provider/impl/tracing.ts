/**
 * Traces of the Pulumi provider (README "Observability"), dynamic and plugin.
 * Either runs as a plugin of the engine, which under `pulumi up --otel-traces`
 * runs a receiver and hands each plugin its address
 * (PULUMI_OTEL_EXPORTER_OTLP_ENDPOINT, OTLP over gRPC); OTEL_EXPORTER_OTLP_ENDPOINT,
 * when set, wins. Neither set: the SDK is not loaded and nothing is wrapped.
 *
 * The dynamic provider runs in Pulumi's dynamic-provider host
 * (`pulumi-resource-pulumi-nodejs`), which loads this code at its first call:
 * the SDK starts then, once per process, and each operation is a server span
 * whose typed-client calls carry it on to the platform. The engine sends each
 * call's W3C `traceparent` in the gRPC metadata, which the host's handlers never
 * see (nor does the engine set TRACEPARENT in a provider's environment). So the
 * gRPC server the host already runs is made to enter each later call's context
 * before its handler: the operation spans are the engine's children, and one
 * `pulumi up` is one trace. The hook is grpc-js's own per-call handler look-up
 * (`Server#_retrieveHandler`, 1.x), installed while the host's first call runs
 * (this code loads then): that call's operation, and every operation under a
 * grpc-js without the look-up, is the root of a trace of its own. (The plugin
 * runs its own gRPC server and reads the metadata itself: plugin/tracing.ts.)
 */
import { createRequire } from 'node:module';
import type * as pulumi from '@pulumi/pulumi';
import {
  context,
  flushSpans,
  inSpan,
  propagation,
  SpanKind,
  startTracing,
  type Tracing,
  tracingWanted,
} from '../../core/tracing.ts';
import type { ProviderKind } from '../shim.ts';

export async function startProviderTracing(
  env: Record<string, string | undefined> = process.env,
): Promise<Tracing | null> {
  const engine = env.PULUMI_OTEL_EXPORTER_OTLP_ENDPOINT;
  if (engine && !tracingWanted(env)) {
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://${engine}`;
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'grpc';
  }
  return startTracing('tokenplane-provider');
}

type Methods = Omit<pulumi.dynamic.ResourceProvider, 'configure'>;
type Call = { metadata?: { getMap(): Record<string, unknown> } };
type Handler = { type: string; func: (call: Call, respond: unknown) => void };
type HostServer = { _retrieveHandler?: (this: unknown, path: string) => Handler | null };

let started: Promise<boolean> | undefined;

/** Whether this dynamic-provider process traces; the first call starts the SDK and hooks the host's server. */
export function dynamicTracing(): Promise<boolean> {
  started ??= startProviderTracing().then((tracing) => {
    if (tracing) enterEngineContexts();
    return tracing !== null;
  });
  return started;
}

function enterEngineContexts(): void {
  // The grpc-js the host loaded: resolved from the host's script, not from here
  // (an installed tokenplane may hold a copy of its own). Not found, the
  // operations go on untied to the engine's spans: tracing never fails a step.
  let server: HostServer;
  try {
    const grpc = createRequire(process.argv[1] ?? '')('@grpc/grpc-js');
    server = (grpc as { Server: { prototype: HostServer } }).Server.prototype;
  } catch {
    return;
  }
  const retrieve = server._retrieveHandler;
  if (typeof retrieve !== 'function') return;
  server._retrieveHandler = function (path) {
    const handler = retrieve.call(this, path);
    if (handler?.type !== 'unary') return handler;
    return {
      ...handler,
      func: (call, respond) =>
        context.with(propagation.extract(context.active(), call.metadata?.getMap() ?? {}), () =>
          handler.func(call, respond),
        ),
    };
  };
}

/**
 * `methods` with a server span around each operation, flushed before the host
 * answers (the engine stops its receiver, then its plugins, right after the last).
 */
export function tracedMethods(kind: ProviderKind, methods: Methods): Methods {
  const traced: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods) as [string, (...a: never[]) => unknown][]) {
    traced[name] = (...args: never[]) =>
      inSpan(
        `pulumi.provider/${name}`,
        { 'tokenplane.resource': kind },
        async () => method(...args),
        SpanKind.SERVER,
      ).finally(flushSpans);
  }
  return traced as Methods;
}
