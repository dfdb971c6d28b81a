/**
 * Log volume (issue 13.10): requests are logged at debug, so a flood of 401s
 * writes nothing at the default level — and is still counted in /metrics; a
 * failure that repeats is logged once per interval with the count held back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogThrottle } from '../../core/logging.ts';
import { type Platform, startPlatform } from './helpers.ts';

describe('request logs at the default level', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform('sqlite', { logLevel: 'info' });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('a flood of refusals writes no log line and is counted by slug', async () => {
    const before = p.logs.lines.length;
    for (let i = 0; i < 30; i++) {
      await p.api.get('/v1/entities', { key: `tpk_not-a-key-${i}` });
      await p.api.get('/v1/analytics/metrics', { key: null });
    }
    await p.api.get('/v1/entities');
    expect(p.logs.lines.slice(before)).toEqual([]);
    const metrics = (await p.api.get('/metrics', { key: null })).text;
    expect(metrics).toMatch(/tokenplane_problems_total\{slug="unauthorized"\} 60/);
  });
});

describe('LogThrottle', () => {
  it('writes a repeated message once per interval, then says how many it held back', () => {
    let now = 0;
    const lines: [Record<string, unknown>, string][] = [];
    const log = {
      warn: (o: Record<string, unknown>, m: string) => lines.push([o, m]),
      error: () => {},
    };
    const throttle = new LogThrottle(60_000, () => now);
    for (let i = 0; i < 100; i++) throttle.write(log, 'warn', { i }, 'database unreachable');
    throttle.write(log, 'warn', {}, 'another problem');
    now = 60_000;
    throttle.write(log, 'warn', { i: 100 }, 'database unreachable');
    expect(lines).toEqual([
      [{ i: 0 }, 'database unreachable'],
      [{}, 'another problem'],
      [{ i: 100, suppressed: 99 }, 'database unreachable'],
    ]);
  });
});
