/**
 * Token values across leaks and rotations (issue 21, README "Lifecycle events, leak response, revocation across servers"), on both
 * databases: an exposed value never verifies again — PATCH cannot switch the
 * token back on (409 token-exposed), a rotation gives the exposed value no
 * grace and enables the token; a replaced value signs requests during its
 * grace exactly as it authenticates as a bearer token, and not after; every
 * replaced value keeps its own grace, a later rotation does not cut it short
 * (at most MAX_VALUES_IN_GRACE at once, beyond which a rotation with a grace
 * answers 409 grace-limit); a database upgraded with a value in its grace
 * keeps it verifying.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../core/crypto/http-signatures.ts';
import { MAX_VALUES_IN_GRACE } from '../../core/domain/rules.ts';
import { generateSecret } from '../../core/domain/secret-format.ts';
import { purgeReplacedValues } from '../../platform/storage/replaced-values.ts';
import {
  Api,
  advancedEntity,
  ENGINES,
  isProblem,
  type Platform,
  startPlatform,
} from './helpers.ts';
import { OLD_ENTITY, upgradedFrom } from './upgrade.ts';

describe.each(ENGINES)('token values on %s', (engine) => {
  let p: Platform;
  let entityId: string;
  beforeAll(async () => {
    p = await startPlatform(engine);
    entityId = (await advancedEntity(p, 'Values')).id;
  });
  afterAll(() => p?.close());
  const token = async (fields: object = {}) =>
    (await p.api.post(`/v1/entities/${entityId}/tokens`, { name: 'value', ...fields })).body as {
      id: string;
      value: string;
    };

  it('an exposed token cannot be switched back on; a rotation without grace makes it usable again', async () => {
    const t = await token();
    const report = await p.api.post('/v1/token-leaks', [
      { token: t.value, type: 'tokenplane_api_token', url: null, source: 'content' },
    ]);
    expect(report.body[0].label).toBe('true_positive');
    expect(isProblem(await p.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);

    const enable = await p.api.patch(`/v1/tokens/${t.id}`, { status: 'active' });
    expect(isProblem(enable, 'token-exposed', 409), enable.text).toBe(true);
    expect(enable.body.detail).toContain('Rotate it');
    expect(isProblem(await p.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);
    expect((await p.api.get(`/v1/tokens/${t.id}`)).body.status).toBe('disabled');
    // Other changes still go through.
    expect((await p.api.patch(`/v1/tokens/${t.id}`, { name: 'exposed' })).status).toBe(200);

    const rotated = await p.api.post(`/v1/tokens/${t.id}/rotate`, { gracePeriodSeconds: 600 });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.status).toBe('active');
    expect((await p.api.metric(rotated.body.value, 'requests')).status).toBe(200);
    // No grace for the exposed value, whatever was asked.
    expect(isProblem(await p.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);
    // Disabled by hand later, it can be enabled again: the exposed value is gone.
    await p.api.patch(`/v1/tokens/${t.id}`, { status: 'disabled' });
    expect((await p.api.patch(`/v1/tokens/${t.id}`, { status: 'active' })).status).toBe(200);
  });

  it('a token disabled by hand is enabled by PATCH as before', async () => {
    const t = await token();
    await p.api.patch(`/v1/tokens/${t.id}`, { status: 'disabled' });
    expect((await p.api.patch(`/v1/tokens/${t.id}`, { status: 'active' })).status).toBe(200);
    expect((await p.api.metric(t.value, 'requests')).status).toBe(200);
  });

  it('the replaced value signs requests during its grace, and not after', async () => {
    p.clock.offsetMs = 0;
    const t = await token({ requireSignedRequests: true });
    const path = '/v1/analytics/metrics/requests';
    const signedBy = (key: string) =>
      signRequest(
        { method: 'GET', url: p.server.url + path },
        { keyId: t.id, key, created: Math.floor(p.clock.now() / 1000) },
      );
    const rotated = (await p.api.post(`/v1/tokens/${t.id}/rotate`, { gracePeriodSeconds: 600 }))
      .body;
    expect((await p.api.get(path, { key: null, headers: signedBy(t.value) })).status).toBe(200);
    expect((await p.api.get(path, { key: null, headers: signedBy(rotated.value) })).status).toBe(
      200,
    );
    p.clock.advance(601_000);
    // Signatures are checked against the server's clock: sign at its time.
    const late = await p.api.get(path, { key: null, headers: signedBy(t.value) });
    expect(isProblem(late, 'signature-invalid', 401), late.text).toBe(true);
    expect((await p.api.get(path, { key: null, headers: signedBy(rotated.value) })).status).toBe(
      200,
    );
    p.clock.offsetMs = 0;
  });

  /** A token of its own entity (the tier's quota of 5 is shared by the tests above). */
  const ownToken = async (fields: object = {}) => {
    const e = await advancedEntity(p, 'Graces');
    return (await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'graces', ...fields }))
      .body as { id: string; value: string };
  };
  const rotate = (id: string, gracePeriodSeconds: number, headers?: Record<string, string>) =>
    p.api.post(`/v1/tokens/${id}/rotate`, { gracePeriodSeconds }, { headers });
  const path = '/v1/analytics/metrics/requests';
  /** The status a value gets: sent as a bearer token, or as the key of a signed request. */
  const statusOf = async (how: 'bearer' | 'signed', id: string, value: string) => {
    if (how === 'bearer') return (await p.api.metric(value, 'requests')).status;
    const headers = signRequest(
      { method: 'GET', url: p.server.url + path },
      { keyId: id, key: value, created: Math.floor(p.clock.now() / 1000) },
    );
    return (await p.api.get(path, { key: null, headers })).status;
  };

  it.each(['bearer', 'signed'] as const)(
    'a second rotation does not cut the first grace short (%s)',
    async (how) => {
      p.clock.offsetMs = 0;
      const t = await ownToken({ requireSignedRequests: how === 'signed' });
      const first = (await rotate(t.id, 600)).body.value as string; // t.value: until 600 s
      p.clock.advance(100_000);
      const second = (await rotate(t.id, 60)).body.value as string; // first: until 160 s
      const statuses = () =>
        Promise.all([t.value, first, second].map((value) => statusOf(how, t.id, value)));
      expect(await statuses()).toEqual([200, 200, 200]);
      p.clock.advance(61_000); // 161 s
      expect(await statuses()).toEqual([200, 401, 200]);
      p.clock.advance(440_000); // 601 s
      expect(await statuses()).toEqual([401, 401, 200]);
      p.clock.offsetMs = 0;
    },
  );

  it('a rotation replayed after later ones answers again while its value is in its grace', async () => {
    p.clock.offsetMs = 0;
    const t = await ownToken();
    const once = await rotate(t.id, 600, { 'idempotency-key': 'first-rotation' });
    await rotate(t.id, 600);
    await rotate(t.id, 600);
    const replay = await rotate(t.id, 600, { 'idempotency-key': 'first-rotation' });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.value).toBe(once.body.value);
  });

  it(`at most ${MAX_VALUES_IN_GRACE} replaced values are in their grace at once; one more answers 409 grace-limit`, async () => {
    p.clock.offsetMs = 0;
    const t = await ownToken();
    const values = [t.value];
    for (let i = 0; i < MAX_VALUES_IN_GRACE; i++) {
      values.push((await rotate(t.id, 600)).body.value);
      p.clock.advance(1_000);
    }
    const refused = await rotate(t.id, 600);
    expect(isProblem(refused, 'grace-limit', 409), refused.text).toBe(true);
    expect(refused.body.detail).toContain('gracePeriodSeconds 0');
    expect(refused.body).toMatchObject({ tokenId: t.id, limit: MAX_VALUES_IN_GRACE });
    expect(refused.body.retryAfter).toBe(590); // the first grace ends 600 s after 0 s, now is 10 s
    for (const value of values) expect(await statusOf('bearer', t.id, value)).toBe(200);

    // Without a grace there is nothing to keep: allowed, and the replaced value stops at once.
    const plain = await rotate(t.id, 0);
    expect(plain.status, plain.text).toBe(200);
    expect(await statusOf('bearer', t.id, values.at(-1) as string)).toBe(401);
    expect(await statusOf('bearer', t.id, values[0] as string)).toBe(200);

    // Once the first grace is over (600 s; the second ends at 601 s) there is room for one more.
    p.clock.advance(590_500);
    expect(await statusOf('bearer', t.id, values[0] as string)).toBe(401);
    expect((await rotate(t.id, 600)).status).toBe(200);
    expect(isProblem(await rotate(t.id, 600), 'grace-limit', 409)).toBe(true);
    p.clock.offsetMs = 0;
  });

  it('replaced values whose grace is over are purged: their sealed copies do not linger', async () => {
    p.clock.offsetMs = 0;
    const t = await ownToken();
    await rotate(t.id, 60);
    await rotate(t.id, 600);
    const store = p.server.app.tokenplane.context.store;
    const kept = async () =>
      (
        await store.db.query('SELECT grace_ends_at FROM replaced_values WHERE token_id = $1', [
          t.id,
        ])
      ).length;
    expect(await kept()).toBe(2);
    p.clock.advance(61_000);
    await purgeReplacedValues(store);
    expect(await kept()).toBe(1);
    p.clock.offsetMs = 0;
  });

  it('a leak report of an older replaced value ends its grace alone', async () => {
    p.clock.offsetMs = 0;
    const t = await ownToken();
    const first = (await rotate(t.id, 600)).body.value as string;
    const second = (await rotate(t.id, 600)).body.value as string;
    const report = await p.api.post('/v1/token-leaks', [
      { token: t.value, type: 'tokenplane_api_token', url: null, source: 'content' },
    ]);
    expect(report.body[0].label).toBe('true_positive');
    expect(await statusOf('bearer', t.id, t.value)).toBe(401);
    expect(await statusOf('bearer', t.id, first)).toBe(200);
    expect(await statusOf('bearer', t.id, second)).toBe(200);
    expect((await p.api.get(`/v1/tokens/${t.id}`)).body.status).toBe('active');
  });
});

