/**
 * The implementation the serialized shim (provider/shim.ts) loads at run time in
 * the provider process. Nothing here is ever serialized into the state.
 */
import type { ProviderImplementation } from '../shim.ts';
import { apiTokenProvider } from './api-token.ts';
import { configure } from './context.ts';
import { entityProvider } from './entity.ts';

export { configure };
export const providers: ProviderImplementation['providers'] = {
  entity: entityProvider,
  apiToken: apiTokenProvider,
};
