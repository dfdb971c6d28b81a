/**
 * The provider's reading of a refusal: a change the entity's own key may not
 * make (README "Platform API" governance) says who can, not "lacks the role".
 */
import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../core/client/index.ts';
import { problemType } from '../../core/domain/problems.ts';
import { checkGovernance } from '../../core/domain/rules.ts';
import { providerError } from '../../provider/impl/config.ts';

const settings = {
  endpoint: { value: 'http://127.0.0.1:8080', from: 'stack config tokenplane:endpoint' },
  apiKey: { value: 'tpk_x', from: 'stack config tokenplane:apiKey' },
};

function forbidden(extensions: Record<string, unknown>, detail: string) {
  return new ForbiddenError({
    status: 403,
    method: 'PATCH',
    path: '/v1/entities/1',
    problem: {
      type: problemType('forbidden'),
      title: 'Forbidden',
      status: 403,
      detail,
      ...extensions,
    },
  });
}

describe('provider errors', () => {
  it('a governance refusal names who can make the change', () => {
    const v = checkGovernance('e1', { id: 'e1', name: 'Shop' }, ['tier'], 'Northwind');
    expect(v).not.toBeNull();
    const { slug: _slug, detail, ...extensions } = v as NonNullable<typeof v>;
    const message = providerError(
      'updating entity',
      forbidden(extensions, detail),
      settings,
    ).message;
    expect(message).toContain('The tier of entity "Shop" cannot be changed by its own access keys');
    expect(message).toContain('parent "Northwind"');
    expect(message).toContain("one of that entity's own keys");
    expect(message).not.toContain('lacks the role');
  });

  it('a role refusal still asks for an admin-role key', () => {
    const message = providerError(
      'creating token',
      forbidden({ role: 'viewer' }, 'viewer'),
      settings,
    ).message;
    expect(message).toContain('lacks the role');
  });

  it('the administrator and strict ancestors are never refused', () => {
    expect(checkGovernance(null, { id: 'e1', name: 'x' }, ['tier'], null)).toBeNull();
    expect(checkGovernance('parent', { id: 'e1', name: 'x' }, ['deletion'], 'p')).toBeNull();
    expect(checkGovernance('e1', { id: 'e1', name: 'x' }, [], 'p')).toBeNull();
    expect(checkGovernance('e1', { id: 'e1', name: 'x' }, ['name'], null)?.detail).toMatch(
      /only the administrator key can/,
    );
  });
});
