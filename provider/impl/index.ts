/**
 * The implementation the serialized shim (provider/shim.ts) loads at run time in
 * the provider process. Nothing here is ever serialized into the state.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { ProviderImplementation, ProviderKind } from '../shim.ts';
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
