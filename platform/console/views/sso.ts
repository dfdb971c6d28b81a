/** The pages of single sign-on: a refusal, a choice among memberships, and the step into the console. */
import type { Member } from '../../../core/schemas/index.ts';
import { type Html, html } from '../html.ts';
import { type Assets, page } from './layout.ts';

/** Why single sign-on did not sign the person in, with the ways on. */
export function refusedPage(assets: Assets, text: string): Html {
  return page(
    { title: 'Single sign-on refused', assets },
    html`<h1>Single sign-on refused</h1>
<div class="alert" role="alert">${text}</div>
<form method="post" action="/console/oidc/start" class="sign-in">
  <input type="hidden" name="prompt" value="login">
  <button type="submit">Use another account</button>
</form>
<p><a href="/console/sign-in">Back to sign-in</a></p>`,
  );
}

/** An email with several memberships chooses which to act as. */
export function choicePage(
  assets: Assets,
  email: string,
  members: Member[],
  entityNames: string[],
  csrf: string,
): Html {
  return page(
    { title: 'Choose an organisation', assets },
    html`<h1>Choose an organisation</h1>
<p>${email} is a member of several organisations. Choose the one to work in; sign in again to switch.</p>
<ul class="choices">${members.map(
      (member, i) => html`<li><form method="post" action="/console/oidc/choose">
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="memberId" value="${member.id}">
  <button type="submit">${entityNames[i] ?? member.entityId} (${member.role})</button>
</form></li>`,
    )}</ul>`,
  );
}

/**
 * Signed in: the browser moves on from a page of this site, so it sends the
 * new SameSite=Strict session cookie (a refresh is navigation, allowed by the CSP).
 */
export function continuePage(assets: Assets): Html {
  return page(
    { title: 'Signed in', assets, refresh: '/console/' },
    html`<h1>Signed in</h1>
<p><a href="/console/">Continue to the console</a></p>`,
  );
}
