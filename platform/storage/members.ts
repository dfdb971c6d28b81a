/**
 * Members (README "Members and single sign-on"): people, by email, with a role on an entity's subtree.
 * One email is one member per entity. A member's personal access keys name it
 * (access_keys.member_id) and go with it.
 */
import { uuidv7 } from '../../core/crypto/ids.ts';
import { validationProblem } from '../../core/domain/problems.ts';
import type { CreateMemberRequest, Member, Role } from '../../core/schemas/index.ts';
import { type Effects, withEffects } from './effects.ts';
import type { Idempotency, Idempotent } from './idempotency.ts';
import { createOwned, deleteOwned, findOwned } from './owned.ts';
import { decodeCursor, type Page, type PageRequest, paginate } from './pagination.ts';
import { notFound } from './problems.ts';
import { type Scope, visible } from './scope.ts';
import type { Row, SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';

const COLUMNS = 'id, entity_id, email, role, created_at';

function memberFromRow(r: Row): Member {
  return {
    id: String(r.id),
    email: String(r.email),
    role: r.role as Role,
    entityId: String(r.entity_id),
    createdAt: String(r.created_at),
  };
}

export async function createMember(
  store: Store,
  scope: Scope,
  entityId: string,
  input: CreateMemberRequest,
  idem: Idempotency | undefined,
  effects: Effects<Member>,
): Promise<Idempotent<Member>> {
  return createOwned(store, scope, 'member', entityId, idem, effects, async (tx) => {
    const [existing] = await tx.query(
      'SELECT id FROM members WHERE entity_id = $1 AND email = $2',
      [entityId, input.email],
    );
    if (existing) {
      throw validationProblem([
        {
          path: 'email',
          message: `${input.email} is already a member of this entity (${String(existing.id)}); change its role with PATCH /v1/members/${String(existing.id)}`,
        },
      ]);
    }
    const member: Member = {
      id: uuidv7(store.clock()),
      email: input.email,
      role: input.role,
      entityId,
      createdAt: nowIso(store),
    };
    await tx.run(
      'INSERT INTO members (id, entity_id, email, role, created_at) VALUES ($1, $2, $3, $4, $5)',
      [member.id, entityId, member.email, member.role, member.createdAt],
    );
    return member;
  });
}

export async function listMembers(
  store: Store,
  scope: Scope,
  entityId: string,
  query: PageRequest,
): Promise<Page<Member>> {
  if (!(await visible(store.db, scope, entityId))) throw notFound('entity', entityId);
  const rows = await store.db.query(
    `SELECT ${COLUMNS} FROM members WHERE entity_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
    [entityId, decodeCursor(query.cursor), query.limit + 1],
  );
  return paginate(rows.map(memberFromRow), query.limit);
}

export async function updateMember(
  store: Store,
  scope: Scope,
  id: string,
  role: Role,
  effects: Effects<Member>,
): Promise<Member> {
  return withEffects(store, effects, async (tx) => {
    await findOwned(tx, scope, 'member', id);
    await tx.run('UPDATE members SET role = $1 WHERE id = $2', [role, id]);
    return memberFromRow(await findOwned(tx, scope, 'member', id));
  });
}

/** Removes the member; its personal access keys go with it (ON DELETE CASCADE). */
export async function deleteMember(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<Member>,
): Promise<Member> {
  return deleteOwned(store, scope, 'member', id, effects, memberFromRow);
}

/** Every membership of an email (single sign-on), oldest first. */
export async function membershipsOf(q: SqlTx, email: string): Promise<Member[]> {
  const rows = await q.query(`SELECT ${COLUMNS} FROM members WHERE email = $1 ORDER BY id`, [
    email.toLowerCase(),
  ]);
  return rows.map(memberFromRow);
}

/** One member by id, outside any scope: the check of a signed-in member's session on each request. */
export async function memberById(q: SqlTx, id: string): Promise<Member | null> {
  const [row] = await q.query(`SELECT ${COLUMNS} FROM members WHERE id = $1`, [id]);
  return row ? memberFromRow(row) : null;
}
