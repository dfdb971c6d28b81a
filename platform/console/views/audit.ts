/** The audit log of an entity, newest pages first as the platform returns them. */
import type { AuditPage, Entity } from '../../../core/client/index.ts';
import { type Html, html } from '../html.ts';
import { when } from './format.ts';

export function auditMain(entity: Entity, events: AuditPage, cursor: string): Html {
  const base = `/console/entities/${entity.id}/audit`;
  return html`<p class="crumbs"><a href="/console/entities/${entity.id}">Back to ${entity.name}</a></p>
<h1>Audit log of ${entity.name}</h1>
${
  events.items.length === 0
    ? html`<p class="empty">No events recorded.</p>`
    : html`<table class="audit">
  <caption>Events of ${entity.name}</caption>
  <thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead>
  <tbody>${events.items.map(
    (e) => html`<tr>
<td data-label="Time">${when(e.at)}</td>
<th scope="row" data-label="Action">${e.action}</th>
<td data-label="Outcome">${e.outcome}</td>
<td data-label="Actor">${actorName(e.actor)}</td>
<td data-label="Target">${e.targetType} ${e.targetId ?? ''}</td>
<td data-label="Detail">${e.detail ?? ''}</td>
</tr>`,
  )}</tbody>
</table>`
}
<p class="paging">
  ${cursor ? html`<a href="${base}">First page</a>` : ''}
  ${events.nextCursor ? html`<a href="${base}?cursor=${encodeURIComponent(events.nextCursor)}">Next page</a>` : ''}
</p>`;
}

/** Who acted, as a person reads it: a member by email, a key by its id. */
function actorName(actor: AuditPage['items'][number]['actor']): string {
  if (actor.type === 'admin') return 'administrator key';
  if (actor.type === 'member') return `${actor.email ?? 'member'} (single sign-on)`;
  if (actor.type === 'secret-scanner') return `secret scanner ${actor.id ?? ''}`;
  const key = `access key ${actor.id ?? ''}`;
  return actor.email ? `${actor.email} (personal ${key})` : key;
}
