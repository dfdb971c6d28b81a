/**
 * The console's forms, each in a <dialog> opened by a button or menu item (the
 * script calls showModal). Every form posts to the console with its CSRF token;
 * the server answers with a redirect back to the entity (post/redirect/get).
 */
import { randomUUID } from 'node:crypto';
import type { Entity, Token } from '../../../core/client/index.ts';
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
  <label for="new-token-type">Type</label>
  <select id="new-token-type" name="type" aria-describedby="new-token-type-help">
    <option value="secret" selected>Secret (for servers)</option>
    <option value="publishable">Publishable (for web pages)</option>
  </select>
  <label for="new-token-origins">Allowed origins</label>
  <textarea id="new-token-origins" name="allowedOrigins" rows="2" aria-describedby="new-token-type-help"></textarea>
  <p id="new-token-type-help" class="help">A publishable token needs at least one allowed origin: the web pages that use it, one per line (<code>https://host[:port]</code> or <code>https://*.example.com</code>). The type cannot change later.</p>
  ${buttons('Create')}`,
  );
}

/**
 * @param premiumReason why the extensive metrics cannot be granted at this
 *   entity's tier (null when they can)
 */
export function editTokenDialog(token: Token, csrf: string, premiumReason: string | null): Html {
  const id = `edit-${token.id}`;
  return dialog(
    id,
    `Edit token "${token.name}"`,
    `/console/tokens/${token.id}`,
    csrf,
    html`<input type="hidden" name="entityId" value="${token.entityId}">
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
  ${permissionFields(id, token, premiumReason)}
  ${buttons('Save')}`,
  );
}

const SCOPE_SETS = [
  { scope: 'metrics:read', label: 'All metrics of the tier' },
  { scope: 'metrics:core:read', label: 'Basic metrics' },
  { scope: 'metrics:premium:read', label: 'Extensive metrics' },
] as const;

/** The permissions and limits of README "Token permissions and limits" (everything but the type, fixed at creation). */
function permissionFields(id: string, token: Token, premiumReason: string | null): Html {
  const single = token.scopes
    .map((s) => /^metric:(.+):read$/.exec(s)?.[1])
    .filter((m): m is string => m !== undefined);
  const publishable = token.type === 'publishable';
  return html`<fieldset>
    <legend>Scopes</legend>
    ${SCOPE_SETS.map(({ scope, label }) => {
      const checked = token.scopes.includes(scope);
      const refused = scope === 'metrics:premium:read' && premiumReason !== null && !checked;
      return html`<label class="check"><input type="checkbox" name="scope" value="${scope}"${checked ? html` checked` : ''}${refused ? html` disabled aria-describedby="${id}-premium-why"` : ''}> ${label} <code>${scope}</code></label>
    ${refused ? html`<p id="${id}-premium-why" class="help">Not available: ${premiumReason}</p>` : ''}`;
    })}
    <label for="${id}-metrics">Single metrics</label>
    <input id="${id}-metrics" name="metrics" value="${single.join(' ')}" autocomplete="off" aria-describedby="${id}-metrics-help">
    <p id="${id}-metrics-help" class="help">Metric names separated by spaces, e.g. <code>requests bandwidth</code>. No scope at all: the token authenticates but reads nothing.</p>
  </fieldset>
  <label for="${id}-origins">Allowed origins</label>
  <textarea id="${id}-origins" name="allowedOrigins" rows="2" aria-describedby="${id}-origins-help">${token.allowedOrigins.join('\n')}</textarea>
  <p id="${id}-origins-help" class="help">One per line: <code>https://host[:port]</code> or <code>https://*.example.com</code>. Empty: any origin.${publishable ? ' A publishable token needs at least one.' : ''}</p>
  <label for="${id}-ips">Allowed IP addresses</label>
  <textarea id="${id}-ips" name="allowedIps" rows="2" aria-describedby="${id}-ips-help">${token.allowedIps.join('\n')}</textarea>
  <p id="${id}-ips-help" class="help">One per line: addresses or CIDR ranges. Empty: any address.</p>
  <fieldset>
    <legend>Rate limit</legend>
    <label for="${id}-rate-requests">Requests per window</label>
    <input id="${id}-rate-requests" name="rateRequests" type="number" min="1" value="${token.rateLimit?.requests ?? ''}">
    <label for="${id}-rate-window">Window (seconds)</label>
    <input id="${id}-rate-window" name="ratePerSeconds" type="number" min="1" value="${token.rateLimit?.perSeconds ?? ''}">
  </fieldset>
  <fieldset>
    <legend>Usage limit</legend>
    <label for="${id}-usage-limit">Requests per period</label>
    <input id="${id}-usage-limit" name="usageLimit" type="number" min="0" value="${token.usageLimit?.limit ?? ''}" aria-describedby="${id}-usage-help">
    <label for="${id}-usage-period">Period</label>
    <select id="${id}-usage-period" name="usagePeriod">
      ${(['day', 'month', 'total'] as const).map(
        (p) =>
          html`<option value="${p}"${(token.usageLimit?.period ?? 'month') === p ? html` selected` : ''}>${PERIODS[p]}</option>`,
      )}
    </select>
    <p id="${id}-usage-help" class="help">Empty: no limit.</p>
  </fieldset>
  <label class="check"><input type="checkbox" name="requireSignedRequests" value="on"${token.requireSignedRequests ? html` checked` : ''}${publishable ? html` disabled aria-describedby="${id}-signed-why"` : ''}> Require signed requests (RFC 9421)</label>
  ${publishable ? html`<p id="${id}-signed-why" class="help">A publishable token cannot require signed requests.</p>` : ''}`;
}

const PERIODS = { day: 'Per UTC day', month: 'Per UTC month', total: 'In total' } as const;

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
