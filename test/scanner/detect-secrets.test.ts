/**
 * The shipped secret-scanner rule (scanners/detect-secrets/tokenplane.py) run
 * by the real detect-secrets (PyPI), installed on first use into a cached
 * virtualenv: it finds secret and publishable values with a valid checksum —
 * the shipped samples and values a real platform just issued — and ignores
 * look-alikes. What it finds, reported to POST /v1/token-leaks, stops working.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProblem, startPlatform } from '../platform/helpers.ts';

const run = promisify(execFile);
const VERSION = '1.5.0';
const PLUGIN = resolve('scanners/detect-secrets/tokenplane.py');
const SAMPLES = resolve('scanners/detect-secrets/samples.txt');
const TYPE = 'tokenplane API token';

/** detect-secrets in ~/.cache/tokenplane/detect-secrets-<version>, installed when missing. */
async function detectSecrets(): Promise<string> {
  const cache = process.env.TOKENPLANE_CACHE_DIR ?? join(homedir(), '.cache', 'tokenplane');
  const venv = join(cache, `detect-secrets-${VERSION}`);
  const bin = join(venv, 'bin', 'detect-secrets');
  if (!existsSync(bin)) {
    process.stderr.write(`installing detect-secrets ${VERSION} into ${venv} …\n`);
    await run('python3', ['-m', 'venv', venv]);
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', `detect-secrets==${VERSION}`]);
  }
  return bin;
}

/** SHA-1 hex of each value reported by our rule in `dir` (detect-secrets stores no values). */
async function scan(bin: string, dir: string): Promise<string[]> {
  const { stdout } = await run(bin, ['scan', '--plugin', PLUGIN, '--all-files', '.'], {
    cwd: dir,
  });
  const results = JSON.parse(stdout).results as Record<
    string,
    { type: string; hashed_secret: string }[]
  >;
  return Object.values(results)
    .flat()
    .filter((r) => r.type === TYPE)
    .map((r) => r.hashed_secret)
    .sort();
}

const sha1 = (v: string) => createHash('sha1').update(v).digest('hex');

let bin = '';
const dirs: string[] = [];
beforeAll(async () => {
  bin = await detectSecrets();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-scan-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('the detect-secrets rule', () => {
  it('finds the shipped samples with a valid checksum and ignores the look-alikes', async () => {
    const dir = folder({ 'samples.txt': readFileSync(SAMPLES, 'utf8') });
    expect(await scan(bin, dir)).toEqual(
      ['tpt_1rAMA2myB7iEmd7aoKZhGFW3BnDfOR3n6hwU', 'tpp_2WByDtxPfETjsZFBKxQXb39A5bjcDi1CClUt']
        .map(sha1)
        .sort(),
    );
  });

  it('finds values a platform issued; reported as leaks, they stop working', async () => {
    const p = await startPlatform('sqlite');
    try {
      const e = (
        await p.api.post('/v1/entities', { name: 'Leaky', kind: 'customer', tier: 'advanced' })
      ).body;
      const secret = e.defaultToken.value as string;
      const publishable = (
        await p.api.post(`/v1/entities/${e.id}/tokens`, {
          name: 'web',
          type: 'publishable',
          allowedOrigins: ['https://app.example.com'],
        })
      ).body.value as string;
      const dir = folder({
        '.env': `TOKENPLANE_TOKEN=${secret}\n`,
        'page.html': `<script>const key = '${publishable}';</script>\n`,
        'notes.md': `typo: ${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}\n`,
      });
      const found = await scan(bin, dir);
      expect(found).toEqual([secret, publishable].map(sha1).sort());

      const report = await p.api.post('/v1/token-leaks', [
        {
          token: secret,
          type: 'tokenplane_api_token',
          url: 'https://example.com/.env',
          source: 'content',
        },
      ]);
      expect(report.status).toBe(200);
      expect(report.body[0].label).toBe('true_positive');
      expect(isProblem(await p.api.metric(secret, 'requests'), 'unauthorized', 401)).toBe(true);
    } finally {
      await p.close();
    }
  });
});
