/**
 * Access keys: the credentials of the management API, each belonging to an
 * entity (its scope) with a role. Only the digest is stored; the key is shown
 * once, in the create response.
 */
import { uuidv7 } from '../crypto/ids.ts';
import { generateSecret } from '../domain/secret-format.ts';
import type { AccessKey, AccessKeyWithKey, CreateAccessKeyRequest } from '../schemas/index.ts';
import { type Effects, withEffects } from './effects.ts';
import { type Idempotency, type Idempotent, idempotent } from './idempotency.ts';
import { lockEntity } from './locks.ts';
import { findOwned, listOwned, replayWhileExists } from './owned.ts';
import { notFound } from './problems.ts';
import { accessKeyFromRow } from './rows.ts';
import type { Scope } from './scope.ts';
import { nowIso, type Store } from './store.ts';

export type AccessKeyRecord = { id: string; entityId: string; role: 'admin' | 'viewer' };

export async function createAccessKey(
  store: Store,
  scope: Scope,
  entityId: string,
  input: CreateAccessKeyRequest,
  idem: Idempotency | undefined,
  effects: Effects<AccessKeyWithKey>,
): Promise<Idempotent<AccessKeyWithKey>> {
  return idempotent(store, idem, effects, replayWhileExists('access key'), async (tx) => {
    const entity = await lockEntity(store.db, tx, scope, entityId);
    if (!entity) throw notFound('entity', entityId);
    const key = generateSecret('accessKey');
    const id = uuidv7(store.clock());
    const createdAt = nowIso(store);
    await tx.run(
      'INSERT INTO access_keys (id, entity_id, name, role, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, entityId, input.name, input.role, store.box.digest(key), createdAt],
    );
    return { id, entityId, name: input.name, role: input.role, createdAt, key };
  });
}

export async function listAccessKeys(
  store: Store,
  scope: Scope,
  entityId: string,
): Promise<AccessKey[]> {
  const columns = 'id, entity_id, name, role, created_at';
  return (await listOwned(store, scope, 'access key', columns, entityId)).map(accessKeyFromRow);
}

export async function deleteAccessKey(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<{ entityId: string }>,
): Promise<{ entityId: string }> {
  return withEffects(store, effects, async (tx) => {
    const key = await findOwned(tx, scope, 'access key', id);
    await tx.run('DELETE FROM access_keys WHERE id = $1', [id]);
    return { entityId: String(key.entity_id) };
  });
}

/** The authentication look-up: which key (if any) has this digest. */
export async function findAccessKeyByDigest(
  store: Store,
  digest: string,
): Promise<AccessKeyRecord | null> {
  const rows = await store.db.query(
    'SELECT id, entity_id, role FROM access_keys WHERE digest = $1',
    [digest],
  );
  const r = rows[0];
  return r
    ? { id: String(r.id), entityId: String(r.entity_id), role: r.role as AccessKeyRecord['role'] }
    : null;
}
