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
 * runners and bundlers that transform the program's modules).
 */
import type * as pulumi from '@pulumi/pulumi';

export type ProviderKind = 'entity' | 'apiToken';

/** What provider/impl/index.ts exports for the shim. */
export type ProviderImplementation = {
  configure(config: { get(key: string): string | undefined }): void;
  providers: Record<ProviderKind, pulumi.dynamic.ResourceProvider>;
};

export function providerShim(
  kind: ProviderKind,
  recordedModule: string,
): pulumi.dynamic.ResourceProvider {
  // Nothing is cached here: a deserialized closure gets fresh captured variables
  // on every call, and Node's module cache already makes repeated imports cheap.
  const load = async (): Promise<ProviderImplementation> => {
    const dynamicImport = new Function('specifier', 'return import(specifier)') as (
      specifier: string,
    ) => Promise<Record<string, unknown>>;
    const { pathToFileURL } = (await dynamicImport(
      'node:url',
    )) as unknown as typeof import('node:url');
    let target = process.env.TOKENPLANE_PROVIDER_MODULE;
    if (target && !target.startsWith('file:')) target = pathToFileURL(target).href;
    if (!target) {
      try {
        const { createRequire } = (await dynamicImport(
          'node:module',
        )) as unknown as typeof import('node:module');
        const fromProject = createRequire(`${process.cwd()}/`);
        const manifest = fromProject.resolve('tokenplane/package.json');
        target = new URL('provider/impl/index.ts', pathToFileURL(manifest)).href;
      } catch {
        target = recordedModule;
      }
    }
    return (await dynamicImport(target)) as ProviderImplementation;
  };
  const provider = async () => (await load()).providers[kind];
  return {
    async configure(req) {
      (await load()).configure(req.config);
    },
    async check(olds, news) {
      const p = await provider();
      return p.check ? p.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const p = await provider();
      return p.diff ? p.diff(id, olds, news) : {};
    },
    async create(inputs) {
      return (await provider()).create(inputs);
    },
    async read(id, props) {
      const p = await provider();
      return p.read ? p.read(id, props) : { id, props };
    },
    async update(id, olds, news) {
      const p = await provider();
      return p.update ? p.update(id, olds, news) : {};
    },
    async delete(id, props) {
      const p = await provider();
      if (p.delete) await p.delete(id, props);
    },
  };
}
