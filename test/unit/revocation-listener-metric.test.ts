// tokenplane_revocation_listener_up, which the RevocationListenerDown alert reads:
// absent on a server that has no listener (SQLite), 0 from the start on one whose
// listener has not connected yet — a server that never reaches PostgreSQL's
// channel alerts too. The connected case (1) is in test/platform/revocation.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PlatformMetrics } from '../../platform/server/metrics.ts';
import { RevocationListener } from '../../platform/storage/listener.ts';
import { freePort } from '../harness/ports.ts';

describe('the revocation listener series', () => {
  it('is absent without a listener', async () => {
    const metrics = new PlatformMetrics();
    expect(await metrics.registry.metrics()).not.toContain('tokenplane_revocation_listener_up');
  });

  it('is 0 while the listener cannot connect', async () => {
    const metrics = new PlatformMetrics();
    const port = await freePort(); // nothing listens there
    const listener = new RevocationListener(
      `postgres://postgres@127.0.0.1:${port}/tokenplane`,
      {
        onChange: () => {},
        onResync: () => {},
        onState: (up) => metrics.revocationListener.set(up ? 1 : 0),
      },
      pino({ level: 'silent' }),
    );
    try {
      await listener.start();
      expect(await metrics.registry.metrics()).toMatch(/^tokenplane_revocation_listener_up 0$/m);
    } finally {
      await listener.close();
    }
  });
});
