/**
 * `npm run plugin:sdks`: the SDKs of the provider plugin (README "Pulumi provider for every language") in sdk/ —
 * sdk/nodejs, sdk/python (`pulumi_tokenplane`), sdk/go, sdk/dotnet, sdk/java — generated
 * from provider/schema.json by sdkgen/main.go (Pulumi's code generators of
 * pkg/v3 v3.215.0; Go ≥ 1.24 on PATH, modules from the Go module proxy, the first
 * build of it takes minutes). test/provider/plugin/sdks.test.ts fails when sdk/
 * is not what this writes.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LANGUAGES = ['nodejs', 'python', 'go', 'dotnet', 'java'] as const;
export const SDK_DIR = fileURLToPath(new URL('../../sdk/', import.meta.url));
const SCHEMA = fileURLToPath(new URL('../schema.json', import.meta.url));
const SDKGEN = fileURLToPath(new URL('./sdkgen/', import.meta.url));

/** Writes the SDKs into `out/<language>`. */
export function generateSdks(out: string): void {
  execFileSync('go', ['run', '.', SCHEMA, out], {
    cwd: SDKGEN,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'local', GOFLAGS: '-mod=mod' },
  });
}

if (import.meta.main) {
  const started = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'tokenplane-sdks-'));
  try {
    generateSdks(out);
    for (const language of LANGUAGES) {
      rmSync(join(SDK_DIR, language), { recursive: true, force: true });
      cpSync(join(out, language), join(SDK_DIR, language), { recursive: true });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  process.stdout.write(
    `wrote ${LANGUAGES.map((l) => `sdk/${l}`).join(', ')} in ${Date.now() - started} ms\n`,
  );
}
