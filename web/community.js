/**
 * The community home page (community.html): the next or current session, the expertise directory, the
 * needs backlog with each need's ranking trend, standing groups and past sessions; a member edits their
 * profile, a facilitator (community-admin.js) manages the roster, needs and groups and opens sessions.
 *
 * Links (docs/spec §8): `?c=ID#k=KEY` (a member) or `#f=KEY` (a facilitator). The key is stored in
 * localStorage (`roundtable:community:ID`) and removed from the address bar. Every request goes on a
 * connection of its own (`communityRequest`), since the server closes connections that never join a room.
 * @module community
 */
import { defaultURL } from './client.js';
import { SessionStore, defaultStore } from './session.js';
import { h, fill, flash, announce, copyText, parseTags } from './ui.js';
import {
  parseCommunityLink, loadKeys, saveKeys, credentials, communityRequest, sparkline, trendText, memberLink, viewFromExport,
} from './community-lib.js';
import { adminSections, createCommunityPage } from './community-admin.js';

const SVG = 'http://www.w3.org/2000/svg';
const main = document.getElementById('main');
const headInfo = document.getElementById('room-info');
const store = defaultStore();
const url = defaultURL();

const link = parseCommunityLink(location.search, location.hash);
const id = link.community;
if (id && (link.communityKey || link.facilitatorKey)) {
  saveKeys(store, id, { communityKey: link.communityKey, facilitatorKey: link.facilitatorKey });
  // The key stays in this browser only: not in the address bar, the history or a shared screen.
  history.replaceState(null, '', `/community.html?c=${id}`);
}
const keys = id ? loadKeys(store, id) : {};
let role = link.facilitatorKey ? 'facilitator' : link.communityKey ? 'member' : keys.facilitatorKey ? 'facilitator' : 'member';

/** Requests the server does not know yet (it answers `unknown_type`): their parts of the page stay hidden. */
const unsupported = new Set();

const FRIENDLY = {
  bad_credentials: 'This link is no longer valid: ask your facilitator for a new one.',
  community_not_found: 'There is no community with this id. Check the link.',
  unreachable: 'The server cannot be reached right now. Try again in a moment.',
};
const errorText = (e) => FRIENDLY[e?.code] || e?.message || String(e);

/** One community request with this page's credentials. */
function call(type, fields = {}) {
  const creds = credentials(id, keys, role);
  return communityRequest(url, type, { ...creds, ...fields }).catch((e) => {
    if (e.code === 'unknown_type') unsupported.add(type);
    throw e;
  });
}

/** Runs an action: flashes its error (or `ok`), then reloads the page's data. */
async function act(promise, ok) {
  try {
    const r = await promise;
    if (ok) { flash(ok, 'ok'); announce(ok); }
    return r;
  } catch (e) {
    flash(errorText(e));
    throw e;
  }
}

function field(label, input, hint) {
  input.id ||= `f-${Math.random().toString(36).slice(2)}`;
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
}

/** A read-only link with a Copy button (personal links are shown once). */
function linkBox(text, label, idPrefix) {
  const input = h('input', { readonly: true, value: text, id: `${idPrefix}-input`, class: 'link-input', 'aria-label': label });
  const btn = h('button', {
    type: 'button', class: 'small', id: `${idPrefix}-copy`, on: {
      click: async () => { const ok = await copyText(text); flash(ok ? 'Link copied' : 'Copy the link by hand', ok ? 'ok' : 'info'); },
    },
  }, 'Copy');
  return h('div', { class: 'link-box' }, input, btn);
}

const when = (ms) => (ms ? new Date(ms).toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' }) : '');

/** The inline SVG sparkline of a need's rank over sessions (rank 1 at the top), with its words beside it. */
export function trendChart(rankings, needId) {
  const g = sparkline(rankings);
  const words = trendText(rankings);
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ width: g.width, height: g.height, viewBox: `0 0 ${g.width} ${g.height}`, role: 'img', class: 'spark', 'aria-label': words, 'data-points': g.points.length })) svg.setAttribute(k, String(v));
  const title = document.createElementNS(SVG, 'title');
  title.textContent = words;
  svg.append(title);
  const base = document.createElementNS(SVG, 'line');
  for (const [k, v] of Object.entries({ x1: 0, x2: g.width, y1: 4, y2: 4, class: 'spark-top' })) base.setAttribute(k, String(v));
  svg.append(base);
  if (g.points.length > 1) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', g.path);
    path.setAttribute('class', 'spark-line');
    svg.append(path);
  }
  for (const [x, y] of g.points) {
    const c = document.createElementNS(SVG, 'circle');
    for (const [k, v] of Object.entries({ cx: x, cy: y, r: 2.6, class: 'spark-dot' })) c.setAttribute(k, String(v));
    svg.append(c);
  }
  return h('div', { class: 'trend', id: `trend-${needId}` }, svg, h('span', { class: 'trend-text', 'aria-hidden': 'true' }, words));
}

