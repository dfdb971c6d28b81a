// The entry point of `pulumi-resource-tokenplane` (bundled by build.ts): the
// engine starts it with its own address and reads the port it prints.

import { startProviderTracing } from '../impl/tracing.ts';
import { TokenplaneProvider } from './provider.ts';
import { schemaText } from './schema.ts';
import { serve } from './server.ts';

declare const TOKENPLANE_VERSION: string;

const tracing = await startProviderTracing();
if (tracing) {
  // The engine ends its plugins with a signal: the last spans go out first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      tracing.shutdown().finally(() => process.exit(0));
    });
  }
}
await serve(
  new TokenplaneProvider(TOKENPLANE_VERSION, schemaText(TOKENPLANE_VERSION)),
  process.argv.slice(2),
  tracing !== null,
);
