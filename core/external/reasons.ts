/**
 * The one table of reasons, for both drivers: the operator writes them into
 * `Ready`/`Synced` conditions and Warning Events, the provider's messages come
 * with them. CamelCase, as Kubernetes conditions want (README "Kubernetes operator").
 */
export const Reasons = {
  /** Ready=True. */
  Available: 'Available',
  /** Synced=True / Synced=False. */
  ReconcileSuccess: 'ReconcileSuccess',
  ReconcileError: 'ReconcileError',
  /** Waiting on another object of the same namespace. */
  EntityNotReady: 'EntityNotReady',
  ParentNotReady: 'ParentNotReady',
  /** Refusals: by the planner ahead of the platform, or by the platform itself. */
  QuotaExceeded: 'QuotaExceeded',
  TierCeilingExceeded: 'TierCeilingExceeded',
  /** README "Token permissions and limits": a declared scope the entity's tier does not include; clears after an upgrade. */
  ScopeAboveTier: 'ScopeAboveTier',
  HasChildren: 'HasChildren',
  /** README "Lifecycle events, leak response, revocation across servers": the token's value was reported exposed; it stays disabled until rotated on the platform. */
  TokenExposed: 'TokenExposed',
  NotFound: 'NotFound',
  EntityMismatch: 'EntityMismatch',
  NeedsReplace: 'NeedsReplace',
  InvalidSpec: 'InvalidSpec',
  SecretConflict: 'SecretConflict',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  Conflict: 'Conflict',
  /**
   * A create repeated after a crash with a changed declaration (422), or whose
   * earlier result is partly gone (410): nothing is issued again; a person decides.
   */
  IdempotencyConflict: 'IdempotencyConflict',
  IdempotencyGone: 'IdempotencyGone',
  PlatformUnavailable: 'PlatformUnavailable',
  PlatformError: 'PlatformError',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** A decision not to act, with what a person can do about it. */
export type Refusal = {
  action: 'refuse';
  reason: Reason;
  message: string;
  /** Worth trying again without a change to the declaration (room or a parent may appear). */
  retryable: boolean;
  /** The declared field at fault, when there is one (the provider names it in `check`). */
  field?: string;
};

export const refuse = (
  reason: Reason,
  message: string,
  retryable: boolean,
  field?: string,
): Refusal => ({ action: 'refuse', reason, message, retryable, ...(field ? { field } : {}) });

/** The declared id names nothing the API key can see. */
export const notFound = (what: string, id: string, field: string, instead: string): Refusal =>
  refuse(
    Reasons.NotFound,
    `No platform ${what} has id ${id} (${field}), or it is outside the API key's reach. ` +
      `Check the id, or ${instead}.`,
    true,
    field,
  );
