// Smoke test proving the pulumi project runs on the real engine: a TypeScript
// program with one trivial dynamic resource goes through up, a no-change
// preview, a secret output stored as ciphertext, and destroy.
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PulumiTestEnv,
  pulumiTestEnv,
  SECRET_SIG,
  SECRET_SIG_VALUE,
} from '../harness/pulumi.ts';

const SECRET = 'greeting-s3cr3t-value';

// The provider is serialized into the state and run by pulumi-resource-pulumi-nodejs:
// its methods capture nothing but their arguments.
const greetingProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { name: string; secret: string }) {
    return {
      id: `greeting-${inputs.name}`,
      outs: { name: inputs.name, message: `hello ${inputs.name}`, value: inputs.secret },
    };
  },
  async diff(
    _id: string,
    olds: { name: string; value: string },
    news: { name: string; secret: string },
  ) {
    const changes = olds.name !== news.name || olds.value !== news.secret;
    return { changes, replaces: olds.name !== news.name ? ['name'] : [] };
  },
  async update(_id: string, _olds: unknown, news: { name: string; secret: string }) {
    return { outs: { name: news.name, message: `hello ${news.name}`, value: news.secret } };
  },
  async delete() {},
};

class Greeting extends pulumi.dynamic.Resource {
  declare readonly message: pulumi.Output<string>;
  declare readonly value: pulumi.Output<string>;
  constructor(
    name: string,
    args: { name: pulumi.Input<string>; secret: pulumi.Input<string> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      greetingProvider,
      name,
      { ...args, message: undefined, value: undefined },
      { ...opts, additionalSecretOutputs: ['value'] },
    );
  }
}

const program = async () => {
  const g = new Greeting('hello', { name: 'world', secret: pulumi.secret(SECRET) });
  return { message: g.message, value: g.value };
};

let env: PulumiTestEnv;
let stack: Stack;

beforeAll(async () => {
  env = await pulumiTestEnv();
  stack = await env.inlineStack({ projectName: 'smoke', stackName: 'dev', program });
});

afterAll(async () => {
  await env?.cleanup();
});

describe('pulumi engine (real CLI, file backend)', () => {
  it('creates the dynamic resource on up', async () => {
    const up = await stack.up();
    expect(up.summary.result).toBe('succeeded');
    expect(up.summary.resourceChanges).toMatchObject({ create: 2 });
    expect(up.outputs.message).toEqual({ value: 'hello world', secret: false });
    expect(up.outputs.value).toEqual({ value: SECRET, secret: true });
  });

  it('previews no changes the second time', async () => {
    const preview = await stack.preview();
    expect(Object.keys(preview.changeSummary).sort()).toEqual(['same']);
    expect(preview.changeSummary.same).toBe(2);
  });

  it('stores the secret output as ciphertext in the exported state', async () => {
    const state = await env.exportState('dev');
    expect(JSON.stringify(state)).not.toContain(SECRET);
    const greeting = state.deployment.resources?.find(
      (r) => r.type === 'pulumi-nodejs:dynamic:Resource',
    );
    expect(greeting?.outputs?.message).toBe('hello world');
    const secret = { [SECRET_SIG]: SECRET_SIG_VALUE, ciphertext: expect.stringMatching(/^v1:/) };
    expect(greeting?.outputs?.value).toEqual(secret);
    expect(greeting?.inputs?.secret).toEqual(secret);
    // The Automation API's own export decrypts: proof the ciphertext holds the value.
    const shown = await stack.exportStack();
    expect(JSON.stringify(shown)).toContain(SECRET);
  });

  it('leaves an empty stack after destroy', async () => {
    const destroy = await stack.destroy();
    expect(destroy.summary.result).toBe('succeeded');
    const state = await env.exportState('dev');
    expect(state.deployment.resources ?? []).toEqual([]);
  });
});
