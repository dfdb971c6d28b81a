/**
 * The entity page: name, kind, tier, "N of Q" tokens, its actions, and the
 * tokens table (README "Console") with "New", "Show token" and the "More actions" menu.
 * What the credential may not do is not offered: a viewer sees no write action.
 */
import type { Entity, Token } from '../../../core/client/index.ts';
import { type Html, html } from '../html.ts';
import type { TierChoice } from '../tiers.ts';
import { editEntityDialog, newEntityDialog, newTokenDialog } from './dialogs.ts';
import { capitalise, plural, when } from './format.ts';

export type EntityView = {
  entity: Entity;
  parent: Entity | null;
  tokens: Token[];
  csrf: string;
  /** May write tokens and children (an admin-role credential). */
  canWrite: boolean;
  /** May rename the entity or change its tier (a credential from above it). */
  canGovern: boolean;
  /** Tier choices for a new child and for this entity's edit form. */
  childTiers: TierChoice[];
  ownTiers: TierChoice[];
};

export function entityMain(v: EntityView): Html {
  const { entity } = v;
  return html`${v.parent ? html`<p class="crumbs">Under <a href="/console/entities/${v.parent.id}">${v.parent.name}</a></p>` : ''}
<h1>${entity.name}</h1>
<dl class="facts">
  <div><dt>Kind</dt><dd>${capitalise(entity.kind)}</dd></div>
  <div><dt>Tier</dt><dd>${capitalise(entity.tier)}</dd></div>
  <div><dt>Tokens</dt><dd>${entity.tokenCount} of ${entity.tokenQuota}</dd></div>
</dl>
<div class="actions">
  ${v.canGovern ? html`<button type="button" data-open="edit-entity">Edit entity</button>` : ''}
  ${v.canWrite && entity.kind === 'reseller' ? html`<button type="button" data-open="new-entity">New entity</button>` : ''}
  <a href="/console/entities/${entity.id}/members">Members</a>
  <a href="/console/entities/${entity.id}/audit">Audit log</a>
</div>
${tokensSection(v)}
${v.canGovern ? editEntityDialog(entity, v.ownTiers, v.csrf) : ''}
${v.canWrite && entity.kind === 'reseller' ? newEntityDialog(entity, v.childTiers, v.csrf) : ''}
${v.canWrite ? newTokenDialog(entity, v.csrf) : ''}`;
}

function tokensSection(v: EntityView): Html {
  const { entity, tokens } = v;
  const full = entity.tokenCount >= entity.tokenQuota;
  return html`<section aria-labelledby="tokens-title">
<h2 id="tokens-title">API tokens</h2>
${
  v.canWrite
    ? html`<div class="toolbar">
  <button type="button" data-open="new-token"${full ? html` disabled aria-describedby="quota-reason"` : ''}>New</button>
  ${full ? html`<p id="quota-reason" class="reason">${quotaReason(entity)}</p>` : ''}
</div>`
    : ''
}
${
  tokens.length === 0
    ? html`<p class="empty">This entity has no tokens.</p>`
    : html`<table class="tokens">
  <caption>Tokens of ${entity.name}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Created</th><th scope="col">Type</th><th scope="col">Scopes</th><th scope="col">Usage</th>${v.canWrite ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}</tr></thead>
  <tbody>${tokens.map((t) => row(t, v.canWrite))}</tbody>
</table>`
}
</section>`;
}

function quotaReason(entity: Entity): string {
  return (
    `${entity.name} holds ${entity.tokenCount} of the ${plural(entity.tokenQuota, 'token')} its tier "${entity.tier}" allows. ` +
    'Remove a token to make room, or ask whoever manages this entity for a higher tier.'
  );
}

function row(t: Token, canWrite: boolean): Html {
  const nameId = `token-${t.id}`;
  return html`<tr>
<th scope="row" id="${nameId}">${t.name} <span class="hint">${t.hint}</span></th>
<td data-label="Status">${capitalise(t.status)}</td>
<td data-label="Expires">${when(t.expiresAt)}</td>
<td data-label="Last used">${when(t.lastUsedAt)}</td>
<td data-label="Created">${when(t.createdAt)}</td>
<td data-label="Type">${capitalise(t.type)}</td>
<td data-label="Scopes">${t.scopes.length ? t.scopes.join(' ') : 'None'}</td>
<td data-label="Usage">${usage(t)}</td>
${canWrite ? html`<td class="row-actions">${rowActions(t, nameId)}</td>` : ''}
</tr>`;
}

/** "12 of 1000 this month (resets …)" for a usage-limited token; "No limit" otherwise. */
function usage(t: Token): Html {
  if (!t.usage) return html`No limit`;
  const { used, limit, period, resetsAt } = t.usage;
  const span = { day: 'today', month: 'this month', total: 'in total' }[period];
  return html`${used} of ${limit} ${span}${resetsAt ? html`, resets ${when(resetsAt)}` : ''}`;
}

/**
 * A row's menu: "Edit", "Rotate" and "Remove" fetch their dialog from the server
 * when chosen (fresh, and the page stays small); "Copy" fetches the value.
 */
function rowActions(t: Token, nameId: string): Html {
  const menuId = `menu-${t.id}`;
  return html`<button type="button" class="icon" data-reveal="${t.id}" data-name="${t.name}" aria-label="Show token" aria-describedby="${nameId}">${eye}</button>
<div class="menu-wrap">
  <button type="button" class="icon" aria-label="More actions" aria-describedby="${nameId}" aria-haspopup="menu" aria-expanded="false" aria-controls="${menuId}">${dots}</button>
  <ul role="menu" id="${menuId}" aria-label="Actions for ${t.name}" hidden>
    <li role="none"><button type="button" role="menuitem" tabindex="-1" data-dialog="/console/tokens/${t.id}/dialogs/edit">Edit</button></li>
    <li role="none"><button type="button" role="menuitem" tabindex="-1" data-copy="${t.id}">Copy</button></li>
    <li role="none"><button type="button" role="menuitem" tabindex="-1" data-dialog="/console/tokens/${t.id}/dialogs/rotate">Rotate</button></li>
    <li role="none"><button type="button" role="menuitem" tabindex="-1" data-dialog="/console/tokens/${t.id}/dialogs/remove">Remove</button></li>
  </ul>
</div>`;
}

const eye = html`<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20"><path d="M12 5C6.5 5 2.7 9.2 1.5 12c1.2 2.8 5 7 10.5 7s9.3-4.2 10.5-7C21.3 9.2 17.5 5 12 5zm0 11.5a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9zm0-2.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4z"/></svg>`;
const dots = html`<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20"><circle cx="5" cy="12" r="2"/><circle cx="12" cy="12" r="2"/><circle cx="19" cy="12" r="2"/></svg>`;
