/**
 * Token values across leaks and rotations (issue 21, SPEC §8), on both
 * databases: an exposed value never verifies again — PATCH cannot switch the
 * token back on (409 token-exposed), a rotation gives the exposed value no
 * grace and enables the token; a replaced value signs requests during its
 * grace exactly as it authenticates as a bearer token, and not after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../platform/crypto/http-signatures.ts';
import { ENGINES, isProblem, type Platform, startPlatform, stopPostgres } from './helpers.ts';

afterAll(stopPostgres);

describe.each(ENGINES)('token values on %s', (engine) => {
  let p: Platform;
  let entityId: string;
  beforeAll(async () => {
    p = await startPlatform(engine);
    const e = await p.api.post('/v1/entities', {
      name: 'Values',
      kind: 'customer',
      tier: 'advanced',
      defaultToken: false,
    });
    entityId = e.body.id;
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
});
