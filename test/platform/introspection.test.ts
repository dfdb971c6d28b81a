/**
 * RFC 7662 introspection as standard clients send it: a form body (`token`,
 * `token_type_hint`; any other parameter is an unknown field, as in JSON),
 * through a real OAuth client library (oauth4webapi), the caller
 * authenticated as a resource server with an access key; JSON bodies as before.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProblem, type Platform, startPlatform } from './helpers.ts';

describe('introspection (RFC 7662)', () => {
  let p: Platform;
  let value: string;
  beforeAll(async () => {
    p = await startPlatform('sqlite');
    const e = await p.api.post('/v1/entities', {
      name: 'Introspected',
      kind: 'customer',
      tier: 'advanced',
    });
    value = e.body.defaultToken.value;
  });
  afterAll(() => p?.close());

  const introspect = async (token: string) => {
    const as: oauth.AuthorizationServer = {
      issuer: p.server.url,
      introspection_endpoint: `${p.server.url}/v1/introspect`,
    };
    const client: oauth.Client = { client_id: 'reporting-backend' };
    // RFC 7662 §2.1 lets the resource server authenticate with a bearer credential: its access key.
    const bearer: oauth.ClientAuth = (_as, _client, _body, headers) => {
      headers.set('authorization', `Bearer ${p.api.defaultKey}`);
    };
    const response = await oauth.introspectionRequest(as, client, bearer, token, {
      additionalParameters: { token_type_hint: 'access_token' },
      [oauth.allowInsecureRequests]: true,
    });
    return oauth.processIntrospectionResponse(as, client, response);
  };

  it('answers an RFC 7662 client library: active with the scope for a live token, inactive otherwise', async () => {
    const live = await introspect(value);
    expect(live.active).toBe(true);
    expect(live.scope).toBe('metrics:read');
    expect(typeof live.exp).toBe('number');
    expect((await introspect('tpt_nope')).active).toBe(false);
  });

  it('the OpenAPI document offers both bodies', async () => {
    const doc = (await p.api.get('/openapi.json', { key: null })).body;
    const content = doc.paths['/v1/introspect'].post.requestBody.content;
    expect(Object.keys(content).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
    expect(content['application/x-www-form-urlencoded'].schema).toEqual(
      content['application/json'].schema,
    );
  });

  it('refuses a form body that repeats token, and still takes JSON', async () => {
    const res = await fetch(`${p.server.url}/v1/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${p.api.defaultKey}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `token=${value}&token=${value}`,
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('sent more than once');
    const extra = await fetch(`${p.server.url}/v1/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${p.api.defaultKey}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `token=${value}&client_secret=s3cret`,
    });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(await extra.json())).toContain('unknown field');
    const json = await p.api.post('/v1/introspect', { token: value });
    expect(json.body.active).toBe(true);
    const other = await p.api.call('POST', '/v1/entities', {
      rawBody: 'name=x&kind=customer',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(isProblem(other, 'unsupported-media-type', 415), other.text).toBe(true);
  });
});
