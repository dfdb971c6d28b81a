/** The sign-in form: one field, "Access key", and "Sign in". */
import { type Html, html } from '../html.ts';
import type { Flash } from '../sessions.ts';
import { type Assets, page } from './layout.ts';

export function signInPage(assets: Assets, flash: Flash[]): Html {
  return page(
    { title: 'Sign in', assets, flash },
    html`<h1>Sign in</h1>
<form method="post" action="/console/sign-in" class="sign-in">
  <label for="key">Access key</label>
  <input id="key" name="key" type="password" required autocomplete="off" spellcheck="false" aria-describedby="key-help">
  <p id="key-help" class="help">The administrator key, or an access key of your entity. The console keeps it on the server for this session only.</p>
  <button type="submit">Sign in</button>
</form>`,
  );
}
