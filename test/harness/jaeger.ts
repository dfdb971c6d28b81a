/**
 * A real Jaeger (v2, an engine built from Go modules) on loopback: an OTLP/HTTP
 * receiver, traces kept in memory, and the query API the Jaeger UI reads
 * (`/api/traces/<id>`). Log and config in a temporary directory removed by
 * `stop()` (and at process end).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { requireEngines } from '../engines/engines.ts';
import { atProcessEnd } from './cleanup.ts';
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
  log(): string;
  stop(): Promise<void>;
};

export async function startJaeger(): Promise<RunningJaeger> {
  const { jaeger } = requireEngines('jaeger');
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-jaeger-'));
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
  writeFileSync(join(dir, 'config.yaml'), YAML.stringify(config));
  const logFd = openSync(join(dir, 'jaeger.log'), 'a');
  const child: ChildProcess = spawn(jaeger, ['--config', join(dir, 'config.yaml')], {
    stdio: ['ignore', logFd, logFd],
  });
  const kill = () => child.kill('SIGKILL');
  const unregister = atProcessEnd(() => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const queryUrl = `http://127.0.0.1:${query}`;
  const log = () => readFileSync(join(dir, 'jaeger.log'), 'utf8');
  try {
    await waitFor(
      'Jaeger ready',
      async () => child.exitCode === null && (await fetch(`${queryUrl}/api/services`)).ok,
      60_000,
    );
  } catch (err) {
    kill();
    throw new Error(`${(err as Error).message}\n${log().slice(-2000)}`);
  }
  return {
    otlpHttp: `http://127.0.0.1:${otlp}`,
    log,
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
    async stop() {
      unregister();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
