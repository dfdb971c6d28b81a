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
import { dynamicTracing, tracedMethods } from './tracing.ts';

const providers: Record<ProviderKind, pulumi.dynamic.ResourceProvider> = {
  entity: entityProvider,
  apiToken: apiTokenProvider,
};

/** Applies the stack config, hands back the kind's methods (the plugin's entry: it traces its gRPC calls itself). */
export const implementation: ProviderImplementation['provider'] = async (kind, req) => {
  configure((req as { config?: ConfigSource } | undefined)?.config);
  const { configure: _, ...methods } = providers[kind];
  return methods;
};

/** The shim's `configure`: the kind's methods, each in a span when the process traces (tracing.ts). */
export const provider: ProviderImplementation['provider'] = async (kind, req) => {
  const methods = await implementation(kind, req);
  return (await dynamicTracing()) ? tracedMethods(kind, methods) : methods;
};