describe.each(ENGINES)('a database upgraded with values in their grace, on %s', (engine) => {
  it('keeps them verifying: as a bearer token, and as a signing key when its sealed copy was kept', async () => {
    const bearer = { id: '01900000-0000-7000-8000-000000000002', signed: false };
    const signed = { id: '01900000-0000-7000-8000-000000000003', signed: true };
    const graceEnds = new Date(Date.now() + 3_600_000).toISOString();
    const values = new Map<string, { current: string; replaced: string }>();
    // Rows as version 5 wrote them: one replaced value per token, in tokens' own columns.
    await upgradedFrom(
      engine,
      5,
      async ({ tx, box, now }) => {
        for (const token of [bearer, signed]) {
          const current = generateSecret('apiToken');
          const replaced = generateSecret('apiToken');
          values.set(token.id, { current, replaced });
          await tx.run(
            `INSERT INTO tokens (id, entity_id, name, status, expires_at, hint, digest, sealed_value,
               previous_digest, previous_expires_at, previous_sealed_value, require_signed,
               version, created_at, updated_at)
             VALUES ($1, $2, 'old', 'active', NULL, 'tpt_…', $3, $4, $5, $6, $7, $8, 1, $9, $9)`,
            [
              token.id,
              OLD_ENTITY,
              box.digest(current),
              box.seal(current, token.id),
              box.digest(replaced),
              graceEnds,
              // A value replaced before version 5 has no sealed copy: bearer only.
              token.signed ? box.seal(replaced, token.id) : null,
              token.signed ? 1 : 0,
              now,
            ],
          );
        }
      },
      async (server) => {
        const api = new Api(server.url, server.adminKey);
        const path = '/v1/analytics/metrics/requests';
        const signedStatus = async (value: string) =>
          (
            await api.get(path, {
              key: null,
              headers: signRequest(
                { method: 'GET', url: server.url + path },
                { keyId: signed.id, key: value },
              ),
            })
          ).status;
        const b = values.get(bearer.id);
        const s = values.get(signed.id);
        expect((await api.metric(b?.current as string, 'requests')).status).toBe(200);
        expect((await api.metric(b?.replaced as string, 'requests')).status).toBe(200);
        expect(await signedStatus(s?.current as string)).toBe(200);
        expect(await signedStatus(s?.replaced as string)).toBe(200);
      },
    );
  });
});
