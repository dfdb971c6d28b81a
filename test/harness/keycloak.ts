/**
 * A real OpenID provider for the single sign-on tests: Keycloak (the `keycloak`
 * engine) in development mode on loopback over http, with an in-memory database
 * and one realm imported at start-up: a confidential client that requires PKCE
 * (S256) and redirects to the console's callback, and users with verified emails.
 * Start-up takes 20–70 s on a busy machine, so a test file starts it once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireEngines } from '../engines/engines.ts';
import { atProcessEnd } from './cleanup.ts';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export type KeycloakUser = {
  username: string;
  password: string;
  email: string;
  emailVerified?: boolean;
};

export type RunningKeycloak = {
  /** The realm's issuer, e.g. http://127.0.0.1:PORT/realms/tokenplane-xxxx */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Milliseconds from spawn to the realm's discovery document answering. */
  startedInMs: number;
  log(): string;
  stop(): Promise<void>;
};

function realm(
  name: string,
  opts: { clientId: string; clientSecret: string; redirectUris: string[]; users: KeycloakUser[] },
) {
  return {
    realm: name,
    enabled: true,
    clients: [
      {
        clientId: opts.clientId,
        secret: opts.clientSecret,
        enabled: true,
        publicClient: false,
        standardFlowEnabled: true,
        directAccessGrantsEnabled: false,
        redirectUris: opts.redirectUris,
        attributes: {
          'pkce.code.challenge.method': 'S256',
          'post.logout.redirect.uris': '+',
        },
      },
    ],
    users: opts.users.map((u) => ({
      username: u.username,
      email: u.email,
      emailVerified: u.emailVerified ?? true,
      enabled: true,
      // Keycloak's user profile asks for names at first sign-in when they are missing.
      firstName: u.username,
      lastName: 'Tester',
      credentials: [{ type: 'password', value: u.password, temporary: false }],
    })),
  };
}

export async function startKeycloak(opts: {
  /** Redirect URIs the client accepts (the console's `<origin>/console/oidc/callback`; `*` suffixes allowed). */
  redirectUris: string[];
  users: KeycloakUser[];
}): Promise<RunningKeycloak> {
  const { keycloak: kcsh } = requireEngines('keycloak');
  const name = `tokenplane-${randomBytes(4).toString('hex')}`;
  const clientId = 'tokenplane-console';
  const clientSecret = randomBytes(18).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-keycloak-'));
  // --import-realm reads <home>/data/import: one file per instance, removed at stop.
  const importDir = join(dirname(dirname(kcsh)), 'data', 'import');
  mkdirSync(importDir, { recursive: true });
  const realmFile = join(importDir, `${name}.json`);
  writeFileSync(realmFile, JSON.stringify(realm(name, { clientId, clientSecret, ...opts })));
  const [port, managementPort] = [await freePort(), await freePort()];
  const logFd = openSync(join(dir, 'keycloak.log'), 'a');
  const started = Date.now();
  const child: ChildProcess = spawn(
    kcsh,
    [
      'start-dev',
      '--import-realm',
      '--db=dev-mem',
      '--http-host=127.0.0.1',
      `--http-port=${port}`,
      `--http-management-port=${managementPort}`,
      '--hostname-strict=false',
    ],
    {
      stdio: ['ignore', logFd, logFd],
      detached: true,
      env: { ...process.env, JAVA_OPTS_APPEND: '-Xms64m -Xmx768m' },
    },
  );
  // kc.sh execs java in its own process group: end the group.
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const cleanup = () => {
    rmSync(realmFile, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = atProcessEnd(() => {
    kill();
    cleanup();
  });
  const issuer = `http://127.0.0.1:${port}/realms/${name}`;
  const log = () => readFileSync(join(dir, 'keycloak.log'), 'utf8');
  try {
    await waitFor(
      "Keycloak's realm discovery document",
      async () => {
        if (child.exitCode !== null) throw new Error(`kc.sh exited ${child.exitCode}`);
        return (await fetch(`${issuer}/.well-known/openid-configuration`)).ok;
      },
      240_000,
      500,
    );
  } catch (err) {
    kill();
    const tail = log().slice(-3000);
    unregister();
    cleanup();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return {
    issuer,
    clientId,
    clientSecret,
    startedInMs: Date.now() - started,
    log,
    async stop() {
      unregister();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      kill();
      cleanup();
    },
  };
}
