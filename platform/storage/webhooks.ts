/**
 * Webhooks: subscriptions (an entity's webhooks receive the events of its
 * subtree), the transactional outbox, and the delivery queue.
 *
 * The outbox: `emitEvent` runs inside the transaction of the change it
 * announces (called by the server's mutation path, or by the notice scan) and writes the event plus one pending delivery per subscribed
 * webhook, so an event exists exactly when its change committed. Senders claim
 * due deliveries with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite
 * serialises write transactions), so several servers on one database never
 * send the same attempt twice; a lease left by a crashed sender expires and
 * the delivery is retried.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { uuidv7 } from '../../core/crypto/ids.ts';
import type {
  CreateWebhookRequest,
  Webhook,
  WebhookDelivery,
  WebhookEventType,
  WebhookPayload,
  WebhookWithSecret,
} from '../../core/schemas/index.ts';
import type { Effects } from './effects.ts';
import type { Idempotency, Idempotent } from './idempotency.ts';
import { createOwned, deleteOwned, findOwned, listOwned } from './owned.ts';
import { decodeCursor, type Page, type PageRequest, paginate } from './pagination.ts';
import type { Scope } from './scope.ts';
import type { Row, SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';

/** Ancestors of $1, itself included. */
const ANCESTORS = `WITH RECURSIVE up(id, parent_id) AS (
  SELECT id, parent_id FROM entities WHERE id = $1
  UNION ALL SELECT e.id, e.parent_id FROM entities e JOIN up ON e.id = up.parent_id
)`;

