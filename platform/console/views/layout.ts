/** The page frame: head (stylesheet, module), header with sign-out, messages, main. */
import { type Html, html } from '../html.ts';
import type { Flash } from '../sessions.ts';

export type Assets = { css: string; js: string; icon: string };

export type Frame = {
  title: string;
  assets: Assets;
  /** Signed in: who, and the CSRF token that forms and fetches echo. */
  session?: { label: string; csrf: string; member: boolean } | undefined;
  flash?: Flash[];
  nav?: Html | undefined;
  /** Where the browser goes on its own, at once (after single sign-on). */
  refresh?: string;
};

export function page(frame: Frame, main: Html): Html {
  const { session, flash = [] } = frame;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · tokenplane console</title>
<link rel="icon" href="${frame.assets.icon}" type="image/svg+xml">
<link rel="stylesheet" href="${frame.assets.css}">
<script type="module" src="${frame.assets.js}"></script>
${session ? html`<meta name="csrf-token" content="${session.csrf}">` : ''}
${frame.refresh ? html`<meta http-equiv="refresh" content="0;url=${frame.refresh}">` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/console/">tokenplane console</a>
  ${
    session
      ? html`<p class="who">Signed in ${session.member ? 'as' : 'with'} ${session.label}</p>
  ${session.member ? html`<a href="/console/access-keys">Your access keys</a>` : ''}
  <form method="post" action="/console/sign-out">${csrfField(session.csrf)}<button type="submit">Sign out</button></form>`
      : ''
  }
</header>
<div class="${frame.nav ? 'layout' : 'layout single'}">
${frame.nav ?? ''}
<main id="main" tabindex="-1">
${flash.filter((f) => f.kind !== 'value').map(message)}
${main}
</main>
</div>
<p id="live" class="live" role="status"></p>
${session ? valueDialog(flash.find((f) => f.kind === 'value')) : ''}
</body>
</html>`;
}

export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

function message(flash: Flash): Html {
  if (flash.kind === 'value') return html``;
  return flash.kind === 'alert'
    ? html`<div class="alert" role="alert">${flash.text}</div>`
    : html`<div class="note" role="status">${flash.text}</div>`;
}

/**
 * The one dialog that shows a token value: filled by the server right after a
 * create or rotation (shown once), or by the script when "Show token" asks for it.
 * The script empties it again when it closes.
 */
function valueDialog(once: Flash | undefined): Html {
  const shown = once?.kind === 'value' ? once : undefined;
  return html`<dialog id="value-dialog" class="value-dialog" aria-labelledby="value-title"${shown ? html` data-show-once` : ''}>
  <h2 id="value-title">${shown?.title ?? 'Token'}</h2>
  <p id="value-note">${shown ? 'Copy it now: this is the only time the console shows it without asking.' : 'Keep it secret: anyone holding it can read your analytics.'}</p>
  <code id="value-text" class="secret">${shown?.value ?? ''}</code>
  <div class="buttons">
    <button type="button" data-copy-value>Copy</button>
    <button type="button" data-close>Close</button>
  </div>
</dialog>`;
}
