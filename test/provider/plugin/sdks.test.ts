// sdk/ is what `npm run plugin:sdks` generates from provider/schema.json (README "Pulumi provider for every language").
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { generateSdks, LANGUAGES, SDK_DIR } from '../../../provider/plugin/sdks.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenplane-sdks-check-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every file below `dir` (a fresh generation), by relative path, with its content. */
function generated(dir: string): Record<string, string> {
  const all: Record<string, string> = {};
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (statSync(join(dir, file)).isFile()) all[file] = readFileSync(join(dir, file), 'latin1');
  }
  return all;
}

/** The files of the checkout below `dir` that git would commit (not what its .gitignore leaves out). */
function committed(dir: string): Record<string, string> {
  const listed = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  const all: Record<string, string> = {};
  for (const file of listed.split('\0').filter(Boolean)) {
    if (existsSync(join(dir, file))) all[file] = readFileSync(join(dir, file), 'latin1');
  }
  return all;
}

it('sdk/nodejs, sdk/python, sdk/go, sdk/dotnet and sdk/java are current (else: npm run plugin:sdks)', () => {
  generateSdks(out);
  for (const language of LANGUAGES) {
    expect(
      committed(join(SDK_DIR, language)),
      `sdk/${language} is stale: run npm run plugin:sdks`,
    ).toEqual(generated(join(out, language)));
  }
  // The token values are secrets in every SDK.
  const secrets = {
    'python/pulumi_tokenplane/api_token.py': 'additional_secret_outputs=["previousValue", "value"]',
    'nodejs/apiToken.ts': 'additionalSecretOutputs: ["previousValue", "value"]',
    'go/tokenplane/apiToken.go': 'pulumi.AdditionalSecretOutputs([]string{',
    'dotnet/ApiToken.cs': 'AdditionalSecretOutputs',
    'java/src/main/java/dev/tokenplane/tokenplane/ApiToken.java':
      '.additionalSecretOutputs(List.of(',
  };
  for (const [file, marker] of Object.entries(secrets)) {
    expect(readFileSync(join(SDK_DIR, file), 'utf8'), file).toContain(marker);
  }
}, 600_000);
