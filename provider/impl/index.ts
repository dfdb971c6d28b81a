/**
 * The implementation the serialized shim (provider/shim.ts) loads at run time in
 * the provider process. Nothing here is ever serialized into the state.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { ProviderImplementation, ProviderKind, ProviderMethod } from '../shim.ts';
import { apiTokenProvider } from './api-token.ts';
import type { ConfigSource } from './config.ts';
import { configure } from './context.ts';
import { entityProvider } from './entity.ts';

const providers: Record<ProviderKind, pulumi.dynamic.ResourceProvider> = {
  entity: entityProvider,
  apiToken: apiTokenProvider,
};

/** The shim's `configure`: applies the stack config, hands back the kind's methods. */
export const provider: ProviderImplementation['provider'] = async (kind, req) => {
  configure((req as { config?: ConfigSource } | undefined)?.config);
  const { configure: _, ...methods } = providers[kind];
  return methods;
};

/**
 * The entry point of the shims serialized by earlier versions, which call it once
 * per method: states written by them keep working with the installed code.
 */
export const dispatch: ProviderImplementation['dispatch'] = async (
  kind: ProviderKind,
  method: ProviderMethod,
  args: unknown[],
) => {
  if (method === 'configure') {
    return configure((args[0] as { config?: ConfigSource } | undefined)?.config);
  }
  const provider = providers[kind];
  const implementation = provider[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (!implementation) throw new Error(`tokenplane ${kind} provider has no ${method}`);
  return implementation.apply(provider, args);
};
