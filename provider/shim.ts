/**
 * The provider object Pulumi serializes into the state of every Entity and
 * ApiToken. It must stay tiny and capture nothing but two strings: Pulumi
 * serializes a dynamic provider's closure by value (credentials, HTTP clients and
 * zod schemas captured here would land in the state, or fail to serialize), and
 * `refresh`/`destroy` run the copy in the state rather than the program's code.
 * So every method loads the implementation at run time and delegates to it:
 *
 * 1. `TOKENPLANE_PROVIDER_MODULE` (a path or file URL), when set;
 * 2. else the `tokenplane` package resolved from the working directory of the
 *    provider process (the Pulumi project): the installed code of today;
 * 3. else the module path recorded when the program ran.
 *
 * The implementation is ESM TypeScript run by Node's type stripping; the
 * deserialized shim is CommonJS, so it reaches it through a dynamic `import()`
 * built with `new Function` (a literal `import()` would be rewritten by test
 * runners and bundlers that transform the program's modules). Node's module
 * cache makes every import after the first one cheap.
 */
import type * as pulumi from '@pulumi/pulumi';

export type ProviderKind = 'entity' | 'apiToken';

export type ProviderMethod =
  | 'configure'
  | 'check'
  | 'diff'
  | 'create'
  | 'read'
  | 'update'
  | 'delete';

/** What provider/impl/index.ts exports for the shim. */
export type ProviderImplementation = {
  dispatch(kind: ProviderKind, method: ProviderMethod, args: unknown[]): Promise<unknown>;
};

export function providerShim(
  kind: ProviderKind,
  recordedModule: string,
): pulumi.dynamic.ResourceProvider {
  // Kept small on purpose: this text is stored twice per resource in the state,
  // which the engine rewrites after every step (its size showed in the benchmark).
  const call = async (method: ProviderMethod, ...args: unknown[]): Promise<never> => {
    const load = new Function('s', 'return import(s)');
    let target = process.env.TOKENPLANE_PROVIDER_MODULE;
    if (!target) {
      try {
        const { createRequire } = await load('node:module');
        target = createRequire(`${process.cwd()}/`)
          .resolve('tokenplane/package.json')
          .replace(/package\.json$/, 'provider/impl/index.ts');
      } catch {
        target = recordedModule;
      }
    }
    return (await load(target)).dispatch(kind, method, args) as never;
  };
  return {
    configure: (...args) => call('configure', ...args),
    check: (...args) => call('check', ...args),
    diff: (...args) => call('diff', ...args),
    create: (...args) => call('create', ...args),
    read: (...args) => call('read', ...args),
    update: (...args) => call('update', ...args),
    delete: (...args) => call('delete', ...args),
  };
}
