/**
 * Member-view panels: what happens next, highlights, groups, profile. Built by app.js with its helpers.
 * @module panels
 */
import { h, fill, parseTags } from './ui.js';

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {{act: Function, field: Function}} helpers
 */
export function memberPanels(rt, { act, field }) {
  /** Welcome and "what happens next": the agenda's running and next step, shown when nothing asks for you. */
  function whatsNextPanel() {
    const body = h('div', {});
    const panel = h('section', { class: 'card next-panel', id: 'whats-next', 'aria-labelledby': 'whats-next-h' }, h('h2', { id: 'whats-next-h' }, 'Welcome'), body);
    let sig = '';
    return {
      el: panel,
      update() {
        const a = rt.state.agenda || { steps: [] };
        const list = a.steps || [];
        const i = list.findIndex((s) => s.id === a.current);
        const cur = list[i];
        const nxt = list[i + 1] ?? (i < 0 ? list[0] : undefined);
        const busy = rt.pollsList().some((p) => p.state === 'open') || rt.state.interviews?.yourPair;
        const next = JSON.stringify([a, !!busy, rt.state.title, rt.roomClosed]);
        if (next === sig) return;
        sig = next;
        panel.hidden = !!busy || rt.roomClosed;
        panel.querySelector('h2').textContent = cur && cur.kind !== 'welcome' ? `Now: ${cur.title}` : `Welcome to ${rt.state.title}`;
        fill(body,
          cur?.text ? h('p', { class: 'big-text' }, cur.text) : null,
          !cur ? h('p', {}, 'The session will start soon. Polls, interviews and groups appear here when the facilitator opens them.') : null,
          nxt ? h('p', { id: 'next-step' }, h('span', { class: 'label' }, 'What happens next: '), nxt.title) : list.length ? h('p', { class: 'hint' }, 'This is the last part of the session.') : null);
      },
    };
  }

  /** Highlights: shared interview notes; accept the ones about you. */
  function highlightsPanel() {
    const list = h('ul', { class: 'highlights', id: 'highlights-list' });
    const panel = h('section', { class: 'card', id: 'highlights', 'aria-labelledby': 'highlights-h' }, h('h2', { id: 'highlights-h' }, 'Highlights'), list);
    let sig = '';
    return {
      el: panel,
      update() {
        const hs = rt.state.interviews?.highlights || [];
        panel.hidden = hs.length === 0;
        const next = JSON.stringify(hs) + Object.keys(rt.state.members).length + rt.roomClosed;
        if (next === sig) return;
        sig = next;
        fill(list, [...hs].reverse().map((x) => {
          const about = rt.state.members[x.about]?.name || 'someone';
          const author = rt.state.members[x.author]?.name || 'A partner';
          return h('li', { class: 'highlight' },
            h('blockquote', {}, x.text),
            h('p', { class: 'label' }, `${author} about ${x.about === rt.me ? 'you' : about}`),
            x.about === rt.me && !x.accepted && !rt.roomClosed ? h('button', { type: 'button', class: 'small', on: { click: () => act(rt.request('interview.accept', { highlight: x.highlight }), 'Added to your profile ✓').catch(() => {}) } }, 'Add to my profile') : null,
            x.accepted ? h('span', { class: 'badge ok' }, 'On profile') : null);
        }));
      },
    };
  }

  /** Groups: your group, and joining one when the facilitator opened self-selection. */
  function groupsPanel() {
    const body = h('div', {});
    const panel = h('section', { class: 'card', id: 'groups', 'aria-labelledby': 'groups-h' }, h('h2', { id: 'groups-h' }, 'Groups'), body);
    let sig = '';
    return {
      el: panel,
      update() {
        const g = rt.state.groups || { groups: [] };
        panel.hidden = !(g.groups || []).length;
        const next = JSON.stringify([g, Object.values(rt.state.members).map((m) => m.name), rt.roomClosed]);
        if (next === sig) return;
        sig = next;
        const mine = g.groups.find((x) => x.id === g.yourGroup);
        const self = g.mode === 'self-select' && rt.state.you?.role === 'member' && !rt.roomClosed;
        fill(body,
          mine ? h('p', { class: 'big-text', id: 'your-group' }, 'Your group: ', h('strong', {}, mine.name))
            : rt.roomClosed ? null : h('p', { class: 'hint' }, self ? 'Pick a group to join.' : 'The facilitator will place you in a group.'),
          h('ul', { class: 'group-list' }, g.groups.map((x) => {
            const full = x.capacity != null && x.members.length >= x.capacity;
            const names = x.members.map((id) => rt.state.members[id]?.name).filter(Boolean);
            return h('li', { class: `group${x.id === g.yourGroup ? ' mine' : ''}` },
              h('div', { class: 'group-head' }, h('strong', {}, x.name), h('span', { class: 'badge' }, x.capacity != null ? `${x.members.length}/${x.capacity}` : `${x.members.length}`)),
              x.description ? h('p', { class: 'hint' }, x.description) : null,
              names.length ? h('p', { class: 'group-members' }, names.join(', ')) : null,
              self && x.id !== g.yourGroup ? h('button', { type: 'button', class: 'small', disabled: full, dataset: { group: x.id }, on: { click: () => act(rt.request('group.join', { group: x.id }), `You joined ${x.name}`).catch(() => {}) } }, full ? 'Full' : `Join ${x.name}`) : null,
              self && x.id === g.yourGroup ? h('button', { type: 'button', class: 'small link-button', on: { click: () => act(rt.request('group.leave'), 'You left the group').catch(() => {}) } }, 'Leave') : null);
          })));
      },
    };
  }

  /** Your profile: expertise tags and a short bio. */
  function profilePanel() {
    const tags = h('input', { id: 'expertise', placeholder: 'e.g. grant writing, data, volunteers' });
    const bio = h('textarea', { id: 'bio', rows: 2, maxlength: 1000 });
    const chips = h('ul', { class: 'chips', 'aria-label': 'Your expertise' });
    const acc = h('ul', { class: 'accepted-highlights' });
    const form = h('form', { id: 'profile-form', class: 'when-open' },
      field('My expertise (comma separated)', tags, 'Others who need this will see you can help.'),
      field('About me', bio),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'profile-save' }, 'Save profile')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try { await act(rt.request('member.update', { expertise: parseTags(tags.value), bio: bio.value }), 'Profile saved ✓'); } catch { /* flashed */ }
    });
    // In a closed session the form is gone: say what the profile holds instead of leaving the card empty.
    const frozen = h('p', { class: 'hint when-closed', id: 'profile-frozen' });
    // Who you are here: in a community session, the name and organization come from the community profile.
    const who = h('p', { id: 'profile-who' });
    const carried = h('p', { class: 'hint', id: 'profile-carried', hidden: true }, 'From your community profile: changes you make here carry over to its next sessions.');
    const panel = h('section', { class: 'card', id: 'profile', 'aria-labelledby': 'profile-h' }, h('h2', { id: 'profile-h' }, 'My profile'), who, carried, chips, frozen, form, acc);
    let filled = false;
    return {
      el: panel,
      update() {
        const you = rt.state.members[rt.me] || rt.state.you;
        if (!you) return;
        fill(who, h('strong', { id: 'profile-name' }, you.name || ''), you.organization ? h('span', { id: 'profile-org' }, ` · ${you.organization}`) : null);
        carried.hidden = you.communityMember == null;
        fill(chips, (you.expertise || []).map((t) => h('li', { class: 'chip' }, t)));
        fill(acc, (you.highlights || []).map((t) => h('li', {}, '★ ', t)));
        frozen.textContent = you.bio ? `About me: ${you.bio}`
          : (you.expertise || []).length ? 'Your profile as the session ended.' : 'You shared no expertise or bio in this session.';
        if (!filled || (document.activeElement !== tags && document.activeElement !== bio && !form.contains(document.activeElement))) {
          tags.value = (you.expertise || []).join(', ');
          bio.value = you.bio || '';
          filled = true;
        }
      },
    };
  }

  return { whatsNextPanel, highlightsPanel, groupsPanel, profilePanel };
}
