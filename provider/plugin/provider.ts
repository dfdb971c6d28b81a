/**
 * The provider plugin's resources (README "Pulumi provider for every language"): `tokenplane:index:Entity` and
 * `tokenplane:index:ApiToken`, served by `provider.main` (main.ts). Each method
 * hands over to the implementation the dynamic provider runs (provider/impl, the
 * same check, diff, create, read, update and delete), adding what a plugin has
 * to do itself:
 * - the idempotency identity: the URN the engine names (the dynamic provider's
 *   program passes it as `__key`), so a create killed after the platform's answer
 *   and rerun gets the same object back;
 * - the `__declaration` for the plan-time quota (declarations.ts);
 * - secrets unwrapped on the way in, the token values marked secret on the way out;
 * - `read` from the id alone for `pulumi import`, with inputs that recreate the
 *   object (diff.ts), and `{id: ''}` when the object is gone;
 * - a per-property diff.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { ConfigSource } from '../impl/config.ts';
import { implementation } from '../impl/index.ts';
import type { ProviderKind } from '../shim.ts';
import { entityChecked, entityIdentified, tokenDeclaration } from './declarations.ts';
import { apiTokenInputsFrom, type DiffKind, detailedDiff, entityInputsFrom } from './diff.ts';
import { API_TOKEN, ENTITY, NEVER, SECRET_OUTPUTS } from './schema.ts';
import { type Props, plainProps, userProps, withSecrets } from './values.ts';

type Methods = Awaited<ReturnType<typeof implementation>>;
type Required<T> = { [K in keyof T]-?: NonNullable<T[K]> };

/** The resource type of a URN: `urn:pulumi:stack::project::[parent$]type::name`. */
const typeOf = (urn: string) => (urn.split('::')[2] ?? '').split('$').pop() ?? '';

const KINDS: Record<string, ProviderKind> = { [ENTITY]: 'entity', [API_TOKEN]: 'apiToken' };

/** The inputs as the implementation takes them: a token that never expires has `expiresAt: null`. */
const implInputs = (inputs: Props): Props =>
  inputs.expiresAt === NEVER ? { ...inputs, expiresAt: null } : inputs;

export type DiffAnswer = {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
  detailedDiff: Record<string, DiffKind>;
};

export type ReadAnswer = { id: string; props?: Props; inputs?: Props };

export class TokenplaneProvider {
  readonly version: string;
  readonly schema: string;
  private methods: Promise<Record<ProviderKind, Required<Methods>>> | undefined;

  constructor(version: string, schema: string) {
    this.version = version;
    this.schema = schema;
  }

  /** The provider configuration (stack config, or an explicit provider's inputs). */
  configure(config: ConfigSource): void {
    const load = async (kind: ProviderKind) =>
      (await implementation(kind, { config })) as Required<Methods>;
    this.methods = Promise.all([load('entity'), load('apiToken')]).then(([entity, apiToken]) => ({
      entity,
      apiToken,
    }));
  }

  private async of(urn: string): Promise<{ kind: ProviderKind; m: Required<Methods> }> {
    const kind = KINDS[typeOf(urn)];
    if (!kind) throw new Error(`tokenplane: unknown resource type ${typeOf(urn)}`);
    // Configured with nothing: the environment fallbacks apply (provider/impl/config.ts).
    if (!this.methods) this.configure({ get: () => undefined });
    const methods = await (this.methods as NonNullable<typeof this.methods>);
    return { kind, m: methods[kind] };
  }

  private secrets(urn: string, props: Props): Props {
    return withSecrets(props, SECRET_OUTPUTS[typeOf(urn)] ?? []);
  }

  async check(urn: string, rawOlds: Props, rawNews: Props): Promise<pulumi.provider.CheckResult> {
    const { kind, m } = await this.of(urn);
    const olds = plainProps(rawOlds);
    const news: Props = { ...plainProps(rawNews), __key: urn };
    if (kind === 'entity') entityChecked(urn, olds, news);
    else news.__declaration = tokenDeclaration(urn, news);
    const result = await m.check(implInputs(olds), implInputs(news));
    // The inputs keep saying "never", as the program does.
    const inputs = result.inputs as Props;
    if (news.expiresAt === NEVER && inputs?.expiresAt === null) inputs.expiresAt = NEVER;
    return result;
  }

  async diff(
    id: string,
    urn: string,
    rawOlds: Props,
    rawNews: Props,
    rawOldInputs: Props,
  ): Promise<DiffAnswer> {
    const { kind, m } = await this.of(urn);
    const [olds, news, oldInputs] = [
      plainProps(rawOlds),
      plainProps(rawNews),
      plainProps(rawOldInputs),
    ];
    const result = await m.diff(id, olds, implInputs(news));
    const replaces = result.replaces ?? [];
    if (kind === 'entity') entityIdentified(urn, replaces.length > 0 ? null : id);
    const changes = result.changes !== false;
    return {
      changes,
      replaces,
      deleteBeforeReplace: result.deleteBeforeReplace === true,
      detailedDiff: changes ? detailedDiff({ oldInputs, olds, news, replaces }) : {},
    };
  }

  async create(urn: string, rawInputs: Props): Promise<pulumi.provider.CreateResult> {
    const { kind, m } = await this.of(urn);
    const { id, outs } = await m.create(implInputs(plainProps(rawInputs)));
    if (kind === 'entity') entityIdentified(urn, id);
    return { id, outs: this.secrets(urn, outs) };
  }

  /**
   * A refresh reads with the state; `pulumi import` with the id alone, and then
   * gets inputs that recreate the object. An object gone from the platform reads
   * as `{id: ''}`.
   */
  async read(id: string, urn: string, rawProps: Props, rawInputs: Props): Promise<ReadAnswer> {
    const { kind, m } = await this.of(urn);
    const props = plainProps(rawProps);
    const result = await m.read(id, props);
    if (!result.id || !result.props) return { id: '' };
    const outs = result.props as Props;
    if (kind === 'entity') entityIdentified(urn, result.id);
    const imported = Object.keys(userProps(plainProps(rawInputs))).length === 0;
    const inputs = imported
      ? kind === 'entity'
        ? entityInputsFrom(outs)
        : apiTokenInputsFrom(outs)
      : rawInputs;
    return { id: result.id, props: this.secrets(urn, outs), inputs };
  }

  async update(
    id: string,
    urn: string,
    rawOlds: Props,
    rawNews: Props,
  ): Promise<pulumi.provider.UpdateResult> {
    const { m } = await this.of(urn);
    const { outs } = await m.update(id, plainProps(rawOlds), implInputs(plainProps(rawNews)));
    return { outs: this.secrets(urn, outs) };
  }

  async delete(id: string, urn: string, rawProps: Props): Promise<void> {
    const { m } = await this.of(urn);
    await m.delete(id, plainProps(rawProps));
  }
}
