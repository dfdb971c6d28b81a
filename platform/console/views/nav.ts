/**
 * The list of entities in scope, one page at a time (keyset paging) with a name
 * search, so a reseller with thousands of customers stays usable.
 */
import type { Entity, EntityPage } from '../../../core/client/index.ts';
import { type Html, html } from '../html.ts';

export type NavState = {
  page: EntityPage;
  search: string;
  cursor: string;
  /** The page the search and paging links stay on. */
  path: string;
  currentId?: string | undefined;
};

export function entityNav(state: NavState): Html {
  const { page, search, path } = state;
  const query = (cursor: string | null) => {
    const q = new URLSearchParams();
    if (search) q.set('search', search);
    if (cursor) q.set('cursor', cursor);
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };
  return html`<nav class="entities" aria-labelledby="entities-title">
  <h2 id="entities-title">Entities</h2>
  <form method="get" action="${path}" role="search" class="search">
    <label for="search">Search entities</label>
    <input id="search" name="search" type="search" value="${search}" maxlength="200">
    <button type="submit">Search</button>
  </form>
  ${
    page.items.length === 0
      ? html`<p class="empty">${search ? `No entity name contains "${search}".` : 'No entities yet.'}</p>`
      : html`<ul class="entity-list">${page.items.map((e) => item(e, e.id === state.currentId))}</ul>`
  }
  <p class="paging">
    ${state.cursor ? html`<a href="${query(null)}">First page</a>` : ''}
    ${page.nextCursor ? html`<a href="${query(page.nextCursor)}">Next page</a>` : ''}
  </p>
</nav>`;
}

function item(e: Entity, current: boolean): Html {
  return html`<li><a href="/console/entities/${e.id}"${current ? html` aria-current="page"` : ''}>${e.name}</a>
<span class="meta">${e.kind} · ${e.tier} · ${e.tokenCount} of ${e.tokenQuota} tokens</span></li>`;
}
