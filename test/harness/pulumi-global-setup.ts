// vitest globalSetup of the `pulumi` project: builds the test engines that are
// missing (a fresh machine: `npm test` alone is enough; progress on stderr),
// so that the suites find the Pulumi CLI and its plugins.
import { ensureEngines } from '../engines/ensure.ts';

export default async function setup(): Promise<void> {
  await ensureEngines();
}
