/**
 * The real `helm` (an engine) with a home of its own, so no test reads or
 * writes the user's Helm settings; values go in as files, as a user writes them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import YAML from 'yaml';
import { requireEngines } from '../engines/engines.ts';

export class Helm {
  readonly home = mkdtempSync(join(tmpdir(), 'tokenplane-helm-'));

  async run(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const { helm } = requireEngines('helm');
    return promisify(execFile)(helm, args, {
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(this.home, 'cache'),
        HELM_CONFIG_HOME: join(this.home, 'config'),
        HELM_DATA_HOME: join(this.home, 'data'),
      },
      maxBuffer: 16 << 20,
    });
  }

  /** Fails with helm's own words, for a test that expects a refusal. */
  async refusal(...args: string[]): Promise<string> {
    const failed = await this.run(...args).then(
      () => undefined,
      (err: { stdout: string; stderr: string }) => `${err.stdout}${err.stderr}`,
    );
    if (failed === undefined) throw new Error(`helm ${args.join(' ')} succeeded`);
    return failed;
  }

  valuesFile(values: object): string {
    const path = join(this.home, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, YAML.stringify(values));
    return path;
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

export const rendered = (text: string): KubernetesObject[] =>
  YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as KubernetesObject)
    .filter(Boolean);
