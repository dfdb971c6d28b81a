/**
 * Per-process state of the provider: the settings from `configure`, one client,
 * the tier table. Lives in the provider plugin process only (never serialized).
 */

import type { TokenplaneClient } from '../../platform/client/index.ts';
import { TierTable } from '../../platform/domain/index.ts';
import { EntityExternal, TokenExternal } from '../../platform/external/index.ts';
import {
  type ConfigSource,
  newClient,
  type ProviderSettings,
  providerError,
  resolveSettings,
} from './config.ts';

let settings: ProviderSettings = resolveSettings(undefined);
let client: TokenplaneClient | undefined;
let tiers: Promise<TierTable> | undefined;

export function configure(config: ConfigSource | undefined): void {
  const next = resolveSettings(config);
  if (
    client &&
    next.endpoint.value === settings.endpoint.value &&
    next.apiKey.value === settings.apiKey.value
  ) {
    return;
  }
  settings = next;
  void client?.close();
  client = undefined;
  tiers = undefined;
}

export type Platform = {
  client: TokenplaneClient;
  entities: EntityExternal;
  tokens: TokenExternal;
  tiers(): Promise<TierTable>;
};

/** The platform, or the configuration error that says which setting to fix. */
export function platform(): Platform {
  client ??= newClient(settings);
  const c = client;
  return {
    client: c,
    entities: new EntityExternal(c),
    tokens: new TokenExternal(c),
    tiers() {
      tiers ??= c.listTiers().then((items) => new TierTable(items));
      tiers.catch(() => {
        tiers = undefined;
      });
      return tiers;
    },
  };
}

/** Runs a step against the platform; failures become messages that say what to fix. */
export async function withPlatform<T>(
  doing: string,
  step: (p: Platform) => Promise<T>,
): Promise<T> {
  try {
    return await step(platform());
  } catch (err) {
    throw providerError(doing, err, settings);
  }
}
