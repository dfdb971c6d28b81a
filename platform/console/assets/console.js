// tokenplane console: progressive enhancement of the server-rendered pages.
// Dialogs (showModal), the "More actions" menu (WAI-ARIA menu button pattern),
// and token values fetched only when asked ("Show token", "Copy") and dropped
// from the page as soon as their dialog closes. Nothing is written to storage.

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const live = document.getElementById('live');
const valueDialog = document.getElementById('value-dialog');
const valueText = document.getElementById('value-text');

function announce(text, alert = false) {
  if (!live) return;
  live.setAttribute('role', alert ? 'alert' : 'status');
  live.textContent = '';
  // A fresh text node, so that a repeated message is announced again.
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

async function reveal(id) {
  const res = await fetch(`/console/tokens/${encodeURIComponent(id)}/reveal`, {
    method: 'POST',
    headers: { 'x-csrf-token': csrf },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    location.assign('/console/sign-in?ended=1');
    throw new Error(body.message ?? 'Your session ended.');
  }
  if (!res.ok) throw new Error(body.message ?? `The console answered ${res.status}.`);
  return body.value;
}

async function copy(text) {
  await navigator.clipboard.writeText(text);
  announce('Copied to the clipboard.');
}

let opener = null;

function openDialog(dialog, from) {
  opener = from ?? document.activeElement;
  dialog.showModal();
}

// Every dialog: "Cancel"/"Close" closes; closing returns focus to what opened it.
// A dialog fetched for one action leaves the page when it closes.
function enhance(dialog) {
  dialog.addEventListener('close', () => {
    if (dialog === valueDialog) {
      // The value leaves the page with its dialog (the server kept no copy for a reload).
      valueText.textContent = '';
      valueDialog.removeAttribute('data-show-once');
    }
    const back = opener;
    opener = null;
    if (back && document.contains(back)) back.focus();
    if (dialog.hasAttribute('data-fetched')) dialog.remove();
  });
  for (const form of dialog.querySelectorAll('form')) {
    // One submission per click: a second would only replay the first (Idempotency-Key).
    form.addEventListener('submit', () => {
      for (const b of form.querySelectorAll('button[type="submit"]')) b.disabled = true;
    });
  }
}

for (const dialog of document.querySelectorAll('dialog')) enhance(dialog);

/** Fetches the server-rendered dialog of a token action and opens it. */
async function openFetched(url, from) {
  const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  if (res.redirected) {
    location.assign('/console/sign-in?ended=1');
    return;
  }
  const text = await res.text();
  const template = document.createElement('template');
  template.innerHTML = text;
  const dialog = template.content.querySelector('dialog');
  if (!res.ok || !dialog)
    throw new Error(template.content.textContent.trim() || `The console answered ${res.status}.`);
  dialog.setAttribute('data-fetched', '');
  document.body.append(dialog);
  enhance(dialog);
  openDialog(dialog, from);
}

document.addEventListener('click', async (event) => {
  const target = event.target instanceof Element ? event.target.closest('button') : null;
  if (!target) {
    closeMenus();
    return;
  }
  if (target.hasAttribute('data-close')) {
    target.closest('dialog')?.close();
    return;
  }
  if (target.hasAttribute('data-copy-value')) {
    await copy(valueText.textContent).catch((e) => announce(e.message, true));
    return;
  }
  const menuOpener = target.closest('.menu-wrap') ? menuButtonOf(target) : null;
  if (target.getAttribute('aria-haspopup') === 'menu') {
    toggleMenu(target);
    return;
  }
  if (target.dataset.dialog) {
    closeMenus();
    await openFetched(target.dataset.dialog, menuOpener ?? target).catch((e) =>
      announce(e.message, true),
    );
    return;
  }
  if (target.dataset.open) {
    closeMenus();
    const dialog = document.getElementById(target.dataset.open);
    if (dialog) openDialog(dialog, menuOpener ?? target);
    return;
  }
  if (target.dataset.reveal) {
    try {
      const value = await reveal(target.dataset.reveal);
      document.getElementById('value-title').textContent = `Token "${target.dataset.name}"`;
      valueText.textContent = value;
      openDialog(valueDialog, target);
    } catch (e) {
      announce(e.message, true);
    }
    return;
  }
  if (target.dataset.copy) {
    closeMenus();
    menuOpener?.focus();
    try {
      await copy(await reveal(target.dataset.copy));
    } catch (e) {
      announce(`Could not copy the token: ${e.message}`, true);
    }
  }
});

// --- "More actions" menus -------------------------------------------------

function menuButtonOf(el) {
  return el.closest('.menu-wrap')?.querySelector('[aria-haspopup="menu"]') ?? null;
}

function itemsOf(menu) {
  return [...menu.querySelectorAll('[role="menuitem"]')];
}

function closeMenus(except) {
  for (const button of document.querySelectorAll('[aria-haspopup="menu"][aria-expanded="true"]')) {
    if (button === except) continue;
    button.setAttribute('aria-expanded', 'false');
    document.getElementById(button.getAttribute('aria-controls')).hidden = true;
  }
}

function toggleMenu(button, focusLast = false) {
  const menu = document.getElementById(button.getAttribute('aria-controls'));
  const open = button.getAttribute('aria-expanded') !== 'true';
  closeMenus(button);
  button.setAttribute('aria-expanded', String(open));
  menu.hidden = !open;
  if (open) {
    const items = itemsOf(menu);
    (focusLast ? items[items.length - 1] : items[0])?.focus();
  }
}

document.addEventListener('keydown', (event) => {
  const el = event.target instanceof Element ? event.target : null;
  if (!el) return;
  if (el.getAttribute('aria-haspopup') === 'menu') {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (el.getAttribute('aria-expanded') === 'true') closeMenus();
      toggleMenu(el, event.key === 'ArrowUp');
    }
    return;
  }
  if (el.getAttribute('role') !== 'menuitem') return;
  const menu = el.closest('[role="menu"]');
  const items = itemsOf(menu);
  const i = items.indexOf(el);
  const move = { ArrowDown: 1, ArrowUp: -1 }[event.key];
  if (move) {
    event.preventDefault();
    items[(i + move + items.length) % items.length].focus();
  } else if (event.key === 'Home' || event.key === 'End') {
    event.preventDefault();
    items[event.key === 'Home' ? 0 : items.length - 1].focus();
  } else if (event.key === 'Escape') {
    event.preventDefault();
    const button = menuButtonOf(el);
    closeMenus();
    button?.focus();
  } else if (event.key === 'Tab') {
    closeMenus();
  }
});

// A value issued by the last form (create, rotate) is shown once, in its dialog.
if (valueDialog?.hasAttribute('data-show-once'))
  openDialog(valueDialog, document.getElementById('main'));

document.documentElement.dataset.ready = 'true';
