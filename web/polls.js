/**
 * Poll cards: a ballot form for every poll kind and live results with score intervals.
 * @module polls
 */
import { h, fill, renderBars, announce, flash, fmt } from './ui.js';

const KIND_NAMES = {
  single: 'Choose one', multi: 'Choose several', rating: 'Rate', ranking: 'Rank', points: 'Share points', open: 'Open question',
};

/** Ballot drafts by poll id, kept across re-renders. */
const drafts = new Map();

/** The label of an option; polls over needs follow need edits. */
export function optionLabel(rt, poll, id) {
  if (poll.overNeeds && rt.state.needs[id]) return rt.state.needs[id].text;
  return (poll.options || []).find((o) => o.id === id)?.label ?? `Option ${id}`;
}

/** Whether a ballot is there. */
function hasBallot(poll) {
  return !!poll.yourBallot;
}

async function cast(rt, poll, ballot, what) {
  try {
    await rt.request('vote.cast', { poll: poll.id, ...ballot });
    announce(`Your ${what} for "${poll.question}" is in.`);
    flash('Vote recorded ✓', 'ok');
  } catch (e) {
    // A session closed meanwhile: the closed banner explains it, and no vote can change any more.
    if (e.code === 'room_closed') announce('This session is closed. Your earlier vote counts; results are final.');
    else flash(`Could not record your vote: ${e.message}`);
  }
}

function submitRow(label, extra) {
  return h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, label), extra);
}

function singleBallot(rt, poll) {
  const mine = poll.yourBallot?.option;
  return h('div', { class: 'choice-list', role: 'group', 'aria-label': poll.question },
    (poll.options || []).map((o) => h('button', {
      type: 'button', class: 'choice', 'aria-pressed': String(mine === o.id), dataset: { option: o.id },
      on: { click: () => cast(rt, poll, { option: o.id }, 'choice') },
    }, optionLabel(rt, poll, o.id))));
}

function multiBallot(rt, poll) {
  const max = poll.maxChoices || (poll.options || []).length;
  const mine = new Set(poll.yourBallot?.options || []);
  const form = h('form', { class: 'ballot' });
  const hint = h('p', { class: 'hint', id: `multi-hint-${poll.id}` }, `Choose up to ${max}.`);
  const boxes = (poll.options || []).map((o) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'o', value: String(o.id), checked: mine.has(o.id), 'aria-describedby': hint.id }),
    h('span', {}, optionLabel(rt, poll, o.id))));
  const limit = () => {
    const inputs = [...form.querySelectorAll('input[name=o]')];
    const n = inputs.filter((i) => i.checked).length;
    for (const i of inputs) i.disabled = !i.checked && n >= max;
    hint.textContent = `Choose up to ${max}. Chosen: ${n}.`;
  };
  form.addEventListener('change', limit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const options = [...form.querySelectorAll('input[name=o]:checked')].map((i) => Number(i.value));
    if (!options.length) { flash('Choose at least one option.'); return; }
    cast(rt, poll, { options }, 'choices');
  });
  form.append(h('fieldset', {}, h('legend', { class: 'sr-only' }, poll.question), hint, boxes), submitRow('Submit choices'));
  limit();
  return form;
}

