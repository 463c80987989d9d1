/**
 * The console's settings: reports, facilitator access, and closing the session.
 * @module console-settings
 */
import { h, fill, flash, copyText } from './ui.js';

/** Reports (JSON, CSV, Markdown) and the co-facilitator link with the facilitator key. */
export function exportsSection(rt, { roomLink }) {
  const out = [];
  const download = async (ext) => {
    const key = rt.facilitatorKey;
    if (!key) { flash('This browser does not have the facilitator key for this room.'); return; }
    try {
      const res = await fetch(`/rooms/${rt.state.room}/report.${ext}`, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
      if (!res.ok) throw new Error(`the server answered ${res.status}${res.status === 404 ? ' (reports are not available on this server yet)' : ''}`);
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `roundtable-${rt.state.room}.${ext}`, class: 'offscreen' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      flash(`Downloaded report.${ext}`, 'ok');
    } catch (e) {
      flash(`Could not download the report: ${e.message}`);
    }
  };
  const keyOut = h('code', { class: 'secret', id: 'fac-key' });
  const reveal = h('button', { type: 'button', class: 'small', 'aria-expanded': 'false' }, 'Show');
  reveal.addEventListener('click', () => {
    const show = keyOut.hidden;
    keyOut.hidden = !show;
    reveal.textContent = show ? 'Hide' : 'Show';
    reveal.setAttribute('aria-expanded', String(show));
  });
  keyOut.hidden = true;
  out.push(h('section', { class: 'card', id: 'console-exports', 'aria-labelledby': 'ex-h' },
    h('h2', { id: 'ex-h' }, 'Reports and access'),
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', id: 'export-json', on: { click: () => download('json') } }, 'Download JSON'),
      h('button', { type: 'button', id: 'export-csv', on: { click: () => download('csv') } }, 'Download CSV'),
      h('button', { type: 'button', id: 'export-md', on: { click: () => download('md') } }, 'Download Markdown')),
    h('p', { class: 'hint' }, 'Co-facilitators: share this link privately. It contains the facilitator key.'),
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', id: 'copy-cofac', on: { click: async () => { const key = rt.facilitatorKey; if (!key) { flash('No facilitator key in this browser.'); return; } const ok = await copyText(`${roomLink(rt.state.room)}#key=${key}`); flash(ok ? 'Co-facilitator link copied' : 'Could not copy', ok ? 'ok' : 'error'); } } }, 'Copy co-facilitator link'),
      h('span', {}, 'Key: ', reveal, ' ', keyOut))));
  return { el: out, update() { keyOut.textContent = rt.facilitatorKey || '(not stored in this browser)'; } };
}

/** Ending the session, behind a confirmation: final for everyone. */
export function closingSection(rt, { act }) {
  const out = [];
  const status = h('p', { class: 'hint', id: 'room-close-status' },
    'Closing ends open polls and interviews, stops timers and makes every result final. Members can come back to read the results; nobody can vote, submit or join as a new member.');
  const openBtn = h('button', { type: 'button', class: 'danger', id: 'room-close', 'aria-expanded': 'false', 'aria-controls': 'room-close-confirm' }, 'Close session…');
  const yes = h('button', { type: 'button', class: 'danger-solid', id: 'room-close-yes' }, 'Yes, close the session');
  const no = h('button', { type: 'button', id: 'room-close-cancel' }, 'Cancel');
  const confirmBox = h('div', { class: 'confirm-box', id: 'room-close-confirm', role: 'group', 'aria-labelledby': 'room-close-q', 'aria-describedby': 'room-close-warn', hidden: true },
    h('p', { class: 'confirm-question', id: 'room-close-q' }, 'Close this session for everyone?'),
    h('p', { id: 'room-close-warn' }, 'This is final: it cannot be undone, and results can no longer change.'),
    h('div', { class: 'form-actions' }, yes, no));
  const showConfirm = (show) => {
    confirmBox.hidden = !show;
    openBtn.hidden = show;
    openBtn.setAttribute('aria-expanded', String(show));
    (show ? no : openBtn).focus();
  };
  openBtn.addEventListener('click', () => showConfirm(true));
  no.addEventListener('click', () => showConfirm(false));
  confirmBox.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); showConfirm(false); } });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    try {
      await act(rt.request('room.close'), 'Session closed. Its results are final.');
      confirmBox.hidden = true;
    } catch {
      showConfirm(false);
    } finally {
      yes.disabled = false;
      no.disabled = false;
    }
  });
  out.push(h('section', { class: 'card session-card', id: 'console-session', 'aria-labelledby': 'cs-h' },
    h('h2', { id: 'cs-h' }, 'End the session'), status, h('div', { class: 'form-actions' }, openBtn), confirmBox));
  let was = null;
  return { el: out,
    update() {
      const closedAt = rt.state.closedAt;
      if (Boolean(closedAt) === was) return;
      was = Boolean(closedAt);
      if (!closedAt) return;
      const focused = confirmBox.contains(document.activeElement);
      confirmBox.hidden = true;
      openBtn.hidden = true;
      fill(status, `Closed at ${new Date(closedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}. The results are final; the reports under Reports and access keep them.`);
      status.classList.remove('hint');
      if (focused) {
        // Keep keyboard focus in the card it was in.
        status.setAttribute('tabindex', '-1');
        status.focus();
      }
    },
  };
}
