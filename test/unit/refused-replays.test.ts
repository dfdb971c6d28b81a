// Refused replays as both drivers read them (core/external): a create
// answered 410 is "gone" only when the 410 names the kind it creates — an
// entity create whose default token is gone made an entity that still exists;
// a rotation answered 410 (rotated again since) counts as done.
import { describe, expect, it } from 'vitest';
import { IdempotencyGoneError, type TokenplaneClient } from '../../core/client/index.ts';
import { problemType } from '../../core/domain/problems.ts';
import { createOrGone, type RotateAction, TokenExternal } from '../../core/external/index.ts';
import type { Token } from '../../core/schemas/index.ts';

const gone = (extensions: Record<string, string>) =>
  new IdempotencyGoneError({
    status: 410,
    problem: { type: problemType('idempotency-gone'), title: 'Gone', status: 410, ...extensions },
    method: 'POST',
    path: '/v1/…',
  });
const refusing = (err: Error) => ({
  create: async (): Promise<never> => {
    throw err;
  },
});

describe('createOrGone', () => {
  it('reads a 410 naming its own kind as gone, and throws any other', async () => {
    expect(
      await createOrGone(refusing(gone({ id: 'e1', gone: 'entity' })), {}, 'k', 'entity'),
    ).toEqual({ gone: 'e1' });
    const defaultTokenGone = gone({ id: 't1', gone: 'token', entityId: 'e1' });
    await expect(createOrGone(refusing(defaultTokenGone), {}, 'k', 'entity')).rejects.toBe(
      defaultTokenGone,
    );
  });
});

describe('TokenExternal.rotatePlanned', () => {
  const plan = {
    action: 'rotate',
    token: { id: 't1' } as Token,
    idempotencyKey: 'apitoken:u:0:rotate:2',
    gracePeriodSeconds: 60,
    expiresAt: '2027-01-01T00:00:00.000Z',
  } as RotateAction;

  it('answers null when the rotation was superseded, and throws anything else', async () => {
    const external = (err: Error) =>
      new TokenExternal({
        rotateToken: async () => {
          throw err;
        },
      } as unknown as TokenplaneClient);
    expect(await external(gone({ id: 't1', gone: 'token' })).rotatePlanned(plan)).toBeNull();
    const other = new Error('unreachable');
    await expect(external(other).rotatePlanned(plan)).rejects.toBe(other);
  });
});
