/** How the console writes values for people: dates in UTC, counts, tier names. */
import { type Html, html } from '../html.ts';

/** `2026-12-01 15:20 UTC` in a <time> element, or `fallback` for null. */
export function when(iso: string | null, fallback = 'Never'): Html {
  if (iso === null) return html`${fallback}`;
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** The value of a datetime-local field (UTC, minutes) for an RFC 3339 timestamp. */
export function dateTimeLocal(iso: string | null): string {
  return iso === null ? '' : new Date(iso).toISOString().slice(0, 16);
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
