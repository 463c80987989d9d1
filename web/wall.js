/**
 * The wall screen (`/r/CODE?view=projector`): one view at a time, chosen by the facilitator
 * (`wall.show`, or the running agenda step): join screen with QR code, a poll, its results, the ranked
 * needs, the interview countdown, the groups board, a timer, an announcement, the closing.
 * Designed for 1920×1080 and 1280×720: type sized to the screen, dark high-contrast theme.
 * @module wall
 */
import { h, fill, clear, countdown, renderBars } from './ui.js';
import { renderResults, resultsBox, turnoutText } from './polls.js';
import { qrSVG } from './qr.js';

const PHASES = { 'first-turn': 'First turn', 'second-turn': 'Second turn', report: 'Report back', done: 'Round over' };

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {{main: HTMLElement, joinLink: (code: string) => string, closedPanel: Function}} env
 */
export function wallView(rt, { main, joinLink, closedPanel }) {
  const closed = closedPanel({ projectorView: true });
  const banner = h('div', { class: 'wall-banner', id: 'wall-banner', role: 'status', hidden: true });
  const stage = h('div', { class: 'wall-stage', id: 'wall-stage', 'aria-live': 'polite' });
  const fullscreen = h('button', { type: 'button', class: 'wall-fullscreen', id: 'wall-fullscreen' }, 'Full screen');
  fullscreen.addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen?.();
    else document.documentElement.requestFullscreen?.().catch(() => {});
  });
  document.addEventListener('fullscreenchange', () => { fullscreen.textContent = document.fullscreenElement ? 'Leave full screen' : 'Full screen'; });
  const foot = h('div', { class: 'wall-foot' }, h('span', { id: 'wall-joinline' }), fullscreen);
  const root = h('div', { class: 'wall', id: 'wall' }, closed.el, banner, stage, foot);
  fill(main, root);
  document.body.classList.add('wall-mode');
  let sig = '';
  let lastPoll = null;
  let results = null;

  function latestPoll() {
    const polls = rt.pollsList().filter((p) => p.state !== 'draft');
    const open = polls.filter((p) => p.state === 'open').sort((a, b) => (b.openedAt || 0) - (a.openedAt || 0));
    return open[0] || polls.sort((a, b) => (b.closedAt || 0) - (a.closedAt || 0))[0];
  }

  function joinScreen(link) {
    const step = currentStep();
    return h('section', { class: 'wall-join', id: 'wall-join' },
      h('div', { class: 'wall-join-text' },
        h('h1', { class: 'wall-title' }, rt.state.title),
        step?.text ? h('p', { class: 'wall-lede' }, step.text) : null,
        h('p', { class: 'wall-label' }, 'Join on your phone or laptop'),
        // Breaks only before the code, never inside it.
        h('p', { class: 'wall-link', id: 'wall-link' }, link.replace(/^https?:\/\//, '').replace(/[^/]+$/, ''), h('wbr'), h('span', { class: 'nowrap' }, link.split('/').pop())),
        h('p', { class: 'wall-label' }, 'Room code ', h('strong', { class: 'wall-code' }, rt.state.room)),
        h('p', { class: 'wall-count' }, `${online()} here`)),
      h('div', { class: 'wall-qr', id: 'wall-qr', role: 'img', 'aria-label': `QR code for ${link}` }, qrSVG(link) || h('p', { class: 'wall-label' }, 'QR code unavailable: open the link above.')));
  }

  function online() {
    // A large room lists only some members and sends counts instead (room.presence).
    const st = rt.state;
    if (st.membersTruncated || st.memberCount > (st.settings?.presenceEventsUpTo ?? Infinity)) return st.onlineCount ?? 0;
    return rt.membersList().filter((m) => m.online && m.role === 'member').length;
  }

  function currentStep() {
    const a = rt.state.agenda || {};
    return (a.steps || []).find((s) => s.id === a.current);
  }

  function pollScreen(p, { resultsOnly }) {
    if (!p) return h('section', { class: 'wall-empty' }, h('p', { class: 'wall-lede' }, 'No poll yet.'));
    if (lastPoll !== p.id || !results) { results = resultsBox('wall-results'); lastPoll = p.id; }
    // The wall has its own large turnout line: the results heading leaves it out so it is not said twice.
    const shownResults = renderResults(rt, p, results, { big: true, withTurnout: false });
    const turnout = turnoutText(p);
    return h('section', { class: 'wall-poll', id: 'wall-poll', dataset: { poll: p.id } },
      h('h1', { class: 'wall-question', id: 'proj-question' }, p.question),
      turnout ? h('p', { class: 'wall-turnout', id: 'wall-turnout' }, turnout) : null,
      shownResults || resultsOnly ? results : h('p', { class: 'wall-lede' }, p.state === 'open' ? 'Answer on your device now.' : 'This poll is closed.'));
  }

  function needsScreen(title, id) {
    const list = h('ol', { class: 'bars needs-bars wall-bars', id, role: 'list' });
    const ranking = rt.state.ranking?.needs || [];
    renderBars(list, ranking.slice(0, 8).map((r) => ({
      key: r.need, label: r.text, value: r.score, low: r.polls ? r.low : null, high: r.polls ? r.high : null, rank: r.rank, tied: r.tied,
    })), { min: 0, max: 1, format: (v) => `${Math.round(v * 100)}` });
    return h('section', { class: 'wall-needs' }, h('h1', { class: 'wall-heading' }, title),
      ranking.length ? list : h('p', { class: 'wall-lede' }, 'No needs yet: share yours on your device.'));
  }

  function bigCountdown(label, endsAt, sub) {
    return h('section', { class: 'wall-timer' },
      h('p', { class: 'wall-heading' }, label),
      h('p', { class: 'wall-countdown', id: 'wall-countdown', role: 'timer', dataset: { endsAt } }, countdown(endsAt, rt.serverNow())),
      sub ? h('p', { class: 'wall-lede' }, sub) : null);
  }

  function screen(view) {
    const link = joinLink(rt.state.room);
    switch (view.view) {
      case 'poll': return pollScreen(view.poll ? rt.state.polls[view.poll] : latestPoll(), { resultsOnly: false });
      case 'results': return pollScreen(view.poll ? rt.state.polls[view.poll] : latestPoll(), { resultsOnly: true });
      case 'needs': return needsScreen('Needs, ranked', 'proj-needs');
      case 'closing': return h('div', { class: 'wall-closing' }, needsScreen('Our priorities', 'wall-closing-needs'), h('p', { class: 'wall-lede' }, currentStep()?.text || 'Thank you for taking part.'));
      case 'interviews': {
        const iv = rt.state.interviews || {};
        if (!iv.active) return h('section', { class: 'wall-empty' }, h('p', { class: 'wall-heading' }, 'Appreciative interviews'), h('p', { class: 'wall-lede' }, 'Starting soon.'));
        if (iv.phase === 'done') return h('section', { class: 'wall-empty' }, h('p', { class: 'wall-heading' }, `Round ${iv.round} is over`), h('p', { class: 'wall-lede' }, 'Back to the main room.'));
        return bigCountdown(`Interviews · round ${iv.round} · ${PHASES[iv.phase] || iv.phase}`, iv.endsAt, iv.phase === 'report' ? 'Share what you learned.' : 'Your partner and questions are on your device.');
      }
      case 'timer': {
        const t = (rt.state.groups?.timers || []).filter((x) => x.group == null).sort((a, b) => a.endsAt - b.endsAt)[0];
        if (!t) return h('section', { class: 'wall-empty' }, h('p', { class: 'wall-heading' }, currentStep()?.title || 'Timer'), h('p', { class: 'wall-lede' }, 'Time is up.'));
        return bigCountdown(t.label || 'Timer', t.endsAt);
      }
      case 'groups': {
        const g = rt.state.groups || { groups: [] };
        return h('section', { class: 'wall-groups' }, h('h1', { class: 'wall-heading' }, 'Groups'),
          g.groups.length ? h('ul', { class: 'wall-group-grid', id: 'wall-groups' }, g.groups.map((x) => h('li', { class: 'wall-group' },
            h('p', { class: 'wall-group-name' }, x.name),
            h('p', { class: 'wall-group-count' }, x.capacity != null ? `${x.members.length} of ${x.capacity}` : `${x.members.length} ${x.members.length === 1 ? 'person' : 'people'}`),
            h('p', { class: 'wall-group-members' }, x.members.map((id) => rt.state.members[id]?.name).filter(Boolean).join(', ')))))
            : h('p', { class: 'wall-lede' }, 'Groups are being formed.'));
      }
      case 'announcement': {
        const a = rt.state.announcement;
        return h('section', { class: 'wall-announcement', id: 'wall-announcement' }, h('p', { class: 'wall-big' }, a ? a.text : ''));
      }
      default: return joinScreen(link);
    }
  }

  return {
    el: root,
    update() {
      if (!rt.state.room) return;
      closed.update();
      const view = rt.state.wall || { view: 'join' };
      document.body.dataset.wall = view.view;
      const a = rt.state.announcement;
      banner.hidden = !a || view.view === 'announcement';
      if (a) banner.textContent = a.text;
      const link = joinLink(rt.state.room);
      const joinline = foot.querySelector('#wall-joinline');
      const jl = view.view === 'join' ? '' : `Join: ${link.replace(/^https?:\/\//, '')} · code ${rt.state.room}`;
      if (joinline.textContent !== jl) joinline.textContent = jl;
      // Redraw only when something shown changed (countdowns tick on their own).
      const p = view.poll ? rt.state.polls[view.poll] : latestPoll();
      const next = JSON.stringify([view, rt.state.title, link, view.view === 'join' ? online() : 0, rt.state.agenda?.current,
        ['poll', 'results'].includes(view.view) ? [p, p && rt.state.ranking] : 0,
        ['needs', 'closing'].includes(view.view) ? rt.state.ranking : 0,
        view.view === 'interviews' ? rt.state.interviews : 0, view.view === 'timer' ? rt.state.groups?.timers : 0,
        view.view === 'groups' ? [rt.state.groups, rt.membersList().map((m) => m.name)] : 0, a]);
      if (next === sig) return;
      sig = next;
      clear(stage);
      stage.append(screen(view));
    },
  };
}