export async function createWebhook(
  store: Store,
  scope: Scope,
  entityId: string,
  input: CreateWebhookRequest,
  idem: Idempotency | undefined,
  effects: Effects<WebhookWithSecret>,
): Promise<Idempotent<WebhookWithSecret>> {
  return createOwned(store, scope, 'webhook', entityId, idem, effects, async (tx) => {
    const id = uuidv7(store.clock());
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const createdAt = nowIso(store);
    await tx.run(
      `INSERT INTO webhooks (id, entity_id, url, events, sealed_secret, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        id,
        entityId,
        input.url,
        JSON.stringify(input.events),
        store.box.seal(secret, id),
        createdAt,
      ],
    );
    return { id, entityId, url: input.url, events: input.events, createdAt, secret };
  });
}

export async function listWebhooks(
  store: Store,
  scope: Scope,
  entityId: string,
): Promise<Webhook[]> {
  return (await listOwned(store, scope, 'webhook', '*', entityId)).map(webhookFromRow);
}

export async function deleteWebhook(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<{ entityId: string }>,
): Promise<{ entityId: string }> {
  return deleteOwned(
    store,
    scope,
    'webhook',
    id,
    effects,
    (webhook) => ({ entityId: String(webhook.entity_id) }),
    ['DELETE FROM webhook_deliveries WHERE webhook_id = $1'],
  );
}

export async function listDeliveries(
  store: Store,
  scope: Scope,
  webhookId: string,
  query: PageRequest,
): Promise<Page<WebhookDelivery>> {
  await visibleWebhook(store.db, scope, webhookId);
  const rows = await store.db.query(
    `SELECT d.*, e.type AS event_type FROM webhook_deliveries d
       JOIN webhook_events e ON e.id = d.event_id
      WHERE d.webhook_id = $1 AND d.id > $2 ORDER BY d.id LIMIT $3`,
    [webhookId, decodeCursor(query.cursor), query.limit + 1],
  );
  return paginate(rows.map(deliveryFromRow), query.limit);
}

async function visibleWebhook(q: SqlTx, scope: Scope, id: string): Promise<Webhook> {
  return webhookFromRow(await findOwned(q, scope, 'webhook', id));
}

// ------------------------------------------------------------------ outbox

/**
 * Writes `type` for the entity into the outbox, inside the caller's
 * transaction: one delivery per webhook of the entity or an ancestor that
 * subscribed to it — of `from` and its ancestors when the entity itself was
 * deleted in this transaction (its parent; null: none is left to tell).
 * Nothing is written when nobody listens; true when something was (the
 * caller wakes the sender once the transaction committed).
 */
export async function emitEvent(
  store: Store,
  tx: SqlTx,
  type: WebhookEventType,
  data: WebhookPayload['data'],
  from: string | null = data.entityId,
): Promise<boolean> {
  if (from === null) return false;
  const webhooks = await tx.query(
    `${ANCESTORS} SELECT w.id, w.events FROM webhooks w JOIN up ON w.entity_id = up.id`,
    [from],
  );
  const targets = webhooks.filter((w) => (JSON.parse(String(w.events)) as string[]).includes(type));
  if (targets.length === 0) return false;
  const nowMs = store.clock();
  const now = new Date(nowMs).toISOString();
  const eventId = uuidv7(nowMs);
  const payload: WebhookPayload = { type, timestamp: now, data };
  await tx.run(
    'INSERT INTO webhook_events (id, type, entity_id, payload, created_at) VALUES ($1, $2, $3, $4, $5)',
    [eventId, type, data.entityId, JSON.stringify(payload), now],
  );
  for (const target of targets) {
    await tx.run(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at, created_at)
       VALUES ($1, $2, $3, 'pending', 0, $4, $4)`,
      [uuidv7(nowMs), String(target.id), eventId, now],
    );
  }
  return true;
}

// ------------------------------------------------------------- delivery queue

/** A delivery a sender holds the lease of: everything it needs to send one attempt. */
export type ClaimedDelivery = {
  id: string;
  /** The lease: only its holder records the attempt. */
  lease: string;
  eventId: string;
  url: string;
  secret: string;
  payload: string;
  attempts: number;
};

/**
 * Leases up to `limit` due deliveries for `leaseMs` under a fresh lease id:
 * one UPDATE (whose sub-select skips rows another server is leasing) and one
 * read of what was leased.
 */
export async function claimDeliveries(
  store: Store,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const skipLocked = store.db.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
  const nowMs = store.clock();
  const now = new Date(nowMs).toISOString();
  const lease = randomUUID();
  return store.db.transaction(async (tx) => {
    const leased = await tx.run(
      `UPDATE webhook_deliveries SET lease_owner = $2, lease_until = $3
        WHERE id IN (SELECT id FROM webhook_deliveries
                      WHERE status = 'pending' AND next_attempt_at <= $1
                        AND (lease_until IS NULL OR lease_until < $1)
                      ORDER BY next_attempt_at, id LIMIT $4 ${skipLocked})`,
      [now, lease, new Date(nowMs + leaseMs).toISOString(), limit],
    );
    if (leased === 0) return [];
    const rows = await tx.query(
      `SELECT d.id, d.event_id, d.attempts, w.id AS webhook_id, w.url, w.sealed_secret, e.payload
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         JOIN webhook_events e ON e.id = d.event_id
        WHERE d.lease_owner = $1 ORDER BY d.next_attempt_at, d.id`,
      [lease],
    );
    return rows.map((row) => ({
      id: String(row.id),
      lease,
      eventId: String(row.event_id),
      url: String(row.url),
      secret: store.box.open(String(row.sealed_secret), String(row.webhook_id)),
      payload: String(row.payload),
      attempts: Number(row.attempts),
    }));
  });
}

export type AttemptOutcome = {
  responseStatus: number | null;
  error: string | null;
  /** Epoch ms of the next attempt; null = delivered (no error) or given up. */
  nextAttemptMs: number | null;
};

/** Records one attempt of a leased delivery; a sender whose lease was taken over records nothing. */
export async function recordAttempt(
  store: Store,
  delivery: Pick<ClaimedDelivery, 'id' | 'lease'>,
  outcome: AttemptOutcome,
): Promise<boolean> {
  const now = nowIso(store);
  const status =
    outcome.error === null ? 'delivered' : outcome.nextAttemptMs === null ? 'failed' : 'pending';
  const changed = await store.db.transaction((tx) =>
    tx.run(
      `UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, last_attempt_at = $4,
         response_status = $5, last_error = $6, next_attempt_at = $7, delivered_at = $8,
         lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND lease_owner = $2`,
      [
        delivery.id,
        delivery.lease,
        status,
        now,
        outcome.responseStatus,
        outcome.error,
        outcome.nextAttemptMs === null ? null : new Date(outcome.nextAttemptMs).toISOString(),
        status === 'delivered' ? now : null,
      ],
    ),
  );
  return changed > 0;
}

/** Forgets finished deliveries (and events nobody waits for) older than `maxAgeMs`. */
export async function purgeDeliveries(store: Store, maxAgeMs: number): Promise<number> {
  const before = new Date(store.clock() - maxAgeMs).toISOString();
  return store.db.transaction(async (tx) => {
    const n = await tx.run(
      `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1`,
      [before],
    );
    await tx.run(
      `DELETE FROM webhook_events WHERE created_at < $1
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)`,
      [before],
    );
    return n;
  });
}

function webhookFromRow(r: Row): Webhook {
  return {
    id: String(r.id),
    entityId: String(r.entity_id),
    url: String(r.url),
    events: JSON.parse(String(r.events)),
    createdAt: String(r.created_at),
  };
}

function deliveryFromRow(r: Row): WebhookDelivery {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: String(r.id),
    webhookId: String(r.webhook_id),
    eventId: String(r.event_id),
    eventType: r.event_type as WebhookEventType,
    status: r.status as WebhookDelivery['status'],
    attempts: Number(r.attempts),
    lastAttemptAt: text(r.last_attempt_at),
    nextAttemptAt: r.status === 'pending' ? text(r.next_attempt_at) : null,
    responseStatus: r.response_status === null ? null : Number(r.response_status),
    error: text(r.last_error),
    deliveredAt: text(r.delivered_at),
    createdAt: String(r.created_at),
  };
}
