/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir, `pg_ctl
 * start` on a free loopback port with its unix socket in the temp dir, torn down
 * by `stop()`. Binaries come from PATH or /usr/lib/postgresql/<version>/bin
 * (Debian's `postgresql` package). As root, the server runs as the `postgres`
 * user (PostgreSQL refuses to run as root).
 *
 *   const pg = await startPostgres();
 *   const url = await pg.createDatabase();   // a fresh database per suite
 *   ...
 *   await pg.stop();
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export type PostgresCluster = {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
};

function findBinDir(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. ' +
      'Install them (Debian/Ubuntu: apt-get install postgresql) — the platform suite runs on PostgreSQL as well as SQLite.',
  );
}

function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) {
    throw new Error('running as root needs a "postgres" system user to run the PostgreSQL server');
  }
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = findBinDir();
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const exec = (file: string, args: string[]) =>
    user
      ? run('runuser', ['-u', 'postgres', '--', join(bin, file), ...args], { cwd: dir })
      : run(join(bin, file), args, { cwd: dir });
  try {
    await exec('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C', // no dependency on the machine's locales
      '--no-sync',
      '--no-instructions',
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr ?? error}`);
  }
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const options = [
      `-c listen_addresses=127.0.0.1`,
      `-p ${port}`,
      `-k ${dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    try {
      await exec('pg_ctl', [
        '-D',
        data,
        '-o',
        options,
        '-l',
        join(dir, 'postgres.log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
      break;
    } catch (error) {
      if (attempt >= 2) {
        const log = existsSync(join(dir, 'postgres.log'))
          ? readFileSync(join(dir, 'postgres.log'), 'utf8')
          : '';
        rmSync(dir, { recursive: true, force: true });
        throw new Error(
          `pg_ctl start failed: ${(error as { stderr?: string }).stderr ?? error}\n${log}`,
        );
      }
    }
  }
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    url,
    async createDatabase(name = `tp_${randomBytes(6).toString('hex')}`) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
