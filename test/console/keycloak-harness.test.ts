// The OpenID provider of the single sign-on tests (test/harness/keycloak.ts):
// the realm it imports is discovered with PKCE S256, and its login form answers
// an authorization request for the console's callback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKeycloak, startKeycloak } from '../harness/keycloak.ts';

describe('Keycloak harness', () => {
  let kc: RunningKeycloak;
  const redirect = 'http://127.0.0.1:1/console/oidc/callback';

  beforeAll(async () => {
    kc = await startKeycloak({
      redirectUris: [redirect],
      users: [{ username: 'ada', password: 'pw-ada-1', email: 'ada@example.test' }],
    });
    console.log(`Keycloak started in ${Math.round(kc.startedInMs / 1000)} s`);
  }, 300_000);
  afterAll(async () => kc?.stop(), 30_000);

  it('publishes a discovery document with PKCE S256 and an end-session endpoint', async () => {
    const doc = (await (await fetch(`${kc.issuer}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      code_challenge_methods_supported: string[];
      end_session_endpoint: string;
    };
    expect(doc.issuer).toBe(kc.issuer);
    expect(doc.code_challenge_methods_supported).toContain('S256');
    expect(doc.end_session_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });

  it('shows its login form for the console client', async () => {
    const url = new URL(`${kc.issuer}/protocol/openid-connect/auth`);
    url.search = new URLSearchParams({
      client_id: kc.clientId,
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's',
    }).toString();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="kc-form-login"');
  });
});
