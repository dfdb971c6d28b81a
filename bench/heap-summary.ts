/**
 * Where a V8 heap snapshot's bytes are: self sizes summed by what each node is
 * (an object's constructor, a plain object's first keys, or the node type for
 * code, arrays …; strings by the property that holds them, `string .uid`), the
 * largest first. `node bench/heap-summary.ts FILE.heapsnapshot [TOP]`; also used
 * by bench/operator.ts with BENCH_HEAP_SNAPSHOT=1.
 */
import { readFileSync } from 'node:fs';

type Snapshot = {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
};

export type HeapSummary = {
  totalMB: number;
  objects: number;
  top: { what: string; count: number; MB: number; share: string }[];
};

export function summarizeHeap(path: string, top = 15): HeapSummary {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [TYPE, NAME, SIZE, EDGES] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    fields.indexOf(f),
  ) as [number, number, number, number];
  const width = fields.length;
  const edgeWidth = snap.snapshot.meta.edge_fields.length;
  const edgeName = snap.snapshot.meta.edge_fields.indexOf('name_or_index');
  const propertyType = snap.snapshot.meta.edge_types[0].indexOf('property');
  const holders = stringHolders(snap, width, edgeWidth);
  const sums = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + TYPE] as number] as string;
    const size = snap.nodes[i + SIZE] as number;
    const edges = snap.nodes[i + EDGES] as number;
    const name = snap.strings[snap.nodes[i + NAME] as number] as string;
    // Objects by constructor — plain ones by their keys, which tell a cached ApiToken
    // from its metadata; strings, code, arrays … by kind (their names are contents).
    let what = type;
    if (type.endsWith('string')) what = `${type} ${holders.get(i / width) ?? ''}`.trim();
    if (type === 'closure') what = `closure ${name}`;
    if (type === 'object') {
      what = `object ${name}`;
      if (name === 'Object') {
        const keys: string[] = [];
        for (let e = edge; e < edge + edges * edgeWidth && keys.length < 6; e += edgeWidth) {
          const key = snap.strings[snap.edges[e + edgeName] as number] as string;
          if (snap.edges[e] === propertyType && key !== '__proto__') keys.push(key);
        }
        what = `{${keys.join(',')}}`;
      }
    }
    edge += edges * edgeWidth;
    const sum = sums.get(what) ?? { count: 0, bytes: 0 };
    sum.count++;
    sum.bytes += size;
    sums.set(what, sum);
    total += size;
  }
  return {
    totalMB: +(total / 2 ** 20).toFixed(1),
    objects: snap.nodes.length / width,
    top: [...sums]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([what, { count, bytes }]) => ({
        what,
        count,
        MB: +(bytes / 2 ** 20).toFixed(1),
        share: `${((100 * bytes) / total).toFixed(1)} %`,
      })),
  };
}

/**
 * Per string node, the name of a property that refers to it (`.uid`), found by
 * walking every edge once; strings held only by elements or internals are absent.
 */
function stringHolders(snap: Snapshot, width: number, edgeWidth: number): Map<number, string> {
  const meta = snap.snapshot.meta;
  const nodeType = meta.node_fields.indexOf('type');
  const stringTypes = new Set(
    meta.node_types[0].flatMap((t, i) => (t.endsWith('string') ? [i] : [])),
  );
  const [TYPE, NAME, TO] = ['type', 'name_or_index', 'to_node'].map((f) =>
    meta.edge_fields.indexOf(f),
  ) as [number, number, number];
  const property = meta.edge_types[0].indexOf('property');
  const holders = new Map<number, string>();
  for (let e = 0; e < snap.edges.length; e += edgeWidth) {
    if (snap.edges[e + TYPE] !== property) continue;
    const to = (snap.edges[e + TO] as number) / width;
    if (!stringTypes.has(snap.nodes[to * width + nodeType] as number)) continue;
    if (!holders.has(to)) holders.set(to, `.${snap.strings[snap.edges[e + NAME] as number]}`);
  }
  return holders;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    console.error('usage: node bench/heap-summary.ts FILE.heapsnapshot [TOP]');
    process.exit(2);
  }
  console.log(JSON.stringify(summarizeHeap(path, Number(top ?? 15)), null, 2));
}