// ---------------------------------------------------------------- sections

/** Next or current session: a Join button for members, the console for facilitators. */
function sessionSection(extra) {
  const body = h('div', {});
  const heading = h('h2', { id: 'session-h' }, 'Session');
  const el = h('section', { class: 'card', id: 'session', 'aria-labelledby': 'session-h' }, heading, body, extra);
  return {
    el,
    update(v) {
      heading.textContent = v.current ? 'Current session' : 'Next session';
      const cur = (v.sessions || []).find((s) => s.room === v.current);
      if (!v.current) {
        fill(body, h('p', { id: 'no-session' }, 'No session is open right now.'),
          h('p', { class: 'hint' }, role === 'facilitator' ? 'Open the next one below when it is time.' : 'Come back here when your facilitator opens the next one: the Join button appears here.'));
        return;
      }
      // A facilitator with a seat in the session resumes it; one without (another device, a co-host) joins
      // with the community's facilitator key, which opens every session of the community.
      const seated = new SessionStore(store).get(v.current);
      const href = role !== 'facilitator' ? `/r/${v.current}?c=${id}`
        : seated || !keys.facilitatorKey ? `/r/${v.current}` : `/r/${v.current}#key=${encodeURIComponent(keys.facilitatorKey)}`;
      fill(body,
        h('p', { class: 'big-text', id: 'current-session' }, h('strong', {}, cur?.title || `Room ${v.current}`), cur?.openedAt ? ` · opened ${when(cur.openedAt)}` : ''),
        cur?.members != null ? h('p', { class: 'hint' }, `${cur.members} taking part so far`) : null,
        h('p', {}, h('a', { class: 'button primary', id: 'join-session', href }, role === 'facilitator' ? 'Go to the session' : 'Join the session')));
    },
  };
}

/** The member's own profile at community level (community.profile) and their directory listing. */
function profileSection() {
  const name = h('input', { id: 'me-name', maxlength: 80, required: true, autocomplete: 'name' });
  const org = h('input', { id: 'me-org', maxlength: 80, autocomplete: 'organization' });
  const tags = h('input', { id: 'me-expertise', placeholder: 'e.g. grants, data, volunteers' });
  const bio = h('textarea', { id: 'me-bio', rows: 3, maxlength: 1000 });
  const listed = h('input', { type: 'checkbox', id: 'me-listed' });
  const highlights = h('ul', { class: 'accepted-highlights', id: 'me-highlights' });
  const form = h('form', { id: 'profile-form' },
    field('Name', name), field('Organization', org),
    field('My expertise (comma separated)', tags, 'People with needs that match find you in the directory.'),
    field('About me', bio),
    h('label', { class: 'check' }, listed, h('span', {}, 'Show me in the community’s expertise directory')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'profile-save' }, 'Save my profile')));
  const status = h('p', { class: 'hint', id: 'me-status' });
  const el = h('section', { class: 'card', id: 'my-profile', 'aria-labelledby': 'me-h' },
    h('h2', { id: 'me-h' }, 'My profile'), status, form,
    h('h3', {}, 'Highlights from interviews'), highlights,
    keys.communityKey ? h('details', { class: 'more' }, h('summary', {}, 'My personal link (for another device)'),
      h('p', { class: 'hint' }, 'Anyone with this link can act as you: keep it to yourself.'),
      linkBox(memberLink(location.origin, id, keys.communityKey), 'Your personal link', 'my-link')) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await act(call('community.profile', { name: name.value.trim(), organization: org.value.trim(), expertise: parseTags(tags.value), bio: bio.value.trim(), listed: listed.checked }),
        listed.checked ? 'Profile saved ✓' : 'Profile saved; you are not in the directory ✓');
      await reload();
    } catch { /* flashed */ }
  });
  return {
    el,
    update(v) {
      el.hidden = !v.me || role !== 'member';
      if (el.hidden) return;
      const me = v.me;
      if (!form.contains(document.activeElement)) {
        name.value = me.name || '';
        org.value = me.organization || '';
        tags.value = (me.expertise || []).join(', ');
        bio.value = me.bio || '';
        listed.checked = me.listed !== false;
      }
      status.textContent = me.listed === false ? 'You are not listed in the directory.' : 'You are listed in the directory.';
      fill(highlights, (me.highlights || []).length ? me.highlights.map((t) => h('li', {}, '★ ', t)) : [h('li', { class: 'empty' }, 'Highlights you accept in an interview appear here.')]);
    },
  };
}

