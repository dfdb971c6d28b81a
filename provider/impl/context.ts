/**
 * Per-process state of the provider: the settings from `configure`, one client,
 * the tier table. Lives in the provider plugin process only (never serialized).
 */

import type { TokenplaneClient } from '../../core/client/index.ts';
import type { TierTable } from '../../core/domain/index.ts';
import { EntityExternal, platformTiers } from '../../core/external/index.ts';
import {
  type ConfigSource,
  newClient,
  type ProviderSettings,
  providerError,
  resolveSettings,
} from './config.ts';
import { ClaimingTokens } from './quota.ts';

let settings: ProviderSettings = resolveSettings(undefined);
let client: TokenplaneClient | undefined;
let tiers: (() => Promise<TierTable>) | undefined;
let verified: Promise<unknown> | undefined;

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
  verified = undefined;
}

export type Platform = {
  client: TokenplaneClient;
  entities: EntityExternal;
  /** Its creates are claimed for the plan-time quota (quota.ts). */
  tokens: ClaimingTokens;
  tiers(): Promise<TierTable>;
  /**
   * Proves the credential once per process with a cheap authenticated read, so
   * that a wrong key fails `preview` even when nothing else needs a credential.
   */
  verifyCredential(): Promise<unknown>;
  /** The clock every decision of a step reads. */
  now(): Date;
};

/** The platform, or the configuration error that says which setting to fix. */
export function platform(): Platform {
  client ??= newClient(settings);
  const c = client;
  return {
    client: c,
    entities: new EntityExternal(c),
    tokens: new ClaimingTokens(c),
    tiers() {
      tiers ??= platformTiers(c);
      return tiers();
    },
    verifyCredential() {
      verified ??= c.listEntities({ limit: 1 });
      verified.catch(() => {
        verified = undefined;
      });
      return verified;
    },
    now: () => new Date(),
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
