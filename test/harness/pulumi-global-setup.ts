// vitest globalSetup of the `pulumi` project: fails the run early, with the
// command to run, when the Pulumi engines have not been built.
import { requireEngines } from '../engines/engines.ts';

export default function setup(): void {
  requireEngines('pulumi', 'pulumi-resource-pulumi-nodejs');
}
