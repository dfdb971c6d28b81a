/**
 * The data directory's keys (issue 13.4): a database with data is never given a
 * new encryption key — a missing key file is named and must be restored — and
 * a data directory that cannot be written is named with the fix.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../platform/main.ts';
import { ENGINES, startPlatform } from './helpers.ts';

describe.each(ENGINES)('encryption key file on %s', (engine) => {
  it('a deleted key file next to data is refused, named, and never replaced', async () => {
    const p = await startPlatform(engine);
    const keyFile = join(p.dataDir, 'encryption-key');
    const backup = `${keyFile}.backup`;
    try {
      const e = await p.api.post('/v1/entities', { name: 'Kept', kind: 'customer' });
      const value = e.body.defaultToken.value as string;
      await p.server.close();
      copyFileSync(keyFile, backup);
      unlinkSync(keyFile);

      const restart = () =>
        startServer({
          port: 0,
          dataDir: p.dataDir,
          ...(p.databaseUrl ? { databaseUrl: p.databaseUrl } : {}),
          adminKey: p.server.adminKey,
          logger: false,
          env: {},
        });
      for (let attempt = 0; attempt < 2; attempt++) {
        const refused = await restart().then(
          () => null,
          (error: Error) => error.message,
        );
        expect(refused).toContain(`The encryption key file ${keyFile} is missing`);
        expect(refused).toMatch(/Restore .* from your backup/);
        // no wrong key left behind: the next start says the same, not "another key"
        expect(existsSync(keyFile)).toBe(false);
      }

      copyFileSync(backup, keyFile);
      p.server = await restart();
      const r = await fetch(`${p.server.url}/v1/analytics/metrics`, {
        headers: { authorization: `Bearer ${value}` },
      });
      expect(r.status).toBe(200);
    } finally {
      await p.close();
    }
  });
});

describe('data directory', () => {
  it('a fresh database gets a generated key; another key for the same data is refused with its source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenplane-datadir-'));
    try {
      const first = await startServer({ port: 0, dataDir: dir, logger: false, env: {} });
      expect(existsSync(join(dir, 'encryption-key'))).toBe(true);
      await fetch(`${first.url}/v1/entities`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', kind: 'customer' }),
      });
      await first.close();
      const wrong = await startServer({
        port: 0,
        dataDir: dir,
        encryptionKey: 'not-the-key-this-database-was-made-with',
        logger: false,
        env: {},
      }).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(wrong).toContain('The encryption key (TOKENPLANE_ENCRYPTION_KEY) is not the key');
      expect(wrong).toContain(join(dir, 'tokenplane.db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a read-only data directory is named with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenplane-readonly-'));
    chmodSync(dir, 0o555);
    try {
      // root writes anywhere: run the command as nobody then, like a service account
      const asRoot = process.getuid?.() === 0;
      const argv = [process.execPath, join(import.meta.dirname, '../../bin/tokenplane.js')];
      const [cmd, ...args] = asRoot
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv]
        : argv;
      const child = spawn(cmd as string, [...args, 'serve', '--port', '0', '--data-dir', dir], {
        env: { ...process.env, TOKENPLANE_ADMIN_KEY: '', TOKENPLANE_DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, err).toBe(1);
      expect(err).toContain(`Cannot write to the data directory ${dir} (EACCES)`);
      expect(err).toMatch(/--data-dir or TOKENPLANE_DATA_DIR/);
    } finally {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