function ratingBallot(rt, poll) {
  const lo = poll.scaleMin ?? 1;
  const hi = poll.scaleMax ?? 5;
  const mine = poll.yourBallot?.ratings || {};
  const form = h('form', { class: 'ballot' });
  const small = hi - lo <= 10;
  for (const o of poll.options || []) {
    const label = optionLabel(rt, poll, o.id);
    if (small) {
      const scale = [];
      for (let v = lo; v <= hi; v++) {
        scale.push(h('label', { class: 'scale-step' },
          h('input', { type: 'radio', name: `r${o.id}`, value: String(v), checked: Number(mine[o.id]) === v }),
          h('span', {}, String(v))));
      }
      form.append(h('fieldset', { class: 'rating-row' },
        h('legend', {}, label),
        h('div', { class: 'scale', role: 'presentation' }, scale),
        h('p', { class: 'hint scale-ends', 'aria-hidden': 'true' }, h('span', {}, `${lo} = low`), h('span', {}, `${hi} = high`))));
    } else {
      form.append(h('label', { class: 'field' }, h('span', {}, `${label} (${lo}–${hi})`),
        h('input', { type: 'number', name: `r${o.id}`, min: lo, max: hi, step: 1, value: mine[o.id] ?? '' })));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const ratings = {};
    for (const o of poll.options || []) {
      const el = small ? form.querySelector(`input[name=r${o.id}]:checked`) : form.querySelector(`input[name=r${o.id}]`);
      if (el && el.value !== '') ratings[o.id] = Number(el.value);
    }
    if (!Object.keys(ratings).length) { flash('Rate at least one option.'); return; }
    cast(rt, poll, { ratings }, 'ratings');
  });
  form.append(submitRow('Submit ratings'));
  return form;
}

function rankingBallot(rt, poll) {
  const ids = (poll.options || []).map((o) => o.id);
  let order = drafts.get(poll.id);
  if (!order || order.length !== ids.length || !order.every((id) => ids.includes(id))) {
    const mine = (poll.yourBallot?.ranking || []).filter((id) => ids.includes(id));
    order = [...mine, ...ids.filter((id) => !mine.includes(id))];
  }
  drafts.set(poll.id, order);
  const form = h('form', { class: 'ballot' });
  const list = h('ol', { class: 'rank-list', 'aria-label': `Your ranking for: ${poll.question}` });
  let dragging = null;

  // Keyboard: Enter or Space picks an item up (then the arrow keys move it, Enter, Space or Escape put it
  // down); Alt/Ctrl+arrows move it directly. Focus stays on the moved item's handle, so moves repeat.
  let grabbed = null;
  const move = (from, to, focusDir, fromHandle) => {
    if (to < 0 || to >= order.length) return;
    const [id] = order.splice(from, 1);
    order.splice(to, 0, id);
    if (grabbed !== null) grabbed = to;
    draw();
    announce(`${optionLabel(rt, poll, id)} moved to position ${to + 1} of ${order.length}.`);
    if (fromHandle) { list.children[to]?.querySelector('.rank-handle')?.focus(); return; }
    const btn = list.children[to]?.querySelector(focusDir === 'up' ? '.move-up' : '.move-down')
      || list.children[to]?.querySelector('.move-up, .move-down');
    (btn && !btn.disabled ? btn : list.children[to]?.querySelector('.rank-handle'))?.focus();
  };

  function draw() {
    fill(list, order.map((id, i) => {
      const label = optionLabel(rt, poll, id);
      const li = h('li', { class: 'rank-item', draggable: 'true', dataset: { option: id } },
        h('span', { class: 'rank-pos', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', {
          class: `rank-handle${grabbed === i ? ' grabbed' : ''}`, tabindex: '0', role: 'button', 'aria-pressed': String(grabbed === i),
          'aria-label': `${label}, position ${i + 1} of ${order.length}. Press Enter to pick it up and the arrow keys to move it, or Alt+Up and Alt+Down.`,
          on: {
            keydown: (e) => {
              const held = grabbed === i;
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                grabbed = held ? null : i;
                draw();
                list.children[i]?.querySelector('.rank-handle')?.focus();
                announce(held ? `${label} put down at position ${i + 1}.` : `${label} picked up. Use the arrow keys to move it, Enter to put it down.`);
              } else if (e.key === 'Escape' && held) {
                grabbed = null;
                draw();
                list.children[i]?.querySelector('.rank-handle')?.focus();
              } else if (e.key === 'ArrowUp' && (held || e.altKey || e.ctrlKey)) { e.preventDefault(); move(i, i - 1, 'up', true); }
              else if (e.key === 'ArrowDown' && (held || e.altKey || e.ctrlKey)) { e.preventDefault(); move(i, i + 1, 'down', true); }
            },
          },
        }, h('span', { class: 'grip', 'aria-hidden': 'true' }, '⋮⋮'), h('span', { class: 'rank-label' }, label)),
        h('span', { class: 'rank-buttons' },
          h('button', { type: 'button', class: 'icon move-up', 'aria-label': `Move ${label} up`, disabled: i === 0, on: { click: () => move(i, i - 1, 'up') } }, '▲'),
          h('button', { type: 'button', class: 'icon move-down', 'aria-label': `Move ${label} down`, disabled: i === order.length - 1, on: { click: () => move(i, i + 1, 'down') } }, '▼')));
      li.addEventListener('dragstart', (e) => { dragging = i; li.classList.add('dragging'); e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', String(id)); });
      li.addEventListener('dragend', () => { li.classList.remove('dragging'); dragging = null; });
      li.addEventListener('dragover', (e) => { if (dragging !== null) { e.preventDefault(); li.classList.add('drop-target'); } });
      li.addEventListener('dragleave', () => li.classList.remove('drop-target'));
      li.addEventListener('drop', (e) => { e.preventDefault(); li.classList.remove('drop-target'); if (dragging !== null && dragging !== i) move(dragging, i); });
      return li;
    }));
  }
  draw();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    cast(rt, poll, { ranking: [...order] }, 'ranking');
  });
  form.append(h('p', { class: 'hint' }, 'Best first. Drag the items, or use the arrow buttons.'), list, submitRow('Submit ranking'));
  return form;
}

