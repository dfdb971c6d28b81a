// `npm run plugin:schema`: writes provider/schema.json from the zod schemas (schema.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaText } from './schema.ts';
import { packageVersion } from './version.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema.json', import.meta.url));

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, schemaText(packageVersion()));
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
