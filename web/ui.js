/**
 * Small DOM helpers for the Roundtable web app: element building, announcements, animated bar charts.
 * No inline styles or scripts are produced (the server's CSP forbids them); geometry is set through
 * the CSSOM (`el.style.setProperty`), which CSP allows.
 * @module ui
 */

/**
 * Builds an element. `attrs`: `class`, `text`, `html` is NOT supported (no innerHTML anywhere),
 * `on: {event: fn}`, `dataset: {...}`, boolean attributes as `true`/`false`, others as strings.
 * @param {string} tag
 * @param {object} [attrs]
 * @param {...(Node|string|null|undefined|false|Array)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Removes every child of `el`. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

let announceTimer = null;
/** Says `text` to screen readers through the polite live region. */
export function announce(text) {
  const el = document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { el.textContent = text; }, 50);
}

let flashTimer = null;
/**
 * Shows a message in the banner (errors are assertive; `kind` = `error` | `ok` | `info`).
 * @param {string} text
 * @param {string} [kind]
 */
export function flash(text, kind = 'error') {
  const el = document.getElementById('flash');
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(flashTimer);
  if (kind === 'error') {
    // Errors stay until dismissed: people read at their own pace.
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'flash-close';
    close.textContent = 'Dismiss';
    close.addEventListener('click', () => { el.hidden = true; });
    el.append(' ', close);
    return;
  }
  flashTimer = setTimeout(() => { el.hidden = true; }, 3500);
}

/** A number for people: integers as is, others with up to 2 decimals. */
export function fmt(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(Math.abs(n) < 10 ? 2 : 1);
}

/** `m:ss` (or `h:mm:ss`) until `endsAt` (ms epoch) from `now`; `0:00` when past. */
export function countdown(endsAt, now) {
  let s = Math.max(0, Math.ceil((endsAt - now) / 1000));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const m = Math.floor(s / 60);
  const sec = String(s % 60).padStart(2, '0');
  return hours ? `${hours}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * A ranked bar chart with whiskers for score intervals, keyed so rows move (FLIP) and bars grow
 * with CSS transitions instead of being rebuilt.
 *
 * @param {HTMLOListElement} list the `<ol>` to render into
 * @param {Array<{key:string|number, label:string, value:number, low?:number, high?:number, rank?:number, tied?:boolean, note?:string}>} rows in display order
 * @param {{min?:number, max?:number, format?:(v:number)=>string, unit?:string}} [opts]
 */
export function renderBars(list, rows, opts = {}) {
  const format = opts.format || fmt;
  const min = opts.min ?? 0;
  let max = opts.max;
  if (max === undefined) {
    max = rows.reduce((m, r) => Math.max(m, r.high ?? r.value, r.value), 0);
    if (max <= min) max = min + 1;
  }
  const span = max - min || 1;
  const pct = (v) => `${Math.max(0, Math.min(100, ((v - min) / span) * 100)).toFixed(2)}%`;

  // FLIP: remember where each row was.
  const before = new Map();
  for (const li of list.children) before.set(li.dataset.key, li.getBoundingClientRect().top);

  const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const keep = new Set();
  // The server's rank is a position (ties broken by id); people read "1=" twice as a shared first place,
  // so a tied row shows the rank of the first row with the same value.
  let shownRank = null, shownValue = null;
  rows.forEach((r, i) => {
    if (r.rank != null && !(r.tied && shownRank != null && r.value === shownValue)) shownRank = r.rank;
    shownValue = r.value;
    const key = String(r.key);
    keep.add(key);
    let li = existing.get(key);
    if (!li) {
      li = h('li', { class: 'bar-row entering', dataset: { key } },
        h('div', { class: 'bar-label' },
          h('span', { class: 'bar-rank' }), h('span', { class: 'bar-text' }), h('span', { class: 'bar-note' })),
        h('div', { class: 'bar-track', 'aria-hidden': 'true' },
          h('div', { class: 'bar-fill' }), h('div', { class: 'bar-whisker' })),
        h('div', { class: 'bar-value' }),
        h('span', { class: 'sr-only bar-sr' }));
      requestAnimationFrame(() => li.classList.remove('entering'));
    }
    li.querySelector('.bar-rank').textContent = r.rank != null ? `${shownRank}${r.tied ? '=' : ''}` : String(i + 1);
    const text = li.querySelector('.bar-text');
    text.textContent = r.label;
    text.title = r.label;
    li.querySelector('.bar-note').textContent = r.note || '';
    li.querySelector('.bar-value').textContent = format(r.value);
    li.querySelector('.bar-fill').style.setProperty('width', pct(r.value));
    const w = li.querySelector('.bar-whisker');
    const hasRange = r.low != null && r.high != null && r.high > r.low;
    w.hidden = !hasRange;
    if (hasRange) {
      w.style.setProperty('left', pct(r.low));
      w.style.setProperty('width', `calc(${pct(r.high)} - ${pct(r.low)})`);
    }
    li.querySelector('.bar-sr').textContent = hasRange ? ` (likely between ${format(r.low)} and ${format(r.high)})` : '';
    li.classList.toggle('is-top', i === 0 && r.value > min);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const [key, li] of existing) if (!keep.has(key)) li.remove();

  // FLIP: play the move from the old place to the new one.
  for (const li of list.children) {
    const old = before.get(li.dataset.key);
    if (old === undefined) continue;
    const dy = old - li.getBoundingClientRect().top;
    if (Math.abs(dy) < 1) continue;
    li.classList.add('no-transition');
    li.style.setProperty('transform', `translateY(${dy}px)`);
    li.getBoundingClientRect();
    li.classList.remove('no-transition');
    li.style.removeProperty('transform');
  }
}

/**
 * Copies text to the clipboard, with a fallback for non-secure contexts.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'offscreen', 'aria-hidden': 'true', readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

/** Splits a comma/newline separated list of tags. */
export function parseTags(s) {
  return String(s || '').split(/[,\n]/).map((t) => t.trim()).filter(Boolean);
}