function pointsBallot(rt, poll) {
  const budget = poll.budget ?? 100;
  const step = Math.max(1, Math.round(budget / 20));
  const mine = poll.yourBallot?.points || {};
  const form = h('form', { class: 'ballot' });
  const remaining = h('p', { class: 'budget', 'aria-live': 'polite' });
  const inputs = [];
  const total = () => inputs.reduce((s, i) => s + (Number(i.value) || 0), 0);
  const refresh = () => {
    const left = budget - total();
    remaining.textContent = left >= 0 ? `${left} of ${budget} points left` : `${-left} points over the budget of ${budget}`;
    remaining.dataset.over = String(left < 0);
    remaining.dataset.empty = String(left === budget);
    form.querySelector('button[type=submit]')?.toggleAttribute('disabled', left < 0 || left === budget);
  };
  const rows = (poll.options || []).map((o) => {
    const label = optionLabel(rt, poll, o.id);
    const input = h('input', {
      type: 'number', inputmode: 'numeric', min: 0, max: budget, step: 1, value: String(mine[o.id] ?? 0),
      'aria-label': `Points for ${label}`, dataset: { option: o.id },
    });
    inputs.push(input);
    const bump = (d) => {
      const cur = Number(input.value) || 0;
      const left = budget - total();
      input.value = String(Math.max(0, Math.min(cur + d, cur + Math.max(0, left))));
      refresh();
    };
    return h('div', { class: 'points-row' },
      h('span', { class: 'points-label' }, label),
      h('span', { class: 'stepper' },
        h('button', { type: 'button', class: 'icon', 'aria-label': `${step} fewer points for ${label}`, on: { click: () => bump(-step) } }, '−'),
        input,
        h('button', { type: 'button', class: 'icon', 'aria-label': `${step} more points for ${label}`, on: { click: () => bump(step) } }, '+')));
  });
  form.addEventListener('input', refresh);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const points = {};
    for (const i of inputs) { const v = Math.floor(Number(i.value) || 0); if (v > 0) points[i.dataset.option] = v; }
    cast(rt, poll, { points }, 'points');
  });
  form.append(remaining, h('div', { class: 'points-list' }, rows), submitRow('Submit points'));
  refresh();
  return form;
}

