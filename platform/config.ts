/**
 * The platform's settings: each option of `startServer(options)` falls back to
 * its environment variable (pass `env: {}` to ignore the environment), and is
 * checked here once, so a bad value stops the start with a message saying what
 * to write instead.
 */
import { resolve } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { type Tier, TierTable } from '../core/domain/tiers.ts';
import { createLogger } from '../core/logging.ts';
import { isAddressOrRange } from '../core/schemas/permissions.ts';
import type { ConsoleOptions } from './console/index.ts';
import { type OidcSettings, oidcSettings } from './console/oidc.ts';
import {
  WEBHOOK_EGRESS_MODES,
  WebhookDestinations,
  type WebhookEgress,
} from './webhooks/destinations.ts';

export type Env = Record<string, string | undefined>;

export type ServerOptions = {
  /** PORT; default 8080; 0 = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** TOKENPLANE_DATA_DIR; default ./.data (SQLite file, generated keys). */
  dataDir?: string;
  /** TOKENPLANE_DATABASE_URL: PostgreSQL; unset = SQLite in dataDir. */
  databaseUrl?: string;
  /** TOKENPLANE_ADMIN_KEY; unset = generated into <dataDir>/admin-key (0600). */
  adminKey?: string;
  /** TOKENPLANE_ENCRYPTION_KEY; unset = generated into <dataDir>/encryption-key (0600). */
  encryptionKey?: string;
  /** TOKENPLANE_TIERS: JSON [{name, rank, tokenQuota}]; default lite=1, advanced=5. */
  tiers?: TierTable | readonly Tier[];
  /** false = silent; a pino logger = used as it is. */
  logger?: boolean | Logger;
  /** TOKENPLANE_LOG_LEVEL; default info. */
  logLevel?: string;
  /** A writable stream receiving the pino JSON lines. */
  logStream?: DestinationStream;
  /** Epoch ms; tests inject one to cross expiry and grace periods. */
  clock?: () => number;
  /** TOKENPLANE_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed (token allowedIps). */
  trustedProxies?: readonly string[];
  /** Verification cache lifetime (default 5000 ms). */
  verifyCacheTtlMs?: number;
  /** Entries per verification cache (default 10 000, least recently used go). */
  verifyCacheSize?: number;
  /**
   * TOKENPLANE_LEAK_REPORT_KEYS_URL: where leak reporters publish their signing keys
   * (GitHub's secret-scanning partner format); set, POST /v1/token-leaks also takes
   * reports signed by one of them.
   */
  leakReportKeysUrl?: string;
  /**
   * TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS: addresses or CIDR ranges beyond the public
   * internet that webhooks may deliver to (default none: private destinations refused).
   */
  webhookAllowedNetworks?: readonly string[];
  /**
   * TOKENPLANE_WEBHOOK_EGRESS: 'public' (public addresses and the allowed networks) or
   * 'allowlist' (the allowed networks only; with loopback alone no name but localhost
   * is looked up).
   */
  webhookEgress?: WebhookEgress;
  /** How long a client may take to send a whole request (default 25 s; headers within 20 s). */
  requestTimeoutMs?: number;
  /** How often lastUsedAt is written, usage reported and idle usage leases returned (5000 ms). */
  lastUsedFlushMs?: number;
  /** How often the webhook sender looks for due retries (default 1000 ms). */
  webhookPollMs?: number;
  /** How often expiring/expired/usage-low notices are looked for (default 60 s). */
  noticeScanMs?: number;
  /** Request body limit in bytes (default 64 KiB; larger → 413 problem). */
  bodyLimit?: number;
  /**
   * Console session limits (platform/console/sessions.ts) and single sign-on's
   * provider (TOKENPLANE_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET when `oidc` is absent).
   */
  console?: ConsoleOptions;
  /**
   * TOKENPLANE_PUBLIC_URL: the console's public origin (https://tokens.example.com);
   * set, the console's forgery check compares Origin with it, not with Host.
   */
  publicUrl?: string;
  /** Environment to fall back on; default process.env. */
  env?: Env;
};

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = '.data';
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** The options with their environment fallbacks applied and checked. */
export type PlatformConfig = {
  options: ServerOptions;
  env: Env;
  logger: Logger;
  dataDir: string;
  databaseUrl: string | undefined;
  clock: () => number;
  tiers: TierTable;
  destinations: WebhookDestinations;
  trustedProxies: string[];
  bodyLimit: number;
  leakReportKeysUrl: string | undefined;
  publicUrl: string | undefined;
  oidc: OidcSettings | null;
};

