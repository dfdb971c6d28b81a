/**
 * The console's forms, each in a <dialog> opened by a button or menu item (the
 * script calls showModal). Every form posts to the console with its CSRF token;
 * the server answers with a redirect back to the entity (post/redirect/get).
 */
import { randomUUID } from 'node:crypto';
import type { Entity, Token } from '../../client/index.ts';
import { type Html, html } from '../html.ts';
import type { TierChoice } from '../tiers.ts';
import { capitalise, dateTimeLocal } from './format.ts';
import { csrfField } from './layout.ts';

function dialog(id: string, title: string, action: string, csrf: string, body: Html): Html {
  return html`<dialog id="${id}" aria-labelledby="${id}-title">
<form method="post" action="${action}">
  <h2 id="${id}-title">${title}</h2>
  ${csrfField(csrf)}
  ${body}
</form>
</dialog>`;
}

function buttons(submit: string): Html {
  return html`<div class="buttons"><button type="submit">${submit}</button><button type="button" data-close>Cancel</button></div>`;
}

/** A create form carries an Idempotency-Key, so a double submission issues once. */
function idempotencyField(): Html {
  return html`<input type="hidden" name="idempotencyKey" value="${randomUUID()}">`;
}

export function newTokenDialog(entity: Entity, csrf: string): Html {
  return dialog(
    'new-token',
    'New token',
    `/console/entities/${entity.id}/tokens`,
    csrf,
    html`${idempotencyField()}
  <label for="new-token-name">Name</label>
  <input id="new-token-name" name="name" required maxlength="200" autocomplete="off" aria-describedby="new-token-help">
  <p id="new-token-help" class="help">Everything else is filled in for you: active, expires in 365 days. Edit it later to change that.</p>
  ${buttons('Create')}`,
  );
}

export function editTokenDialog(token: Token, csrf: string): Html {
  const id = `edit-${token.id}`;
  return dialog(
    id,
    `Edit token "${token.name}"`,
    `/console/tokens/${token.id}`,
    csrf,
    html`<input type="hidden" name="entityId" value="${token.entityId}">
  <input type="hidden" name="expiresWas" value="${token.expiresAt ?? ''}">
  <label for="${id}-name">Name</label>
  <input id="${id}-name" name="name" required maxlength="200" value="${token.name}" autocomplete="off">
  <label for="${id}-expires">Expires</label>
  <input id="${id}-expires" name="expiresAt" type="datetime-local" value="${dateTimeLocal(token.expiresAt)}" aria-describedby="${id}-expires-help">
  <p id="${id}-expires-help" class="help">In UTC. Leave it empty for a token that never expires.</p>
  <label for="${id}-status">Status</label>
  <select id="${id}-status" name="status">
    ${(['active', 'disabled'] as const).map(
      (s) =>
        html`<option value="${s}"${s === token.status ? html` selected` : ''}>${capitalise(s)}</option>`,
    )}
  </select>
  ${buttons('Save')}`,
  );
}

/** Grace periods offered on rotation: how long the previous value keeps working. */
export const GRACE_CHOICES = [
  { seconds: 0, label: 'No grace period: the old value stops at once' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
] as const;

export function rotateDialog(token: Token, csrf: string): Html {
  const id = `rotate-${token.id}`;
  return dialog(
    id,
    `Rotate token "${token.name}"`,
    `/console/tokens/${token.id}/rotate`,
    csrf,
    html`<input type="hidden" name="entityId" value="${token.entityId}">
  ${idempotencyField()}
  <p>The token gets a new value. Applications must switch to it before the old value stops working.</p>
  <label for="${id}-grace">Old value keeps working for</label>
  <select id="${id}-grace" name="gracePeriodSeconds">
    ${GRACE_CHOICES.map((g) => html`<option value="${g.seconds}">${g.label}</option>`)}
  </select>
  ${buttons('Rotate')}`,
  );
}

export function removeDialog(token: Token, csrf: string): Html {
  return dialog(
    `remove-${token.id}`,
    `Remove token "${token.name}"?`,
    `/console/tokens/${token.id}/remove`,
    csrf,
    html`<input type="hidden" name="entityId" value="${token.entityId}">
  <p>Applications that use it stop working at once. This cannot be undone.</p>
  ${buttons('Remove')}`,
  );
}

/** The tier field: tiers the platform would refuse are disabled, and why is written beside it. */
function tierField(id: string, choices: TierChoice[], selected: string): Html {
  const refused = choices.filter((c) => c.reason);
  return html`<label for="${id}-tier">Tier</label>
  <select id="${id}-tier" name="tier"${refused.length ? html` aria-describedby="${id}-tier-why"` : ''}>
    ${choices.map(
      (c) =>
        html`<option value="${c.name}"${c.name === selected ? html` selected` : ''}${c.reason ? html` disabled` : ''}>${capitalise(c.name)} (${c.tokenQuota} token${c.tokenQuota === 1 ? '' : 's'})${c.reason ? ' — not available' : ''}</option>`,
    )}
  </select>
  ${
    refused.length
      ? html`<ul id="${id}-tier-why" class="help why">${refused.map(
          (c) => html`<li>${capitalise(c.name)} is not available: ${c.reason}</li>`,
        )}</ul>`
      : ''
  }`;
}

export function newEntityDialog(parent: Entity | null, choices: TierChoice[], csrf: string): Html {
  const allowed = choices.filter((c) => !c.reason);
  const lowest = allowed[0]?.name ?? '';
  return dialog(
    'new-entity',
    parent ? `New entity under "${parent.name}"` : 'New top-level entity',
    '/console/entities',
    csrf,
    html`${idempotencyField()}
  ${parent ? html`<input type="hidden" name="parentId" value="${parent.id}">` : ''}
  <label for="new-entity-name">Name</label>
  <input id="new-entity-name" name="name" required maxlength="200" autocomplete="off">
  <label for="new-entity-kind">Kind</label>
  <select id="new-entity-kind" name="kind">
    <option value="customer">Customer</option>
    <option value="reseller">Reseller</option>
  </select>
  ${tierField('new-entity', choices, lowest)}
  ${buttons('Create')}`,
  );
}

export function editEntityDialog(entity: Entity, choices: TierChoice[], csrf: string): Html {
  return dialog(
    'edit-entity',
    `Edit entity "${entity.name}"`,
    `/console/entities/${entity.id}`,
    csrf,
    html`<label for="edit-entity-name">Name</label>
  <input id="edit-entity-name" name="name" required maxlength="200" value="${entity.name}" autocomplete="off">
  ${tierField('edit-entity', choices, entity.tier)}
  ${buttons('Save')}`,
  );
}
