/**
 * People (README "Members and single sign-on"): the members of an entity — add
 * by email with a role, change a role, remove — and a signed-in member's own
 * access keys ("Your access keys"). Plain forms: each change is one post.
 */
import type { AccessKey, Entity, Member } from '../../../core/client/index.ts';
import { type Html, html } from '../html.ts';
import { when } from './format.ts';
import { csrfField } from './layout.ts';

const ROLES = ['admin', 'viewer'] as const;

function roleOptions(selected: string, allowed: readonly string[] = ROLES): Html[] {
  return allowed.map(
    (role) =>
      html`<option value="${role}"${role === selected ? html` selected` : ''}>${role}</option>`,
  );
}

export function membersMain(
  entity: Entity,
  members: Member[],
  csrf: string,
  canWrite: boolean,
): Html {
  return html`<p class="crumbs"><a href="/console/entities/${entity.id}">Back to ${entity.name}</a></p>
<h1>Members of ${entity.name}</h1>
<p>A member signs in with single sign-on and acts with its role on ${entity.name} and everything under it.</p>
${
  canWrite
    ? html`<form method="post" action="/console/entities/${entity.id}/members" class="inline-form" aria-labelledby="add-member-title">
  <h2 id="add-member-title">Add member</h2>
  ${csrfField(csrf)}
  <label for="member-email">Email</label>
  <input id="member-email" name="email" type="email" required autocomplete="off">
  <label for="member-role">Role</label>
  <select id="member-role" name="role">${roleOptions('viewer')}</select>
  <button type="submit">Add</button>
</form>`
    : ''
}
${
  members.length === 0
    ? html`<p class="empty">${entity.name} has no members.</p>`
    : html`<table class="members">
  <caption>Members of ${entity.name}</caption>
  <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Added</th>${canWrite ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}</tr></thead>
  <tbody>${members.map((m) => memberRow(m, csrf, canWrite))}</tbody>
</table>`
}`;
}

function memberRow(m: Member, csrf: string, canWrite: boolean): Html {
  if (!canWrite) {
    return html`<tr><th scope="row" data-label="Email">${m.email}</th><td data-label="Role">${m.role}</td><td data-label="Added">${when(m.createdAt)}</td></tr>`;
  }
  return html`<tr>
<th scope="row" data-label="Email">${m.email}</th>
<td data-label="Role"><form method="post" action="/console/members/${m.id}" class="row-form">
  ${csrfField(csrf)}
  <input type="hidden" name="entityId" value="${m.entityId}">
  <select name="role" aria-label="Role of ${m.email}">${roleOptions(m.role)}</select>
  <button type="submit" aria-label="Change role of ${m.email}">Change role</button>
</form></td>
<td data-label="Added">${when(m.createdAt)}</td>
<td data-label="Actions"><form method="post" action="/console/members/${m.id}/remove" class="row-form">
  ${csrfField(csrf)}
  <input type="hidden" name="entityId" value="${m.entityId}">
  <button type="submit" class="danger" aria-label="Remove ${m.email}">Remove</button>
</form></td>
</tr>`;
}

/** A signed-in member's personal access keys: at most its role, ending with the membership. */
export function accessKeysMain(
  member: { email: string; role: 'admin' | 'viewer' },
  keys: AccessKey[],
  csrf: string,
): Html {
  const allowed = member.role === 'admin' ? ROLES : (['viewer'] as const);
  return html`<h1>Your access keys</h1>
<p>Keys for your scripts and tools, acting as ${member.email} with at most your role (${member.role}). They stop working when your membership ends or your role drops below theirs.</p>
<form method="post" action="/console/access-keys" class="inline-form" aria-labelledby="new-key-title">
  <h2 id="new-key-title">New access key</h2>
  ${csrfField(csrf)}
  <label for="key-name">Name</label>
  <input id="key-name" name="name" required maxlength="100" autocomplete="off">
  <label for="key-role">Role</label>
  <select id="key-role" name="role">${roleOptions('viewer', allowed)}</select>
  <button type="submit">Create</button>
</form>
${
  keys.length === 0
    ? html`<p class="empty">You have no access keys.</p>`
    : html`<table class="keys">
  <caption>Your access keys</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${keys.map(
    (k) => html`<tr>
<th scope="row" data-label="Name">${k.name}</th>
<td data-label="Role">${k.role}</td>
<td data-label="Created">${when(k.createdAt)}</td>
<td data-label="Actions"><form method="post" action="/console/access-keys/${k.id}/remove" class="row-form">
  ${csrfField(csrf)}
  <button type="submit" class="danger" aria-label="Delete ${k.name}">Delete</button>
</form></td>
</tr>`,
  )}</tbody>
</table>`
}`;
}
