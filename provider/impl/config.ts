/**
 * Where the provider finds the platform and its credential: the stack config
 * `tokenplane:endpoint` / `tokenplane:apiKey` (secret) handed to `configure`, else
 * the environment `TOKENPLANE_ENDPOINT` / `TOKENPLANE_API_KEY`. Every message
 * names the setting that supplied (or should supply) the value, so a person knows
 * what to fix. The key itself never appears in a message.
 */

import { TokenplaneClient, TokenplaneError } from '../../core/client/index.ts';
import { describeFailure } from '../../core/external/index.ts';

export type ConfigSource = { get(key: string): string | undefined };

export const SETTINGS = {
  endpoint: { config: 'tokenplane:endpoint', env: 'TOKENPLANE_ENDPOINT' },
  apiKey: { config: 'tokenplane:apiKey', env: 'TOKENPLANE_API_KEY' },
} as const;
type Setting = keyof typeof SETTINGS;

export type Resolved = { value: string; from: string };
export type ProviderSettings = { endpoint: Resolved; apiKey: Resolved };

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** A refusal the provider decides itself (a plan that cannot work); its message is final. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

const HOW_TO_SET: Record<Setting, string> = {
  endpoint:
    'Set it with `pulumi config set tokenplane:endpoint https://…` or the TOKENPLANE_ENDPOINT environment variable.',
  apiKey:
    'Set it with `pulumi config set --secret tokenplane:apiKey <key>` or the TOKENPLANE_API_KEY environment variable.',
};

export function resolveSettings(
  config: ConfigSource | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ProviderSettings {
  return { endpoint: resolve('endpoint', config, env), apiKey: resolve('apiKey', config, env) };
}

function resolve(setting: Setting, config: ConfigSource | undefined, env: NodeJS.ProcessEnv) {
  const names = SETTINGS[setting];
  const fromConfig = safeGet(config, names.config);
  if (fromConfig) return { value: fromConfig, from: `stack config ${names.config}` };
  const fromEnv = env[names.env]?.trim();
  if (fromEnv) return { value: fromEnv, from: `environment variable ${names.env}` };
  return { value: '', from: '' };
}

/** The configured client, or a ConfigurationError that says which setting to fix. */
export function requireSettings(settings: ProviderSettings): ProviderSettings {
  for (const setting of ['endpoint', 'apiKey'] as const) {
    if (!settings[setting].value) {
      const names = SETTINGS[setting];
      throw new ConfigurationError(
        `tokenplane: no ${setting === 'apiKey' ? 'API key' : 'endpoint'} configured ` +
          `(neither ${names.config} nor ${names.env} is set). ${HOW_TO_SET[setting]}`,
      );
    }
  }
  try {
    new URL(settings.endpoint.value);
  } catch {
    throw new ConfigurationError(
      `tokenplane: the endpoint from ${settings.endpoint.from} is not a URL. ${HOW_TO_SET.endpoint}`,
    );
  }
  return settings;
}

export function newClient(settings: ProviderSettings): TokenplaneClient {
  const { endpoint, apiKey } = requireSettings(settings);
  return new TokenplaneClient({
    endpoint: endpoint.value,
    apiKey: apiKey.value,
    userAgent: 'tokenplane-pulumi-provider',
  });
}

/**
 * A platform failure as a provider error: a refused credential or an unreachable
 * endpoint names the setting to fix; everything else keeps the platform's
 * actionable `detail` (via describeFailure), prefixed with what was being done.
 */
export function providerError(doing: string, err: unknown, settings: ProviderSettings): Error {
  if (err instanceof ConfigurationError) return err;
  if (err instanceof PlanError) return new Error(`${doing}: ${err.message}`);
  const failure = describeFailure(err);
  if (failure.reason === 'Unauthorized') {
    return new Error(
      `${doing}: the platform at ${settings.endpoint.value} refused the API key from ` +
        `${settings.apiKey.from}. ${HOW_TO_SET.apiKey}`,
    );
  }
  if (failure.reason === 'Forbidden' && isGovernanceRefusal(err)) {
    return new Error(
      `${doing}: ${failure.message} The API key from ${settings.apiKey.from} is one of that ` +
        "entity's own keys; configure the administrator key or a key of an ancestor entity.",
    );
  }
  if (failure.reason === 'Forbidden') {
    return new Error(
      `${doing}: the API key from ${settings.apiKey.from} lacks the role for this ` +
        `(${failure.message}). Use an administrator key or an access key with the admin role.`,
    );
  }
  if (failure.reason === 'PlatformUnavailable' && !('slug' in Object(err))) {
    return new Error(
      `${doing}: the platform at ${settings.endpoint.value} (from ${settings.endpoint.from}) ` +
        `could not be reached. Check that it is up, or fix ${SETTINGS.endpoint.config} / ${SETTINGS.endpoint.env}.`,
    );
  }
  return new Error(`${doing}: ${failure.message}`);
}

/** The platform refused a change to an entity's tier, name or deletion by its own key (README "Platform API"). */
function isGovernanceRefusal(err: unknown): boolean {
  return err instanceof TokenplaneError && typeof err.problem.governedBy === 'string';
}

function safeGet(config: ConfigSource | undefined, key: string): string | undefined {
  try {
    const value = config?.get(key);
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  } catch {
    return undefined;
  }
}
