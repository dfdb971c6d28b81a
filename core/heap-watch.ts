/**
 * The heap against its limit (`--max-old-space-size`), for `tokenplane serve`
 * and `tokenplane operator` alike: one warning log line each time the share in
 * use climbs past `warnAt` (again only after it fell below `clearAt`), so a
 * person sees the out-of-memory crash coming and knows what to raise — the
 * `advice` of each command; `set` reports the share to a gauge.
 */
import { getHeapStatistics } from 'node:v8';

export type HeapWatch = { stop(): void; check(): number };

export type HeapStats = () => { used_heap_size: number; heap_size_limit: number };

export function watchHeap(opts: {
  log: { warn(obj: object, msg: string): void };
  /** What to do about it, ending the warning: `raise --max-old-space-size …`. */
  advice: string;
  set?(ratio: number): void;
  intervalMs?: number;
  warnAt?: number;
  clearAt?: number;
  stats?: HeapStats;
}): HeapWatch {
  const warnAt = opts.warnAt ?? 0.85;
  const clearAt = opts.clearAt ?? 0.75;
  const stats = opts.stats ?? getHeapStatistics;
  let warned = false;
  const check = () => {
    const { used_heap_size: used, heap_size_limit: limit } = stats();
    const ratio = used / limit;
    opts.set?.(ratio);
    if (!warned && ratio >= warnAt) {
      warned = true;
      const mb = (n: number) => Math.round(n / 2 ** 20);
      opts.log.warn(
        { heapUsedMB: mb(used), heapLimitMB: mb(limit), ratio: +ratio.toFixed(2) },
        `heap near its limit (${mb(used)} of ${mb(limit)} MB): ${opts.advice}`,
      );
    } else if (warned && ratio < clearAt) warned = false;
    return ratio;
  };
  const timer = setInterval(check, opts.intervalMs ?? 10_000);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}
