/**
 * The near-heap-limit warning shared by `tokenplane operator` and
 * `tokenplane serve` (core/heap-watch.ts): once per climb past 85 % of the
 * limit, each command saying what to raise.
 */
import { describe, expect, it } from 'vitest';
import { watchHeap } from '../../core/heap-watch.ts';
import { createLogger } from '../../core/logging.ts';
import { watchServeHeap } from '../../platform/serve.ts';

describe('heap watch', () => {
  it('warns once per climb past the threshold, sets the gauge, and re-arms below the clear mark', () => {
    const warnings: string[] = [];
    const log = { warn: (_o: object, msg: string) => warnings.push(msg) } as never;
    let used = 50;
    let ratio = 0;
    const watch = watchHeap({
      log,
      advice: 'raise it',
      set: (r) => {
        ratio = r;
      },
      intervalMs: 60_000,
      stats: () => ({ used_heap_size: used * 2 ** 20, heap_size_limit: 100 * 2 ** 20 }),
    });
    try {
      watch.check();
      expect(ratio).toBe(0.5);
      used = 90;
      watch.check();
      watch.check();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('90 of 100 MB');
      used = 80;
      watch.check();
      used = 95;
      watch.check();
      expect(warnings).toHaveLength(1);
      used = 70;
      watch.check();
      used = 88;
      watch.check();
      expect(warnings).toHaveLength(2);
    } finally {
      watch.stop();
    }
  });
});

describe('tokenplane serve', () => {
  it('logs the warning through its logger, naming what to raise', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', stream: { write: (line) => lines.push(line) } });
    let used = 100;
    const watch = watchServeHeap(log, () => ({
      used_heap_size: used * 2 ** 20,
      heap_size_limit: 176 * 2 ** 20,
    }));
    try {
      watch.check();
      expect(lines).toEqual([]);
      used = 160;
      watch.check();
      watch.check();
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0] as string);
      expect(line).toMatchObject({ level: 40, heapUsedMB: 160, heapLimitMB: 176, ratio: 0.91 });
      expect(line.msg).toContain('heap near its limit (160 of 176 MB)');
      expect(line.msg).toContain('--max-old-space-size in NODE_OPTIONS');
      expect(line.msg).toContain('README, Memory under load');
    } finally {
      watch.stop();
    }
  });
});
