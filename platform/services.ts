/**
 * What the platform runs besides HTTP: its keys, storage, the token verifier,
 * usage and rate limits, webhook delivery and notices, the revocation listener
 * (PostgreSQL) and the housekeeping timers. Opened once per process; the HTTP
 * app (server/app.ts) gets them as the `PlatformContext`.
 */
import { SecretBox } from '../core/crypto/cipher.ts';
import {
  ensureDataDir,
  ensureWritableDataDir,
  loadAdminKey,
  loadEncryptionKey,
} from '../core/crypto/keys.ts';
import { LogThrottle } from '../core/logging.ts';
import type { PlatformConfig } from './config.ts';
import { MetricCatalog } from './server/analytics.ts';
import { adminKeyDigest } from './server/auth.ts';
import type { PlatformContext } from './server/context.ts';
import { LeakReportSignatures } from './server/leak-signature.ts';
import { PlatformMetrics } from './server/metrics.ts';
import { RateLimiter } from './server/permissions/rate-limiter.ts';
import { SIGNATURE_WINDOW_S } from './server/permissions/signed-requests.ts';
import { storedLedger, UsageMeter } from './server/permissions/usage-meter.ts';
import { TokenVerifier } from './server/verifier.ts';
import { purgeIdempotency } from './storage/idempotency.ts';
import { openStorage } from './storage/index.ts';
import { RevocationListener } from './storage/listener.ts';
import { purgeReplacedValues } from './storage/replaced-values.ts';
import { purgeSignatures, SignatureLedger } from './storage/signatures.ts';
import type { Store } from './storage/store.ts';
import { purgeDeliveries } from './storage/webhooks.ts';
import { NoticeScheduler } from './webhooks/scheduler.ts';
import { WebhookSender } from './webhooks/sender.ts';

const IDEMPOTENCY_RETENTION_MS = 48 * 3600 * 1000;
/** Finished webhook deliveries stay in the delivery log this long. */
const DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;

export type Services = {
  ctx: PlatformContext;
  adminKey: string;
  storage: 'sqlite' | 'postgres';
  /** Sends what an earlier run left pending and starts the housekeeping timers. */
  start(): void;
  /** Stops the timers, flushes usage and lastUsedAt, closes the database. */
  close(): Promise<void>;
};

