#!/usr/bin/env node
// tokenplane command line. In a checkout it runs the TypeScript sources through
// Node 24's type stripping (no build step); an installed package has no sources
// (Node refuses to type-strip under node_modules) and runs the JavaScript that
// `npm run build` put in dist/ when it was packed.
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `tokenplane needs Node.js 24 or newer (this is ${process.version}). ` +
      'Run it through "npm start" / "npx tokenplane", which use the Node 24 installed by npm install.\n',
  );
  process.exit(1);
}
const source = new URL('./cli.ts', import.meta.url);
const { main, withNodeFlags } = await import(
  existsSync(source) ? source.href : '../dist/bin/cli.js'
);
try {
  withNodeFlags(process.argv.slice(2));
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Operational errors (port in use, database unreachable, wrong key) get one
  // line; anything else its stack. TOKENPLANE_DEBUG=1 always shows the stack.
  const operational = error instanceof Error && ('code' in error || error.constructor === Error);
  const text =
    error instanceof Error
      ? operational && !process.env.TOKENPLANE_DEBUG
        ? error.message
        : (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`tokenplane: ${text}\n`);
  process.exitCode = 1;
}