/** One directory entry. */
function personItem(p) {
  return h('li', { class: 'person-card', dataset: { member: p.member } },
    h('p', { class: 'person-head' }, h('strong', { class: 'person-name' }, p.name), p.organization ? h('span', { class: 'hint' }, ` · ${p.organization}`) : null),
    (p.expertise || []).length ? h('ul', { class: 'chips', 'aria-label': `Expertise of ${p.name}` }, p.expertise.map((t) => h('li', { class: 'chip' }, t))) : null,
    p.bio ? h('p', { class: 'person-bio' }, p.bio) : null,
    // A highlight the search matched is shown once, under "Matches", not again on the ★ line.
    recentHighlights(p).length ? h('p', { class: 'hint' }, '★ ', recentHighlights(p).join(' · ')) : null,
    (p.matches || []).length ? h('p', { class: 'matches' }, h('span', { class: 'label' }, 'Matches: '), p.matches.join(', ')) : null);
}

/** The two newest highlights not already listed among the entry's matches. */
function recentHighlights(p) {
  const matched = new Set(p.matches || []);
  return (p.highlights || []).filter((t) => !matched.has(t)).slice(-2);
}

/** The expertise directory: every listed member, or those matching a tag. */
function directorySection() {
  const tag = h('input', { id: 'dir-tag', type: 'search', placeholder: 'e.g. grants' });
  const form = h('form', { id: 'dir-form', class: 'inline-form', role: 'search' }, field('Find people by expertise', tag),
    h('button', { type: 'submit', id: 'dir-search' }, 'Search'));
  const summary = h('p', { class: 'hint', id: 'dir-summary', 'aria-live': 'polite' });
  const list = h('ul', { class: 'people-list', id: 'dir-results' });
  const more = h('button', { type: 'button', id: 'dir-more', hidden: true }, 'Show more');
  const el = h('section', { class: 'card', id: 'directory', 'aria-labelledby': 'dir-h' }, h('h2', { id: 'dir-h' }, 'Who knows what'), form, summary, list, more);
  let shown = 0;
  let query = '';
  async function search(offset = 0) {
    query = tag.value.trim();
    try {
      const r = await call('community.directory', { ...(query ? { tag: query } : {}), limit: 50, offset });
      if (!offset) { clearList(); shown = 0; }
      list.append(...r.entries.map(personItem));
      shown += r.entries.length;
      summary.textContent = query ? `${r.total} ${r.total === 1 ? 'person matches' : 'people match'} “${query}”.` : `${r.total} ${r.total === 1 ? 'person is' : 'people are'} in the directory.`;
      if (!r.total) list.append(h('li', { class: 'empty' }, query ? 'Nobody lists this yet. Try a broader word.' : 'Nobody is listed yet.'));
      more.hidden = shown >= r.total;
    } catch (e) {
      if (e.code === 'unknown_type') { el.hidden = true; syncJump(); return; }
      flash(errorText(e));
    }
  }
  const clearList = () => fill(list);
  form.addEventListener('submit', (e) => { e.preventDefault(); search(0); });
  more.addEventListener('click', () => search(shown));
  return { el, update() { if (!unsupported.has('community.directory')) search(0); else el.hidden = true; }, search };
}

/** "Who can help" with one need: the directory filtered by the need. */
async function whoCanHelp(need, box, btn) {
  const open = btn.getAttribute('aria-expanded') === 'true';
  btn.setAttribute('aria-expanded', String(!open));
  box.hidden = open;
  if (open) return;
  fill(box, h('p', { class: 'hint' }, 'Looking…'));
  try {
    const r = await call('community.directory', { need, limit: 10 });
    fill(box, r.entries.length ? h('ul', { class: 'people-list compact' }, r.entries.map(personItem))
      : h('p', { class: 'empty' }, 'Nobody in the directory lists matching expertise yet.'));
  } catch (e) {
    fill(box, h('p', { class: 'empty' }, errorText(e)));
  }
}

const STATUS = { open: 'Open', in_progress: 'In progress', addressed: 'Addressed', merged: 'Merged' };

