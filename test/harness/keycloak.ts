/**
 * A real OpenID provider for the single sign-on tests: Keycloak (the `keycloak`
 * engine) in development mode on loopback over http, with an in-memory database
 * and one realm imported at start-up: a confidential client that requires PKCE
 * (S256) and redirects to the console's callback, and users with verified emails.
 * Start-up takes 20–70 s on a busy machine, so a test file starts it once.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireEngines } from '../engines/engines.ts';
import { startEngineProcess } from './engine-process.ts';
import { freePort } from './ports.ts';

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
  // --import-realm reads <home>/data/import: one file per instance, removed at stop.
  const importDir = join(dirname(dirname(kcsh)), 'data', 'import');
  mkdirSync(importDir, { recursive: true });
  const realmFile = join(importDir, `${name}.json`);
  writeFileSync(realmFile, JSON.stringify(realm(name, { clientId, clientSecret, ...opts })));
  const [port, managementPort] = [await freePort(), await freePort()];
  const started = Date.now();
  const issuer = `http://127.0.0.1:${port}/realms/${name}`;
  const engine = await startEngineProcess({
    name: 'keycloak',
    command: () => ({
      file: kcsh,
      args: [
        'start-dev',
        '--import-realm',
        '--db=dev-mem',
        '--http-host=127.0.0.1',
        `--http-port=${port}`,
        `--http-management-port=${managementPort}`,
        '--hostname-strict=false',
      ],
    }),
    env: { ...process.env, JAVA_OPTS_APPEND: '-Xms64m -Xmx768m' },
    // kc.sh execs java in its own process group: the group is ended.
    group: true,
    readyWhat: "Keycloak's realm discovery document",
    ready: async () => (await fetch(`${issuer}/.well-known/openid-configuration`)).ok,
    readyTimeoutMs: 240_000,
    readyIntervalMs: 500,
    graceMs: 10_000,
    cleanup: () => rmSync(realmFile, { force: true }),
  });
  return {
    issuer,
    clientId,
    clientSecret,
    startedInMs: Date.now() - started,
    log: engine.log,
    stop: engine.stop,
  };
}
