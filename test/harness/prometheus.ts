/**
 * A real Prometheus (an engine built from Go modules) on loopback, scraping the
 * given targets every second and evaluating rule files every second, with its
 * TSDB and log in a temporary directory removed by `stop()` (and at process end;
 * engine-process.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { requireEngines } from '../engines/engines.ts';
import { startEngineProcess } from './engine-process.ts';
import { freePort } from './ports.ts';

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
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: Object.entries(opts.jobs).map(([job, targets]) => ({
      job_name: job,
      honor_labels: true,
      static_configs: [{ targets }],
    })),
  };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const engine = await startEngineProcess({
    name: 'prometheus',
    command: (dir) => {
      writeFileSync(join(dir, 'prometheus.yml'), YAML.stringify(config));
      return {
        file: prometheus,
        args: [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--storage.tsdb.retention.time=1h',
        ],
      };
    },
    readyWhat: 'Prometheus ready',
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
  });

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

  return { url, api, log: engine.log, stop: engine.stop };
}