/** The needs backlog: status, owner group, the ranking trend and who can help. */
function backlogSection(admin) {
  const list = h('ol', { class: 'backlog-list', id: 'backlog-list' });
  const el = h('section', { class: 'card', id: 'backlog', 'aria-labelledby': 'bl-h' }, h('h2', { id: 'bl-h' }, 'Needs backlog'),
    h('p', { class: 'hint' }, 'Needs carry over from session to session; the line shows each need’s rank in every session that ranked it (a higher point is a better place).'), list);
  return {
    el,
    update(v) {
      const groupName = (g) => (v.groups || []).find((x) => x.group === g)?.name;
      const items = v.backlog || [];
      fill(list, items.length ? items.map((n) => {
        const box = h('div', { class: 'helpers', id: `helpers-${n.need}`, hidden: true });
        const btn = h('button', { type: 'button', class: 'small', id: `help-${n.need}`, 'aria-expanded': 'false', 'aria-controls': box.id }, 'Who can help');
        btn.addEventListener('click', () => whoCanHelp(n.need, box, btn));
        return h('li', { class: 'backlog-item', dataset: { need: n.need, status: n.status } },
          h('div', { class: 'backlog-main' },
            h('p', { class: 'backlog-text' }, n.text),
            h('p', { class: 'backlog-meta' },
              h('span', { class: 'badge', dataset: { status: n.status } }, STATUS[n.status] || n.status),
              n.owner != null ? h('span', { class: 'owner' }, ` Owner: ${groupName(n.owner) || `group ${n.owner}`}`) : null,
              (n.tags || []).map((t) => h('span', { class: 'chip small' }, t)))),
          trendChart(n.rankings || [], n.need),
          h('div', { class: 'backlog-actions' }, unsupported.has('community.directory') ? null : btn, admin ? admin.needControls(n, v) : null),
          box);
      }) : [h('li', { class: 'empty' }, 'No needs yet: they arrive from the first session.')]);
    },
  };
}

/** Standing groups (action teams) with their focus needs and members. */
function groupsSection(admin) {
  const list = h('ul', { class: 'group-list', id: 'standing-groups' });
  const el = h('section', { class: 'card', id: 'groups', 'aria-labelledby': 'gr-h' }, h('h2', { id: 'gr-h' }, 'Standing groups'), list);
  const editor = admin ? admin.groupsEditor() : null;
  if (editor) el.append(editor.el);
  return {
    el,
    update(v) {
      el.hidden = !v.groups;
      if (!v.groups) return;
      const needText = (id) => (v.backlog || []).find((n) => n.need === id)?.text || `Need ${id}`;
      fill(list, v.groups.length ? v.groups.map((g) => h('li', { class: 'group', dataset: { group: g.group } },
        h('div', { class: 'group-head' }, h('strong', {}, g.name), h('span', { class: 'badge' }, `${(g.members || []).length}`)),
        g.description ? h('p', { class: 'hint' }, g.description) : null,
        (g.focus || []).length ? h('p', {}, h('span', { class: 'label' }, 'Focus: '), g.focus.map(needText).join('; ')) : null,
        h('p', { class: 'group-members' }, (g.members || []).map((m) => m.name).join(', ') || 'Nobody yet.')))
        : [h('li', { class: 'empty' }, 'No standing groups yet.')]);
      editor?.update(v);
    },
  };
}

/** Sessions held, newest first. */
function sessionsSection() {
  const list = h('ol', { class: 'session-list', id: 'past-sessions', reversed: true });
  const el = h('section', { class: 'card', id: 'sessions', 'aria-labelledby': 'ss-h' }, h('h2', { id: 'ss-h' }, 'Sessions'), list);
  return {
    el,
    update(v) {
      const ss = [...(v.sessions || [])].reverse();
      fill(list, ss.length ? ss.map((s) => h('li', { dataset: { room: s.room } },
        h('strong', {}, s.title || `Room ${s.room}`), ` · ${when(s.openedAt)}`,
        s.open ? [' ', h('span', { class: 'badge', dataset: { state: 'open' } }, 'open now')] : s.closedAt ? h('span', { class: 'hint' }, ` · closed ${when(s.closedAt)}`) : null,
        s.members != null ? h('span', { class: 'hint' }, ` · ${s.members} took part`) : null))
        : [h('li', { class: 'empty' }, 'No session yet.')]);
    },
  };
}

// ---------------------------------------------------------------- page

let view = null;
let parts = [];
let directory = null;

/**
 * The page's data: community.view; a facilitator on a server without it gets the same shape from
 * community.export (no current session, titles or profile then).
 */
