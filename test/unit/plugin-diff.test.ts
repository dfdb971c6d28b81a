// The provider plugin's additions to the implementation's answers (provider/plugin/diff.ts).
import { describe, expect, it } from 'vitest';
import { apiTokenInputsFrom, detailedDiff, entityInputsFrom } from '../../provider/plugin/diff.ts';

describe('detailedDiff', () => {
  const olds = {
    displayName: 'renamed',
    status: 'disabled',
    tokenId: 't1',
    expiresAt: '2030-01-01T00:00:00Z',
  };
  const oldInputs = { displayName: 'key', __key: 'k', lifetime: '720h' };

  it('compares declared inputs with the state, so drift shows as an update', () => {
    const news = { displayName: 'key', status: 'active', __key: 'k', lifetime: '720h' };
    expect(detailedDiff({ oldInputs, olds, news, replaces: [] })).toEqual({
      displayName: 'UPDATE',
      status: 'ADD',
    });
  });

  it('names dropped inputs, and replacements also by a property no input shows', () => {
    const news = { displayName: 'renamed', status: 'disabled', type: 'publishable' };
    expect(detailedDiff({ oldInputs, olds, news, replaces: ['type', 'tokenId'] })).toEqual({
      lifetime: 'DELETE',
      type: 'ADD_REPLACE',
      tokenId: 'UPDATE_REPLACE',
    });
  });

  it('takes "never" and null as the same expiry, and hidden inputs as no change', () => {
    const state = { expiresAt: null };
    expect(
      detailedDiff({
        oldInputs: { expiresAt: 'never' },
        olds: state,
        news: { expiresAt: 'never', __key: 'x' },
        replaces: [],
      }),
    ).toEqual({});
  });
});

describe('inputs of an imported object', () => {
  it('declare an entity by its name, kind, tier and parent', () => {
    const outs = {
      displayName: 'Shop',
      kind: 'customer',
      tier: 'lite',
      parentId: null,
      entityId: 'e',
      tokenQuota: 1,
    };
    expect(entityInputsFrom(outs)).toEqual({ displayName: 'Shop', kind: 'customer', tier: 'lite' });
    expect(entityInputsFrom({ ...outs, parentId: 'p' })).toMatchObject({ parentId: 'p' });
  });

  it('declare a token by what differs from the defaults, a token without expiry as "never"', () => {
    const outs = {
      entityId: 'e',
      displayName: 'web',
      status: 'active',
      expiresAt: null,
      type: 'publishable',
      scopes: ['metrics:core:read'],
      allowedOrigins: ['https://a.example'],
      allowedIps: [],
      rateLimit: null,
      usageLimit: { limit: 5, period: 'day' },
      requireSignedRequests: false,
      hint: 'tpp_…abcd',
    };
    expect(apiTokenInputsFrom(outs)).toEqual({
      entityId: 'e',
      displayName: 'web',
      expiresAt: 'never',
      type: 'publishable',
      allowedOrigins: ['https://a.example'],
      usageLimit: { limit: 5, period: 'day' },
    });
    expect(
      apiTokenInputsFrom({
        ...outs,
        type: 'secret',
        scopes: ['metrics:read'],
        status: 'disabled',
        expiresAt: '2030-01-01T00:00:00Z',
      }),
    ).toMatchObject({ status: 'disabled', expiresAt: '2030-01-01T00:00:00Z' });
  });
});