function openBallot(rt, poll) {
  const form = h('form', { class: 'ballot' });
  const id = `open-${poll.id}`;
  const ta = h('textarea', { id, name: 'text', maxlength: 280, rows: 3, required: true });
  ta.value = poll.yourBallot?.text || '';
  const counter = h('span', { class: 'hint' });
  const count = () => { counter.textContent = `${ta.value.length}/280`; };
  ta.addEventListener('input', count);
  count();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!ta.value.trim()) { flash('Write an answer first.'); return; }
    cast(rt, poll, { text: ta.value.trim() }, 'answer');
  });
  form.append(h('label', { class: 'field', for: id }, h('span', {}, 'Your answer')), ta, submitRow('Send answer', counter));
  return form;
}

const BALLOTS = { single: singleBallot, multi: multiBallot, rating: ratingBallot, ranking: rankingBallot, points: pointsBallot, open: openBallot };

function visibilityNote(poll) {
  if (poll.visibility === 'facilitator') return 'Results are shared when the facilitator reveals them.';
  if (poll.visibility === 'after-close') return 'Results appear when the poll closes.';
  if (poll.visibility === 'after-vote') return 'Results appear once you have answered.';
  return 'Results appear with the first votes.';
}

/** "18 of 24 have answered": members present who answered (facilitators and observers are not counted). */
export function turnoutText(poll) {
  const t = poll.turnout;
  if (!t || poll.state !== 'open') return '';
  return `${t.answered} of ${t.present} ${t.present === 1 ? 'has' : 'have'} answered`;
}

/**
 * Renders results of a poll into `box` (an element with an `ol.bars` and a heading inside).
 * @returns {boolean} whether there were results to show
 */
export function renderResults(rt, poll, box, { big = false, withTurnout = true } = {}) {
  const r = poll.results;
  const heading = box.querySelector('.results-heading');
  const list = box.querySelector('ol.bars');
  const answers = box.querySelector('.answers');
  if (!r) {
    heading.textContent = [withTurnout ? turnoutText(poll) : '', visibilityNote(poll)].filter(Boolean).join(' · ');
    list.hidden = true;
    if (answers) answers.hidden = true;
    return false;
  }
  const resp = r.responses;
  const waiting = resp?.waiting?.length ? ` (waiting: ${resp.waiting.map((id) => rt.state.members[id]?.name || `#${id}`).join(', ')})` : '';
  const turnout = withTurnout ? turnoutText(poll) : '';
  heading.textContent = `${r.final ? 'Final results' : 'Live results'} · ${r.ballots} ballot${r.ballots === 1 ? '' : 's'}${turnout ? ` · ${turnout}` : ''}${waiting}`;
  if (poll.kind === 'open') {
    list.hidden = true;
    if (answers) {
      answers.hidden = false;
      // A frequency view: the more often an answer was given, the larger it is (five sizes).
      const shown = (r.answers || []).slice(0, big ? 24 : 30);
      const top = Math.max(1, ...shown.map((a) => a.count));
      answers.classList.toggle('cloud', big);
      fill(answers, shown.map((a) => h('li', { class: `w${1 + Math.round(((a.count - 1) / Math.max(1, top - 1)) * 4)}` },
        h('span', { class: 'answer-text' }, a.text), a.count > 1 ? h('span', { class: 'answer-count' }, ` ×${a.count}`) : null)));
    }
    return true;
  }
  list.hidden = false;
  const rating = poll.kind === 'rating';
  renderBars(list, (r.results || []).map((x) => ({
    key: x.option, label: optionLabel(rt, poll, x.option), value: x.score, low: x.low, high: x.high, rank: x.rank, tied: x.tied,
  })), rating ? { min: Math.min(0, poll.scaleMin ?? 1), max: poll.scaleMax ?? 5 } : {});
  return true;
}

