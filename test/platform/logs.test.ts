/**
 * `tokenplane serve` logs for the person at the terminal and for the machine
 * behind a pipe: readable lines on a (pseudo-)terminal, JSON lines otherwise,
 * `--log-format` to choose — and in neither the administrator key, an access
 * key or a token value, even at trace level while those secrets cross the API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenplaneClient } from '../../core/client/index.ts';
import { isJsonLine, runCli } from '../harness/cli.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts serve, moves every kind of secret through it, stops it with Ctrl-C; returns its output and the secrets. */
async function serveAndUse(tty: boolean, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-logs-'));
  dirs.push(dir);
  const cli = runCli(['serve', '--port', '0', '--data-dir', dir, ...extra], {
    tty,
    env: {
      TOKENPLANE_LOG_LEVEL: 'trace',
      TOKENPLANE_LOG_FORMAT: '',
      TOKENPLANE_DATABASE_URL: '',
      TOKENPLANE_ADMIN_KEY: '',
    },
  });
  const [, url] = await cli.waitFor(/listening on (http:\/\/[\d.:]+)/);
  const adminKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  const client = new TokenplaneClient({ endpoint: url as string, apiKey: adminKey });
  const entity = await client.createEntity({
    name: 'Logs Ltd',
    kind: 'reseller',
    tier: 'advanced',
  });
  const token = await client.createToken(entity.id, { name: 'ci' });
  const access = await client.createAccessKey(entity.id, { name: 'robot', role: 'admin' });
  expect((await client.introspect(token.value)).active).toBe(true);
  const rotated = await client.rotateToken(token.id, {});
  // A query string stays out of the request lines: it may carry a secret.
  await fetch(`${url}/v1/entities?search=query-stays-out`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  await new TokenplaneClient({ endpoint: url as string, apiKey: `${adminKey}x` })
    .listTiers()
    .catch(() => undefined);
  cli.interrupt();
  expect(await cli.done).toBe(0);
  const secrets = [
    adminKey,
    token.value,
    rotated.value,
    access.key,
    entity.defaultToken?.value,
  ].filter((s): s is string => Boolean(s));
  return { output: cli.output(), raw: cli.raw(), lines: cli.lines(), secrets };
}

function expectNoSecret(output: string, secrets: string[]) {
  expect(secrets.length).toBeGreaterThanOrEqual(4);
  for (const secret of secrets) expect(output).not.toContain(secret);
  expect(output).not.toMatch(/tpt_[0-9A-Za-z]{20,}/);
}

describe('tokenplane serve logs', () => {
  it('on a terminal: readable lines, no secret, Ctrl-C stops it', async () => {
    const { output, lines, secrets } = await serveAndUse(true);
    expect(lines.filter(isJsonLine)).toEqual([]);
    expect(output).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: tokenplane platform listening on /m);
    expect(output).toMatch(/INFO: shutting down/);
    // One line per entry: every line starts with its time.
    for (const line of lines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+/);
    // A request is one short line: method, path, status, time — not the request object.
    expect(output).toMatch(/DEBUG: GET \/v1\/entities 200 \d+\.\d ms/);
    expect(output).toMatch(/DEBUG: POST \/v1\/tokens\/[^ ]+\/rotate 200 \d+\.\d ms/);
    expect(output).not.toMatch(/query-stays-out|remoteAddress|incoming request/);
    expectNoSecret(output, secrets);
  });

  it('behind a pipe: one JSON object per line, no secret', async () => {
    const { output, lines, secrets } = await serveAndUse(false);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((l) => !isJsonLine(l))).toEqual([]);
    expect(output).toMatch(/"msg":"tokenplane platform listening on /);
    expectNoSecret(output, secrets);
  });

  it('--log-format chooses: json on a terminal, pretty behind a pipe (without colours)', async () => {
    const json = await serveAndUse(true, ['--log-format', 'json']);
    expect(json.lines.filter((l) => !isJsonLine(l))).toEqual([]);
    expectNoSecret(json.output, json.secrets);

    const pretty = await serveAndUse(false, ['--log-format', 'pretty']);
    expect(pretty.lines.filter(isJsonLine)).toEqual([]);
    expect(pretty.output).toMatch(/INFO: tokenplane platform listening on /);
    expect(pretty.raw).not.toContain('\x1b[');
    expectNoSecret(pretty.output, pretty.secrets);
  });

  it('an unknown --log-format is refused with the choices', async () => {
    const cli = runCli(['serve', '--log-format', 'yaml'], { tty: false });
    expect(await cli.done).toBe(2);
    expect(cli.output()).toMatch(/--log-format must be one of auto, pretty, json \(got "yaml"\)/);
  });
});
