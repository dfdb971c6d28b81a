/**
 * `provider.main` from `@pulumi/pulumi/provider` serves the resource provider
 * protocol, with gaps (pulumi 3.259, same in 3.276) that a plugin of custom
 * resources falls into:
 * - `configure` ignores its request, so the stack config (`tokenplane:endpoint`,
 *   `tokenplane:apiKey`) never reaches the provider; `checkConfig` and
 *   `diffConfig` are unimplemented;
 * - `read` calls `toJavaScript()` on properties that `pulumi import` does not send,
 *   and cannot return inputs worked out from the object;
 * - `diff` never reports a per-property diff.
 * `serve` installs handlers of its own for those five methods, on the service
 * implementation that `provider.main` adds to its gRPC server, and leaves the
 * rest (check, create, update, delete, the plugin handshake) to it.
 */
import * as grpc from '@grpc/grpc-js';
import provproto from '@pulumi/pulumi/proto/provider_pb.js';
import * as pulumiProvider from '@pulumi/pulumi/provider/index.js';
import structproto from 'google-protobuf/google/protobuf/struct_pb.js';
import type { TokenplaneProvider } from './provider.ts';
import { tracedOperations } from './tracing.ts';
import { type Props, plainProps } from './values.ts';

type Call<Req> = { request: Req };
type Callback = (err: unknown, value?: unknown) => void;
type Struct = { toJavaScript(): Props } | undefined;
const js = (s: Struct): Props => s?.toJavaScript() ?? {};
const struct = (p: Props) => structproto.Struct.fromJavaScript(p as Record<string, never>);

/** The settings, from an explicit provider's inputs or the stack config (`tokenplane:config:endpoint`). */
function configSource(args: Props, variables: Map<string, string>) {
  return {
    get(key: string): string | undefined {
      const name = key.slice(key.indexOf(':') + 1);
      const fromArgs = args[name];
      if (typeof fromArgs === 'string') return fromArgs;
      return variables.get(`tokenplane:config:${name}`) ?? variables.get(key);
    },
  };
}

const CONFIG_KEYS = ['endpoint', 'apiKey'];

function handlers(provider: TokenplaneProvider) {
  const unary =
    <Req>(answer: (req: Req) => Promise<unknown> | unknown) =>
    (call: Call<Req>, callback: Callback) => {
      Promise.resolve()
        .then(() => answer(call.request))
        .then(
          (value) => callback(null, value),
          (err: unknown) => callback(err),
        );
    };
  return {
    checkConfig: unary((req: provproto.CheckRequest) => {
      const resp = new provproto.CheckResponse();
      resp.setInputs(req.getNews());
      return resp;
    }),
    // Another endpoint or key updates the provider in place; its resources stay.
    diffConfig: unary((req: provproto.DiffRequest) => {
      const [olds, news] = [
        plainProps(js(req.getOldInputs() ?? req.getOlds())),
        plainProps(js(req.getNews())),
      ];
      const changed = CONFIG_KEYS.filter((k) => olds[k] !== news[k]);
      const resp = new provproto.DiffResponse();
      resp.setChanges(
        changed.length > 0
          ? provproto.DiffResponse.DiffChanges.DIFF_SOME
          : provproto.DiffResponse.DiffChanges.DIFF_NONE,
      );
      resp.setDiffsList(changed);
      return resp;
    }),
    configure: unary((req: provproto.ConfigureRequest) => {
      const variables = new Map(req.getVariablesMap().toArray());
      provider.configure(configSource(plainProps(js(req.getArgs())), variables));
      const resp = new provproto.ConfigureResponse();
      resp.setAcceptsecrets(true);
      resp.setAcceptresources(true);
      return resp;
    }),
    read: unary(async (req: provproto.ReadRequest) => {
      const result = await provider.read(
        req.getId(),
        req.getUrn(),
        js(req.getProperties()),
        js(req.getInputs()),
      );
      const resp = new provproto.ReadResponse();
      resp.setId(result.id);
      if (result.props) resp.setProperties(struct(result.props));
      if (result.inputs) resp.setInputs(struct(result.inputs));
      return resp;
    }),
    diff: unary(async (req: provproto.DiffRequest) => {
      const result = await provider.diff(
        req.getId(),
        req.getUrn(),
        js(req.getOlds()),
        js(req.getNews()),
        js(req.getOldInputs()),
      );
      const resp = new provproto.DiffResponse();
      const { DiffChanges } = provproto.DiffResponse;
      resp.setChanges(result.changes ? DiffChanges.DIFF_SOME : DiffChanges.DIFF_NONE);
      resp.setReplacesList(result.replaces);
      resp.setDeletebeforereplace(result.deleteBeforeReplace);
      resp.setDiffsList(Object.keys(result.detailedDiff));
      resp.setHasdetaileddiff(result.changes);
      const detailed = resp.getDetaileddiffMap();
      for (const [key, kind] of Object.entries(result.detailedDiff)) {
        const diff = new provproto.PropertyDiff();
        diff.setKind(provproto.PropertyDiff.Kind[kind]);
        // Compared with the state's outputs (what the platform had at the last
        // step or refresh), so that drift shows as the platform's value => the program's.
        diff.setInputdiff(kind.startsWith('DELETE'));
        detailed.set(key, diff);
      }
      return resp;
    }),
  };
}

/**
 * Serves `provider` on the engine's address in `args` (prints the port, as
 * plugins do); `traced`: a span per resource operation (tracing.ts).
 */
export async function serve(
  provider: TokenplaneProvider,
  args: string[],
  traced = false,
): Promise<void> {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, implementation) {
    if (!('checkConfig' in service && 'construct' in service)) {
      return addService.call(this, service, implementation);
    }
    const ours = Object.assign(Object.create(implementation), handlers(provider));
    return addService.call(this, service, traced ? tracedOperations(ours) : ours);
  };
  await pulumiProvider.main(
    {
      version: provider.version,
      schema: provider.schema,
      check: (urn, olds, news) => provider.check(urn, olds, news),
      create: (urn, inputs) => provider.create(urn, inputs),
      update: (id, urn, olds, news) => provider.update(id, urn, olds, news),
      delete: (id, urn, props) => provider.delete(id, urn, props),
    },
    args,
  );
}