/** An empty results box. */
export function resultsBox(extraClass = '') {
  return h('div', { class: `results ${extraClass}` },
    h('h4', { class: 'results-heading' }),
    h('ol', { class: 'bars', role: 'list' }),
    h('ul', { class: 'answers', hidden: true }));
}

/**
 * A card for one poll. Returns `{el, update(poll)}`: the ballot form is rebuilt only when the poll's
 * state or options change, so typing and drafts survive live result updates.
 */
export function pollCard(rt, poll, { manage = null, ballot = true } = {}) {
  // The console's copy of a card (no ballot) and the participant view's may both be in the page: distinct ids.
  const qid = `${ballot ? 'poll-q' : 'console-poll-q'}-${poll.id}`;
  const el = h('article', { class: 'poll-card', dataset: { poll: poll.id }, 'aria-labelledby': qid });
  const title = h('h3', { id: qid, class: 'poll-question' });
  const badge = h('span', { class: 'badge' });
  const status = h('p', { class: 'poll-status', 'aria-live': 'polite' });
  const ballotBox = h('div', { class: 'ballot-box' });
  const results = resultsBox();
  const actions = h('div', { class: 'poll-actions' });
  el.append(h('header', { class: 'poll-head' }, title, badge), status, ballotBox, results, actions);
  let sig = '';

  function update(p) {
    poll = p;
    title.textContent = p.question;
    badge.textContent = `${p.state === 'open' ? 'Open' : p.state === 'closed' ? 'Closed' : 'Draft'} · ${KIND_NAMES[p.kind] || p.kind}${p.overNeeds ? ' needs' : ''}${p.anonymous ? '' : ' · named'}`;
    badge.dataset.state = p.state;
    el.dataset.state = p.state;
    const canVote = ballot && p.state === 'open' && rt.state.you?.role !== 'observer' && !rt.state.closedAt;
    const nextSig = `${p.state}|${(p.options || []).map((o) => `${o.id}:${optionLabel(rt, p, o.id)}`).join(',')}|${canVote}`;
    if (nextSig !== sig) {
      sig = nextSig;
      clear(ballotBox);
      if (canVote && BALLOTS[p.kind]) ballotBox.append(BALLOTS[p.kind](rt, p));
    }
    // The choice you made shows as selected as soon as the server has it (single choice is a row of buttons).
    for (const b of ballotBox.querySelectorAll('.choice')) b.setAttribute('aria-pressed', String(p.yourBallot?.option === Number(b.dataset.option)));
    if (p.state === 'open' && canVote) {
      status.textContent = hasBallot(p) ? '✓ Your vote is in. You can change it until the poll closes.' : 'Not voted yet.';
      status.dataset.voted = String(hasBallot(p));
    } else {
      status.textContent = p.state === 'draft' ? 'Draft: not visible to members yet.' : p.state === 'closed' ? 'This poll is closed.'
        : !ballot ? `Open for votes${p.yourBallot ? ' · you voted' : ''}. Vote in the participant view.` : '';
      status.dataset.voted = 'na';
    }
    // Retract button for your own ballot.
    clear(actions);
    if (canVote && hasBallot(p)) {
      actions.append(h('button', {
        type: 'button', class: 'link-button', on: {
          click: async () => {
            try { await rt.request('vote.retract', { poll: p.id }); drafts.delete(p.id); sig = ''; update(rt.state.polls[p.id]); announce('Vote withdrawn.'); } catch (e) { if (e.code === 'room_closed') announce('This session is closed. Results are final.'); else flash(e.message); }
          },
        },
      }, 'Withdraw my vote'));
    }
    if (manage) manage(actions, p);
    if (p.state === 'draft') { results.hidden = true; } else { results.hidden = false; renderResults(rt, p, results); }
  }
  function clear(x) { while (x.firstChild) x.removeChild(x.firstChild); }
  update(poll);
  return { el, update };
}

export { fmt };
