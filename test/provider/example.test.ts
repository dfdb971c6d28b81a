// The example program of examples/pulumi/ (the root Pulumi.yaml's `main`) runs
// as documented: up creates the reseller, both customers and their tokens with
// secret values; destroy removes them.
import { expect, it } from 'vitest';
import { platformSnapshot, useFixture } from './fixtures.ts';

const f = useFixture();

it('examples/pulumi: up and destroy', async () => {
  const stack = await f().env.inlineStack({
    projectName: 'tokenplane-example',
    stackName: 'example',
    // Module exports are the stack outputs, as with `pulumi up` on the project.
    program: async () => ({ ...(await import('../../examples/pulumi/index.ts')) }),
  });
  await stack.setAllConfig({
    'tokenplane:endpoint': { value: f().server.url },
    'tokenplane:apiKey': { value: f().server.adminKey, secret: true },
  });
  const result = await stack.up();
  const names = ['northwindCiToken', 'contosoWebToken', 'contosoReportsToken', 'fabrikamAppToken'];
  for (const name of names) {
    expect(result.outputs[name]?.secret, name).toBe(true);
    const value = result.outputs[name]?.value as string;
    expect(await f().client.introspect(value)).toMatchObject({ active: true });
  }
  const { entities, tokens: onPlatform } = await platformSnapshot(f().client);
  expect(entities.map((e) => `${e.name}:${e.tier}`).sort()).toEqual([
    'Contoso:advanced',
    'Fabrikam:lite',
    'Northwind Resale:advanced',
  ]);
  // Fabrikam's default token was taken over, not joined by a second one.
  expect(onPlatform).toHaveLength(4);
  const web = await f().client.getToken(onPlatform.find((t) => t.name === 'web')?.id as string);
  expect(web).toMatchObject({ type: 'publishable', scopes: ['metrics:core:read'] });
  const reports = await f().client.getToken(
    onPlatform.find((t) => t.name === 'reports')?.id as string,
  );
  expect(reports).toMatchObject({
    requireSignedRequests: true,
    usageLimit: { limit: 100_000, period: 'month' },
  });
  await stack.destroy();
  expect((await platformSnapshot(f().client)).entities).toEqual([]);
});
