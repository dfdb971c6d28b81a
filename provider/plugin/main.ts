// The entry point of `pulumi-resource-tokenplane` (bundled by build.ts): the
// engine starts it with its own address and reads the port it prints.
import { TokenplaneProvider } from './provider.ts';
import { schemaText } from './schema.ts';
import { serve } from './server.ts';

declare const TOKENPLANE_VERSION: string;

await serve(
  new TokenplaneProvider(TOKENPLANE_VERSION, schemaText(TOKENPLANE_VERSION)),
  process.argv.slice(2),
);
