// The provider's `check` (provider/impl/inputs.ts): what a failure says a
// property takes comes from the property's schema, so every input has it.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  ApiTokenInputs,
  EntityInputs,
  expected,
  parseInputs,
  UNKNOWN,
} from '../../provider/impl/inputs.ts';

describe('provider inputs', () => {
  it('every input of both resources says what it takes', () => {
    for (const schema of [EntityInputs, ApiTokenInputs]) {
      for (const [name, field] of Object.entries(schema.shape)) {
        expect(expected(field as z.ZodType), name).toMatch(/\S/);
      }
    }
    expect(expected(EntityInputs.shape.kind)).toBe('"reseller" or "customer"');
    expect(expected(ApiTokenInputs.shape.adoptDefaultToken)).toBe('true or false');
  });

  it('a failure names the property, what it got and what it takes; unknowns pass until known', () => {
    const { failures } = parseInputs(ApiTokenInputs, {
      entityId: 'x',
      displayName: 'ci',
      lifetime: '30 days',
      tokenId: UNKNOWN,
    });
    expect(failures).toEqual([
      {
        property: 'entityId',
        reason:
          'entityId: Invalid UUID (got "x"); expected: the id (UUID) of an entity, e.g. `entity.entityId`',
      },
      {
        property: 'lifetime',
        reason: expect.stringMatching(
          /^lifetime: must be a duration .* \(got "30 days"\); expected: a duration such as "720h"/,
        ),
      },
    ]);
    const unknown = parseInputs(EntityInputs, { displayName: 'a', kind: 'x', tier: 'lite', z: 1 });
    expect(unknown.failures.map((f) => f.property)).toEqual(['kind', 'z']);
    expect(unknown.failures[0]?.reason).toContain('expected: "reseller" or "customer"');
  });
});
