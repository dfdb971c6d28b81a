/**
 * The provider object Pulumi serializes into the state of every Entity and
 * ApiToken. Pulumi serializes a dynamic provider's closure by value (credentials,
 * HTTP clients and zod schemas captured here would land in the state, or fail to
 * serialize), and `refresh`/`destroy` run the copy in the state rather than the
 * program's code. So the serialized object carries one method, `configure`, which
 * loads the implementation at run time and installs its methods (check, diff,
 * create, read, update, delete) on the provider object itself:
 *
 * 1. `TOKENPLANE_PROVIDER_MODULE` (a path or file URL), when set;
 * 2. else `tokenplane/provider/impl` resolved from the working directory of the
 *    provider process (the Pulumi project): the installed code of today;
 * 3. else, or when that fails to load (a checkout without a build), the module
 *    path recorded when the program ran.
 *
 * This works because the dynamic-provider host deserializes each provider text
 * once per process and always awaits `configure` (with the stack config) before
 * it calls any other method on the same object.
 *
 * Why so small: the text is stored twice per resource (inputs and outputs) and
 * the engine rewrites the whole state after every step, so its size showed in
 * `npm run bench:provider`. Every serialized function costs ~150 characters of
 * wrapping, hence one function, and no type annotations inside it (type stripping
 * leaves them as spaces in the function's text).
 *
 * Pulumi parses the serialized function's text with the project's `typescript`,
 * else with the TypeScript 3.8 it vendors — which is what an installed package
 * gets (typescript is only a devDependency here). So only syntax TypeScript 3.8
 * parses inside it: no `||=`/`??=` (TS 4.0), even though Node runs them.
 *
 * The implementation is ESM TypeScript run by Node's type stripping; the
 * deserialized shim is CommonJS, so it reaches it through a dynamic `import()`
 * built with `new Function` (a literal `import()` — or `require` — would be
 * rewritten by test runners and bundlers that transform the program's modules).
 */
import type * as pulumi from '@pulumi/pulumi';

export type ProviderKind = 'entity' | 'apiToken';

/** What provider/impl/index.ts exports for the shim. */
export type ProviderImplementation = {
  /** Applies the provider configuration; returns the methods of the kind's provider. */
  provider(
    kind: ProviderKind,
    req: unknown,
  ): Promise<Omit<pulumi.dynamic.ResourceProvider, 'configure'>>;
};

/**
 * The serialized object. `configure` installs every other method before its first
 * `await`: the host may call them on this object while the implementation is still
 * loading (it caches the object before awaiting `configure`, and runs deletes and
 * reads in parallel); until then they wait for it. No comments or type annotations
 * inside the function: they would be part of its serialized text.
 */
type Impl = ProviderImplementation;
type Shim = {
  configure(this: Record<string, (...args: never[]) => unknown>, req: unknown): Promise<void>;
};

export function providerShim(
  kind: ProviderKind,
  recordedModule: string,
): pulumi.dynamic.ResourceProvider {
  const shim: Shim = {
    // biome-ignore format: serialized into the state of every resource, so kept dense
    async configure(req) {
      const load = new Function('s', 'return import(s)');
      let m = process.env.TOKENPLANE_PROVIDER_MODULE;
      try { m = m || process.getBuiltinModule('module').createRequire(`${process.cwd()}/`).resolve('tokenplane/provider/impl'); } catch { m = recordedModule; }
      const impl = load(m).catch(() => load(recordedModule)).then((x: Impl) => x.provider(kind, req));
      for (const k of ['check', 'diff', 'create', 'read', 'update', 'delete']) this[k] = async (...a) => (await impl)[k](...a);
      await impl;
    },
  };
  return shim as unknown as pulumi.dynamic.ResourceProvider;
}
