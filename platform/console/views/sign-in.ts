/**
 * The sign-in form: one field, "Access key", and "Sign in"; with single
 * sign-on configured, "Sign in with single sign-on" first.
 */
import { type Html, html } from '../html.ts';
import type { Flash } from '../sessions.ts';
import { type Assets, page } from './layout.ts';

export function signInPage(assets: Assets, flash: Flash[], sso: boolean): Html {
  return page(
    { title: 'Sign in', assets, flash },
    html`<h1>Sign in</h1>
${
  sso
    ? html`<form method="post" action="/console/oidc/start" class="sign-in sso">
  <p class="help">People of an organisation sign in with their company account.</p>
  <button type="submit">Sign in with single sign-on</button>
</form>
<p class="or">Or, for machines and emergencies:</p>`
    : ''
}
<form method="post" action="/console/sign-in" class="sign-in">
  <label for="key">Access key</label>
  <input id="key" name="key" type="password" required autocomplete="off" spellcheck="false" aria-describedby="key-help">
  <p id="key-help" class="help">The administrator key, or an access key of your entity. The console keeps it on the server for this session only.</p>
  <button type="submit">Sign in</button>
</form>`,
  );
}