async function fetchView() {
  try {
    return await call('community.view');
  } catch (e) {
    if (e.code !== 'unknown_type' || role !== 'facilitator') throw e;
    return viewFromExport(id, await call('community.export'));
  }
}

/** "On this page" links only to the sections shown (a server without a request hides its section). */
function syncJump() {
  for (const a of document.querySelectorAll('nav.jump a')) a.hidden = !!document.querySelector(a.hash)?.hidden;
}

async function reload() {
  view = await fetchView();
  globalThis.communityView = view;
  // Rows are rebuilt: keyboard focus goes back to the control with the same id (a need's Save, a New link).
  const focused = document.activeElement?.id;
  header(view);
  for (const p of parts) p.update(view);
  syncJump();
  if (focused && document.activeElement?.id !== focused) document.getElementById(focused)?.focus();
}

function header(v) {
  document.title = `${v.name} · Roundtable`;
  const both = keys.facilitatorKey && keys.communityKey;
  fill(headInfo, h('span', { class: 'room-title', id: 'community-name' }, v.name),
    h('span', { class: 'badge', id: 'community-role' }, role === 'facilitator' ? 'Facilitator' : 'Member'),
    both ? h('button', { type: 'button', class: 'small', id: 'switch-role', on: { click: () => { role = role === 'facilitator' ? 'member' : 'facilitator'; start(); } } },
      role === 'facilitator' ? 'See it as a member' : 'Back to facilitator') : null);
  const counts = [`${v.memberCount} member${v.memberCount === 1 ? '' : 's'}`];
  if (v.listedCount != null) counts.push(`${v.listedCount} in the directory`);
  counts.push(`${(v.sessions || []).length} session${(v.sessions || []).length === 1 ? '' : 's'}`);
  if (v.pairsMet != null) counts.push(`${v.pairsMet} pair${v.pairsMet === 1 ? ' has' : 's have'} met`);
  fill(document.getElementById('community-intro'), h('h1', {}, v.name), h('p', { class: 'lede', id: 'community-counts' }, counts.join(' · ')));
}

async function start() {
  if (!id) { createCommunityPage(main, { field, act, call: (type, f) => communityRequest(url, type, f), linkBox, store }); return; }
  if (!credentials(id, keys, role)) {
    fill(main, h('section', { class: 'card', id: 'no-key' }, h('h1', {}, 'Open your personal link'),
      h('p', {}, 'This page needs the personal link your facilitator sent you (it ends with #k=…). Ask them for a new one if you lost it.')));
    return;
  }
  fill(main, h('p', { class: 'card loading' }, 'Loading the community…'));
  const admin = role === 'facilitator' ? adminSections({ call, act, field, linkBox, reload, keys, id, unsupported, store }) : null;
  const session = sessionSection(admin ? admin.openSession.el : null);
  const profile = profileSection();
  directory = directorySection();
  const backlog = backlogSection(admin);
  const groups = groupsSection(admin);
  const sessions = sessionsSection();
  parts = [session, profile, backlog, groups, sessions, directory, ...(admin ? admin.parts : [])];
  try {
    view = await fetchView();
  } catch (e) {
    fill(main, h('section', { class: 'card', id: 'load-error', role: 'alert' }, h('h1', {}, 'This community page cannot open'), h('p', {}, errorText(e))));
    return;
  }
  fill(main,
    h('div', { class: 'intro', id: 'community-intro' }),
    h('nav', { class: 'jump', 'aria-label': 'On this page' },
      h('a', { href: '#session' }, 'Session'), h('a', { href: '#directory' }, 'Directory'), h('a', { href: '#backlog' }, 'Backlog'),
      h('a', { href: '#groups' }, 'Groups'), admin ? h('a', { href: '#roster' }, 'Roster') : null),
    h('div', { class: 'layout community-layout' },
      h('div', { class: 'col' }, session.el, profile.el, backlog.el),
      h('div', { class: 'col' }, directory.el, groups.el, sessions.el)),
    admin ? admin.rosterEl : null);
  header(view);
  for (const p of parts) p.update(view);
  syncJump();
  globalThis.communityView = view;
}

// A new link opened over this page (only the fragment differs): the browser does not reload, so do it.
window.addEventListener('hashchange', () => {
  const next = parseCommunityLink(location.search, location.hash);
  if (next.communityKey || next.facilitatorKey) location.reload();
});

/** For the browser tests: the data the page shows, fetched again. */
globalThis.communityReload = reload;
start();
