// The plugin's version is the package's (plugin tarball, schema, SDKs).
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const pkg = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}