export async function openServices(config: PlatformConfig): Promise<Services> {
  const { options, logger, dataDir, databaseUrl, clock } = config;
  const keys = loadKeys(config);
  const box = new SecretBox(keys.encryption.value);
  const generated = keys.encryption.source === 'generated' ? keys.encryption : null;
  const store = await openStorage({
    dataDir,
    databaseUrl,
    tiers: config.tiers,
    box,
    clock,
    key: generated
      ? { from: generated.path, save: generated.save }
      : { from: keys.encryption.path ?? 'TOKENPLANE_ENCRYPTION_KEY' },
  });
  if (generated) {
    logger.warn(
      { path: generated.path },
      `generated an encryption key (TOKENPLANE_ENCRYPTION_KEY unset); it is stored in ${generated.path} — back it up with the database`,
    );
  }
  const storage = databaseUrl ? 'postgres' : 'sqlite';
  logger.info(
    { storage, dataDir },
    storage === 'sqlite' ? `storage: SQLite in ${dataDir}` : 'storage: PostgreSQL',
  );

  const metrics = new PlatformMetrics();
  const warnings = new LogThrottle();
  const warn = (message: string) => (error: unknown) =>
    warnings.write(logger, 'error', { err: error }, message);
  const verifier = new TokenVerifier({
    store,
    box,
    metrics,
    clock,
    ...(options.verifyCacheTtlMs !== undefined ? { cacheTtlMs: options.verifyCacheTtlMs } : {}),
    ...(options.verifyCacheSize !== undefined ? { cacheSize: options.verifyCacheSize } : {}),
    ...(options.lastUsedFlushMs !== undefined ? { lastUsedFlushMs: options.lastUsedFlushMs } : {}),
    onFlushError: warn('could not write lastUsedAt'),
  });
  const usage = new UsageMeter(storedLedger(store), clock, warn('could not report token usage'));
  const sender = new WebhookSender({
    store,
    clock,
    log: logger,
    destinations: config.destinations,
    onAttempt: (outcome) => metrics.webhookAttempts.inc({ outcome }),
    ...(options.webhookPollMs !== undefined ? { pollMs: options.webhookPollMs } : {}),
  });
  const notices = new NoticeScheduler(store, logger, () => sender.wake(), options.noticeScanMs);
  // On PostgreSQL: other servers' revocations reach this server's verifier at once.
  const revocations = databaseUrl
    ? new RevocationListener(
        databaseUrl,
        {
          onChange: (target) =>
            'tokenId' in target
              ? verifier.invalidateToken(target.tokenId)
              : verifier.invalidateEntity(target.entityId),
          onResync: () => verifier.invalidateAll(),
          onState: (up) => metrics.revocationListener.set(up ? 1 : 0),
        },
        logger,
      )
    : null;
  await revocations?.start();
  const ctx: PlatformContext = {
    store,
    sender,
    notices,
    tiers: config.tiers,
    box,
    verifier,
    metrics,
    catalog: new MetricCatalog(config.tiers),
    rateLimiter: new RateLimiter(clock),
    usage,
    clock,
    adminKeyDigest: adminKeyDigest(keys.admin.value),
    warnings,
    leakSignatures: config.leakReportKeysUrl
      ? new LeakReportSignatures(config.leakReportKeysUrl, clock)
      : null,
    signatures: new SignatureLedger(store, SIGNATURE_WINDOW_S),
    webhookDestinations: config.destinations,
  };
  metrics.countEntries('rate-limit-windows', () => ctx.rateLimiter.size);
  metrics.countEntries('usage-slots', () => usage.size);

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, run: () => void) => {
    const timer = setInterval(run, ms);
    timer.unref();
    timers.push(timer);
  };
  return {
    ctx,
    adminKey: keys.admin.value,
    storage,
    start() {
      every(3600_000, () =>
        purgeOld(store).catch(
          warn('could not purge idempotency keys, old webhook deliveries or replaced token values'),
        ),
      );
      // Usage reports and idle lease returns, rate-window and signature clean-up.
      every(options.lastUsedFlushMs ?? 5000, () => {
        ctx.rateLimiter.sweep();
        usage.tick().catch(warn('could not report token usage'));
        purgeSignatures(store).catch(warn('could not purge signatures'));
      });
      // Deliveries left pending by an earlier run (or a crash) go out now, and
      // notices that fell due while no server ran are written.
      sender.wake();
      notices.runOnce().catch(() => {});
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      await usage.close();
      await revocations?.close();
      await notices.close();
      await sender.close();
      try {
        await verifier.close();
      } catch (error) {
        logger.error({ err: error }, 'could not write lastUsedAt on close');
      }
      await store.db.close();
    },
  };
}

/** The administrator and encryption keys: given, read from dataDir, or generated into it. */
function loadKeys({ options, env, dataDir, databaseUrl, logger }: PlatformConfig) {
  ensureDataDir(dataDir);
  const admin = loadAdminKey(dataDir, options.adminKey ?? env.TOKENPLANE_ADMIN_KEY);
  if (admin.source === 'generated') {
    logger.warn(
      { path: admin.path },
      `generated an administrator key (TOKENPLANE_ADMIN_KEY unset); it is stored in ${admin.path}`,
    );
  } else if (admin.source === 'file') {
    logger.info({ path: admin.path }, `using the administrator key stored in ${admin.path}`);
  }
  const encryption = loadEncryptionKey(
    dataDir,
    options.encryptionKey ?? env.TOKENPLANE_ENCRYPTION_KEY,
  );
  if (!databaseUrl) ensureWritableDataDir(dataDir);
  return { admin, encryption };
}

/** Rows past their use: idempotency keys, finished deliveries, replaced values out of grace. */
async function purgeOld(store: Store): Promise<void> {
  await purgeIdempotency(store, IDEMPOTENCY_RETENTION_MS);
  await purgeDeliveries(store, DELIVERY_RETENTION_MS);
  await purgeReplacedValues(store);
}
