/**
 * Access keys: the credentials of the management API, each belonging to an
 * entity (its scope) with a role. Only the digest is stored; the key is shown
 * once, in the create response.
 */
import { uuidv7 } from '../../core/crypto/ids.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { roleCovers } from '../../core/domain/roles.ts';
import { generateSecret } from '../../core/domain/secret-format.ts';
import type {
  AccessKey,
  AccessKeyWithKey,
  CreateAccessKeyRequest,
  Role,
} from '../../core/schemas/index.ts';
import type { Effects } from './effects.ts';
import { type Idempotency, type Idempotent, idempotent } from './idempotency.ts';
import { createOwned, deleteOwned, findOwned, listOwned, replayWhileExists } from './owned.ts';
import { accessKeyFromRow } from './rows.ts';
import type { Scope } from './scope.ts';
import type { SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';

/** `email`: the member of a personal key, else null. */
export type AccessKeyRecord = { id: string; entityId: string; role: Role; email: string | null };

export async function createAccessKey(
  store: Store,
  scope: Scope,
  entityId: string,
  input: CreateAccessKeyRequest,
  idem: Idempotency | undefined,
  effects: Effects<AccessKeyWithKey>,
): Promise<Idempotent<AccessKeyWithKey>> {
  return createOwned(store, scope, 'access key', entityId, idem, effects, (tx) =>
    insertAccessKey(store, tx, entityId, input, null),
  );
}

/**
 * A member's personal access key (README "Members and single sign-on"): on the member's entity, at most
 * the member's role, and it ends with the membership (ON DELETE CASCADE) or
 * when the member's role drops below its own (checked at authentication).
 */
export async function createPersonalAccessKey(
  store: Store,
  scope: Scope,
  memberId: string,
  input: CreateAccessKeyRequest,
  idem: Idempotency | undefined,
  effects: Effects<AccessKeyWithKey>,
): Promise<Idempotent<AccessKeyWithKey>> {
  return idempotent(store, idem, effects, replayWhileExists('access key'), async (tx) => {
    const member = await findOwned(tx, scope, 'member', memberId);
    if (!roleCovers(member.role as Role, input.role)) {
      throw new ProblemError(
        'forbidden',
        `A personal access key has at most its member's role; ${String(member.email)} is a ${String(member.role)}.`,
        { role: String(member.role) },
      );
    }
    return insertAccessKey(store, tx, String(member.entity_id), input, memberId);
  });
}

async function insertAccessKey(
  store: Store,
  tx: SqlTx,
  entityId: string,
  input: CreateAccessKeyRequest,
  memberId: string | null,
): Promise<AccessKeyWithKey> {
  const key = generateSecret('accessKey');
  const id = uuidv7(store.clock());
  const createdAt = nowIso(store);
  await tx.run(
    'INSERT INTO access_keys (id, entity_id, name, role, digest, created_at, member_id) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [id, entityId, input.name, input.role, store.box.digest(key), createdAt, memberId],
  );
  return { id, entityId, name: input.name, role: input.role, createdAt, key };
}

export async function listAccessKeys(
  store: Store,
  scope: Scope,
  entityId: string,
): Promise<AccessKey[]> {
  const columns = 'id, entity_id, name, role, created_at';
  return (await listOwned(store, scope, 'access key', columns, entityId)).map(accessKeyFromRow);
}

/** A member's personal access keys, oldest first; 404 for a member outside the caller's scope. */
export async function listPersonalAccessKeys(
  store: Store,
  scope: Scope,
  memberId: string,
): Promise<AccessKey[]> {
  await findOwned(store.db, scope, 'member', memberId);
  const rows = await store.db.query(
    'SELECT id, entity_id, name, role, created_at FROM access_keys WHERE member_id = $1 ORDER BY id',
    [memberId],
  );
  return rows.map(accessKeyFromRow);
}

export async function deleteAccessKey(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<{ entityId: string }>,
): Promise<{ entityId: string }> {
  return deleteOwned(store, scope, 'access key', id, effects, (key) => ({
    entityId: String(key.entity_id),
  }));
}

/**
 * The authentication look-up: which key (if any) has this digest. A personal
 * key whose member's role is now below its own answers nothing, at once.
 */
export async function findAccessKeyByDigest(
  store: Store,
  digest: string,
): Promise<AccessKeyRecord | null> {
  const rows = await store.db.query(
    `SELECT k.id, k.entity_id, k.role, k.member_id, m.role AS member_role, m.email
       FROM access_keys k LEFT JOIN members m ON m.id = k.member_id WHERE k.digest = $1`,
    [digest],
  );
  const r = rows[0];
  if (!r) return null;
  const role = r.role as Role;
  if (r.member_id != null && !(r.member_role != null && roleCovers(r.member_role as Role, role))) {
    return null;
  }
  const email = r.email == null ? null : String(r.email);
  return { id: String(r.id), entityId: String(r.entity_id), role, email };
}

/** The member whose personal key this is, or null (not personal, or no such key). */
export async function memberOfAccessKey(q: SqlTx, id: string): Promise<string | null> {
  const [row] = await q.query('SELECT member_id FROM access_keys WHERE id = $1', [id]);
  return row?.member_id == null ? null : String(row.member_id);
}
