/**
 * A real Jaeger (v2, an engine built from Go modules) on loopback: an OTLP/HTTP
 * receiver, traces kept in memory, and the query API the Jaeger UI reads
 * (`/api/traces/<id>`). Log and config in a temporary directory removed by
 * `stop()` (and at process end; engine-process.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { requireEngines } from '../engines/engines.ts';
import { startEngineProcess } from './engine-process.ts';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export type JaegerSpan = {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
};
export type JaegerTrace = {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
};

export type RunningJaeger = {
  /** Base URL of the OTLP/HTTP receiver (OTEL_EXPORTER_OTLP_ENDPOINT). */
  otlpHttp: string;
  /** The trace, once it holds `minSpans` spans. */
  trace(traceId: string, minSpans: number): Promise<JaegerTrace>;
  /** The first trace of `service` that `accept` takes (waits until one arrives). */
  traceOf(service: string, accept: (trace: JaegerTrace) => boolean): Promise<JaegerTrace>;
  log(): string;
  stop(): Promise<void>;
};

export async function startJaeger(): Promise<RunningJaeger> {
  const { jaeger } = requireEngines('jaeger');
  const [otlp, query, queryGrpc] = [await freePort(), await freePort(), await freePort()];
  const config = {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: [], exporters: ['jaeger_storage_exporter'] },
      },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_storage: { backends: { memory: { memory: { max_traces: 10_000 } } } },
      jaeger_query: {
        storage: { traces: 'memory' },
        http: { endpoint: `127.0.0.1:${query}` },
        grpc: { endpoint: `127.0.0.1:${queryGrpc}` },
      },
    },
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlp}` } } } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memory' } },
  };
  const queryUrl = `http://127.0.0.1:${query}`;
  const engine = await startEngineProcess({
    name: 'jaeger',
    command: (dir) => {
      writeFileSync(join(dir, 'config.yaml'), YAML.stringify(config));
      return { file: jaeger, args: ['--config', join(dir, 'config.yaml')] };
    },
    readyWhat: 'Jaeger ready',
    ready: async () => (await fetch(`${queryUrl}/api/services`)).ok,
  });
  return {
    otlpHttp: `http://127.0.0.1:${otlp}`,
    log: engine.log,
    stop: engine.stop,
    trace: (traceId, minSpans) =>
      waitFor(
        `trace ${traceId} with ${minSpans} spans in Jaeger`,
        async () => {
          const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
          if (!res.ok) return false;
          const [found] = ((await res.json()) as { data: JaegerTrace[] }).data;
          return found && found.spans.length >= minSpans ? found : false;
        },
        30_000,
        250,
      ),
    traceOf: (service, accept) =>
      waitFor(
        `a trace of ${service} in Jaeger`,
        async () => {
          const res = await fetch(`${queryUrl}/api/traces?service=${service}&limit=100`);
          if (!res.ok) return false;
          return ((await res.json()) as { data: JaegerTrace[] }).data.find(accept) ?? false;
        },
        30_000,
        250,
      ),
  };
}