export function readConfig(options: ServerOptions): PlatformConfig {
  const env = options.env ?? process.env;
  return {
    options,
    env,
    logger: makeLogger(options, env),
    dataDir: resolve(options.dataDir ?? env.TOKENPLANE_DATA_DIR ?? DEFAULT_DATA_DIR),
    databaseUrl: options.databaseUrl ?? (env.TOKENPLANE_DATABASE_URL || undefined),
    clock: options.clock ?? Date.now,
    tiers: resolveTiers(options, env),
    destinations: webhookDestinationsOf(options, env),
    trustedProxies: addressList(
      options.trustedProxies,
      env,
      'TOKENPLANE_TRUSTED_PROXIES',
      'the proxies in front of tokenplane',
    ),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    leakReportKeysUrl:
      options.leakReportKeysUrl ?? (env.TOKENPLANE_LEAK_REPORT_KEYS_URL || undefined),
    publicUrl: options.publicUrl ?? (env.TOKENPLANE_PUBLIC_URL || undefined),
    oidc: options.console?.oidc ?? oidcSettings(env),
  };
}

function makeLogger(options: ServerOptions, env: Env): Logger {
  if (options.logger && typeof options.logger === 'object') return options.logger;
  const level =
    options.logger === false ? 'silent' : (options.logLevel ?? env.TOKENPLANE_LOG_LEVEL ?? 'info');
  // Embedded servers log JSON; `tokenplane serve` passes its own logger (readable on a terminal).
  return createLogger({
    level,
    format: 'json',
    secrets: [
      options.adminKey ?? env.TOKENPLANE_ADMIN_KEY,
      options.encryptionKey ?? env.TOKENPLANE_ENCRYPTION_KEY,
    ],
    ...(options.logStream ? { stream: options.logStream } : {}),
  });
}

/** A list of addresses and CIDR ranges: the option, else the comma-separated variable. */
function addressList(
  given: readonly string[] | undefined,
  env: Env,
  variable: string,
  what: string,
): string[] {
  const list = [
    ...(given ??
      (env[variable] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)),
  ];
  const bad = list.filter((entry) => !isAddressOrRange(entry));
  if (bad.length > 0) {
    throw new Error(
      `${variable}: ${bad.join(', ')} is not an IP address or CIDR range; list ${what}, comma-separated (e.g. 10.0.0.0/8,::1).`,
    );
  }
  return list;
}

function resolveTiers(options: ServerOptions, env: Env): TierTable {
  if (options.tiers instanceof TierTable) return options.tiers;
  if (options.tiers) return new TierTable(options.tiers);
  return TierTable.fromEnv(env.TOKENPLANE_TIERS);
}

function webhookDestinationsOf(options: ServerOptions, env: Env): WebhookDestinations {
  const allowedNetworks = addressList(
    options.webhookAllowedNetworks,
    env,
    'TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS',
    'the networks webhooks may deliver to',
  );
  const egress = options.webhookEgress ?? (env.TOKENPLANE_WEBHOOK_EGRESS || 'public');
  if (!(WEBHOOK_EGRESS_MODES as readonly string[]).includes(egress)) {
    throw new Error(
      `TOKENPLANE_WEBHOOK_EGRESS: ${egress} is not a mode; use public (the default: public addresses and TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS) or allowlist (TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS only).`,
    );
  }
  if (egress === 'allowlist' && allowedNetworks.length === 0) {
    throw new Error(
      'TOKENPLANE_WEBHOOK_EGRESS=allowlist needs TOKENPLANE_WEBHOOK_ALLOWED_NETWORKS: list the networks webhooks may deliver to (e.g. 127.0.0.0/8,::1).',
    );
  }
  return new WebhookDestinations({ egress: egress as WebhookEgress, allowedNetworks });
}
