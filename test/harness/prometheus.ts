/**
 * A real Prometheus (an engine built from Go modules) on loopback, scraping the
 * given targets every second and evaluating rule files every second, with its
 * TSDB and log in a temporary directory removed by `stop()` (and at process end).
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

export type RunningPrometheus = {
  url: string;
  /** GET or POST (form) on /api/v1/<path>; throws with Prometheus's error unless status is success. */
  api<T>(path: string, params?: Record<string, string>, method?: 'GET' | 'POST'): Promise<T>;
  log(): string;
  stop(): Promise<void>;
};

export async function startPrometheus(opts: {
  /** Scrape jobs: name → `host:port` targets (path /metrics), scraped with honor_labels as the chart's ServiceMonitor does. */
  jobs: Record<string, string[]>;
  ruleFiles?: string[];
}): Promise<RunningPrometheus> {
  const { prometheus } = requireEngines('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: Object.entries(opts.jobs).map(([job, targets]) => ({
      job_name: job,
      honor_labels: true,
      static_configs: [{ targets }],
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), YAML.stringify(config));
  const port = await freePort();
  const logFd = openSync(join(dir, 'prometheus.log'), 'a');
  const child: ChildProcess = spawn(
    prometheus,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  const kill = () => child.kill('SIGKILL');
  const unregister = atProcessEnd(() => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFileSync(join(dir, 'prometheus.log'), 'utf8');

  async function api<T>(
    path: string,
    params: Record<string, string> = {},
    method: 'GET' | 'POST' = 'GET',
  ): Promise<T> {
    const query = new URLSearchParams(params);
    const res =
      method === 'GET'
        ? await fetch(`${url}/api/v1/${path}?${query}`)
        : await fetch(`${url}/api/v1/${path}`, { method, body: query });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success')
      throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  try {
    await waitFor(
      'Prometheus ready',
      async () => child.exitCode === null && (await fetch(`${url}/-/ready`)).ok,
    );
  } catch (err) {
    kill();
    throw new Error(`${(err as Error).message}\n${log().slice(-2000)}`);
  }
  return {
    url,
    api,
    log,
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
