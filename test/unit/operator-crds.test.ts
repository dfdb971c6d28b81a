import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CRD_DIR, renderCrds } from '../../operator/crds/generate.ts';

describe('CRDs', () => {
  it('committed crds/*.yaml match the zod schemas (run `npm run crds` after changing them)', () => {
    for (const [file, text] of Object.entries(renderCrds())) {
      expect(readFileSync(CRD_DIR + file, 'utf8'), `crds/${file} is stale: run npm run crds`).toBe(
        text,
      );
    }
  });

  it('describes every spec field, so `kubectl explain` is useful', () => {
    const undocumented: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [key, child] of Object.entries(props)) {
        if (!child.description && !['apiVersion', 'kind', 'metadata', 'name'].includes(key)) {
          if (!path.includes('status')) undocumented.push(`${path}.${key}`);
        }
        walk(child, `${path}.${key}`);
      }
    };
    for (const text of Object.values(renderCrds())) {
      const yaml = text.split('\n').slice(1).join('\n');
      const crd = JSON.parse(JSON.stringify(require_yaml(yaml)));
      walk(crd.spec.versions[0].schema.openAPIV3Schema, crd.spec.names.kind);
    }
    expect(undocumented).toEqual([]);
  });
});

import YAML from 'yaml';

function require_yaml(text: string): unknown {
  return YAML.parse(text);
}
