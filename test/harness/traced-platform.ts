/**
 * The trace tests' set-up: a real Jaeger (jaeger.ts) and `tokenplane serve`
 * exporting its spans there over OTLP/HTTP within 100 ms; stopped together.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli.ts';
import { type RunningJaeger, startJaeger } from './jaeger.ts';

export type TracedPlatform = {
  jaeger: RunningJaeger;
  url: string;
  adminKey: string;
  /** The variables that export a process's spans to the same Jaeger. */
  exporting: Record<string, string>;
  stop(): Promise<void>;
};

/** `protocol`: the platform's OTEL_EXPORTER_OTLP_PROTOCOL (the SDK's default when absent). */
export async function startTracedPlatform(protocol?: 'http/json'): Promise<TracedPlatform> {
  const jaeger = await startJaeger();
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-traced-'));
  const exporting = {
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttp,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  const platform = runCli(['serve', '--port', '0', '--data-dir', dir], {
    tty: false,
    env: {
      ...exporting,
      ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}),
      TOKENPLANE_ADMIN_KEY: undefined,
    },
  });
  const url = (await platform.waitFor(/listening on (http:\/\/[^"\s]+)/, 60_000))[1] as string;
  return {
    jaeger,
    url,
    adminKey: readFileSync(join(dir, 'admin-key'), 'utf8').trim(),
    exporting,
    async stop() {
      platform.interrupt();
      await platform.done;
      await jaeger.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
