/** The problems the repository raises itself (the domain rules bring their own). */
import { ProblemError, validationProblem } from '../../core/domain/problems.ts';
import type { TierTable } from '../../core/domain/tiers.ts';

export function notFound(what: string, id: string): ProblemError {
  return new ProblemError('not-found', `No ${what} with id ${id} exists in your scope.`);
}

export function preconditionFailed(what: string, id: string): ProblemError {
  return new ProblemError(
    'precondition-failed',
    `The ${what} ${id} changed since you read it (If-Match does not match its ETag). Read it again and retry.`,
  );
}

export function unknownTier(tiers: TierTable, name: string): ProblemError {
  return validationProblem([
    { path: 'tier', message: `unknown tier "${name}"; known tiers: ${tiers.names.join(', ')}` },
  ]);
}
