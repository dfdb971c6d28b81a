// Single sign-on's decisions (platform/console/oidc.ts): settings from the
// environment, the verified email of an ID token's claims, and what its
// memberships admit.
import { describe, expect, it } from 'vitest';
import type { Member } from '../../core/schemas/index.ts';
import { admit, oidcSettings, verifiedEmail } from '../../platform/console/oidc.ts';

const member = (id: string, entityId: string): Member => ({
  id,
  email: 'ada@example.com',
  role: 'admin',
  entityId,
  createdAt: '2026-12-05T00:00:00.000Z',
});

describe('oidcSettings', () => {
  it('is off when nothing is set, and all three are needed', () => {
    expect(oidcSettings({})).toBeNull();
    expect(() => oidcSettings({ TOKENPLANE_OIDC_ISSUER: 'http://127.0.0.1:1/realms/r' })).toThrow(
      /TOKENPLANE_OIDC_CLIENT_ID and TOKENPLANE_OIDC_CLIENT_SECRET not set/,
    );
    expect(() =>
      oidcSettings({
        TOKENPLANE_OIDC_ISSUER: 'not a url',
        TOKENPLANE_OIDC_CLIENT_ID: 'c',
        TOKENPLANE_OIDC_CLIENT_SECRET: 's',
      }),
    ).toThrow(/https URL of the issuer/);
    expect(() =>
      oidcSettings({
        TOKENPLANE_OIDC_ISSUER: 'http://id.example.com/realms/r',
        TOKENPLANE_OIDC_CLIENT_ID: 'c',
        TOKENPLANE_OIDC_CLIENT_SECRET: 's',
      }),
    ).toThrow(/http only on loopback/);
    const s = oidcSettings({
      TOKENPLANE_OIDC_ISSUER: 'http://127.0.0.1:1/realms/r',
      TOKENPLANE_OIDC_CLIENT_ID: 'console',
      TOKENPLANE_OIDC_CLIENT_SECRET: 'secret',
    });
    expect(s?.issuer.href).toBe('http://127.0.0.1:1/realms/r');
    expect(s?.clientId).toBe('console');
  });
});

describe('verifiedEmail', () => {
  it('takes a verified email only, in lower case', () => {
    expect(verifiedEmail({ email: 'Ada@Example.com', email_verified: true })).toEqual({
      email: 'ada@example.com',
    });
    expect(verifiedEmail({ email: 'ada@example.com', email_verified: false })).toMatchObject({
      refused: expect.stringMatching(/not verified/),
    });
    expect(verifiedEmail({ email: 'ada@example.com', email_verified: 'true' })).toMatchObject({
      refused: expect.stringMatching(/not verified/),
    });
    expect(verifiedEmail({ sub: 'x' })).toMatchObject({
      refused: expect.stringMatching(/email address/),
    });
    expect(verifiedEmail(undefined)).toMatchObject({ refused: expect.any(String) });
  });
});

describe('admit', () => {
  it('signs one membership in, offers a choice of several, refuses a stranger saying whom to ask', () => {
    const one = member('m1', 'e1');
    const two = member('m2', 'e2');
    expect(admit('ada@example.com', [one])).toEqual({ kind: 'member', member: one });
    expect(admit('ada@example.com', [one, two])).toEqual({ kind: 'choose', members: [one, two] });
    const refused = admit('eve@example.com', []);
    expect(refused.kind).toBe('refused');
    expect(refused.kind === 'refused' && refused.message).toMatch(
      /eve@example.com is not a member.*Ask an administrator of your organisation/,
    );
  });
});
