// provider/schema.json is generated from the zod schemas (provider/plugin/schema.ts).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { PERMISSION_FIELDS } from '../../core/domain/permissions.ts';
import { API_TOKEN, ENTITY, packageSchema, schemaText } from '../../provider/plugin/schema.ts';
import { packageVersion } from '../../provider/plugin/version.ts';
import { SCHEMA_FILE } from '../../provider/plugin/write-schema.ts';

it('provider/schema.json is current (else: npm run plugin:schema)', () => {
  expect(
    readFileSync(SCHEMA_FILE, 'utf8'),
    'provider/schema.json is stale: run npm run plugin:schema',
  ).toBe(schemaText(packageVersion()));
});

it('declares both resources with every input and output, the token values secret', () => {
  const schema = packageSchema('1.2.3');
  const entity = schema.resources[ENTITY];
  const token = schema.resources[API_TOKEN];
  expect(Object.keys(entity.inputProperties)).toEqual([
    'displayName',
    'kind',
    'tier',
    'parentId',
    'defaultToken',
  ]);
  expect(entity.required).toEqual(expect.arrayContaining(['entityId', 'tokenQuota']));
  expect(Object.keys(token.inputProperties)).toEqual(
    expect.arrayContaining([
      'entityId',
      'displayName',
      'status',
      'expiresAt',
      'adoptDefaultToken',
      'tokenId',
      ...PERMISSION_FIELDS,
      'lifetime',
      'renewBefore',
      'rotationGracePeriod',
    ]),
  );
  expect(Object.keys(token.properties)).toEqual(
    expect.arrayContaining([
      'tokenId',
      'hint',
      'value',
      'renewalTime',
      'rotations',
      'previousValue',
      'previousValueExpiresAt',
    ]),
  );
  expect(token.properties.value).toMatchObject({ type: 'string', secret: true });
  expect(token.properties.previousValue).toMatchObject({ secret: true });
  expect(token.properties.hint).not.toHaveProperty('secret');
  expect(token.inputProperties.rateLimit).toEqual(
    expect.objectContaining({ $ref: '#/types/tokenplane:index:RateLimit' }),
  );
  expect(schema.types['tokenplane:index:UsageLimit']?.required).toEqual(['limit', 'period']);
  expect(schema.config.variables.apiKey).toMatchObject({ type: 'string', secret: true });
  expect(schema.provider.inputProperties.endpoint).toMatchObject({ type: 'string' });
  expect(schema).not.toHaveProperty('logoUrl');
});
