// sdk/ is what `npm run plugin:sdks` generates from provider/schema.json (SPEC §9).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { generateSdks, LANGUAGES, SDK_DIR } from '../../../provider/plugin/sdks.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenplane-sdks-check-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every file below `dir`, by path relative to it, with its content. */
function files(dir: string): Record<string, string> {
  const all: Record<string, string> = {};
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else all[relative(dir, full)] = readFileSync(full, 'latin1');
    }
  };
  walk(dir);
  return all;
}

it('sdk/nodejs, sdk/python, sdk/go and sdk/dotnet are current (else: npm run plugin:sdks)', () => {
  generateSdks(out);
  for (const language of LANGUAGES) {
    expect(
      files(join(SDK_DIR, language)),
      `sdk/${language} is stale: run npm run plugin:sdks`,
    ).toEqual(files(join(out, language)));
  }
  // The token values are secrets in every SDK.
  const secrets = {
    'python/pulumi_tokenplane/api_token.py': 'additional_secret_outputs=["previousValue", "value"]',
    'nodejs/apiToken.ts': 'additionalSecretOutputs: ["previousValue", "value"]',
    'go/tokenplane/apiToken.go': 'pulumi.AdditionalSecretOutputs([]string{',
    'dotnet/ApiToken.cs': 'AdditionalSecretOutputs',
  };
  for (const [file, marker] of Object.entries(secrets)) {
    expect(readFileSync(join(SDK_DIR, file), 'utf8'), file).toContain(marker);
  }
}, 600_000);
