/** The administrator's start page: choose an entity, or create a top-level one. */
import { type Html, html } from '../html.ts';
import type { TierChoice } from '../tiers.ts';
import { newEntityDialog } from './dialogs.ts';

export function homeMain(csrf: string, tiers: TierChoice[]): Html {
  return html`<h1>Entities</h1>
<p>Choose an entity from the list to see its tokens, or create a top-level one.</p>
<div class="actions"><button type="button" data-open="new-entity">New entity</button></div>
${newEntityDialog(null, tiers, csrf)}`;
}
