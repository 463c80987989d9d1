/**
 * The client's room-state reducer: one pure function from (state, server message) to the next state.
 * `client.js` keeps `rt.state` with it (and with `reduceAck` for your own acks); Node's test runner imports it directly
 * (Scripts/tests/client/state.test.mjs).
 * @module state
 */

/**
 * The room as this member sees it. Collections are objects keyed by id (string keys).
 * @typedef {object} RoomState
 * @property {string} room code
 * @property {number} seq last event seq applied
 * @property {string} title
 * @property {object} settings
 * @property {object} you your profile `{id, name, organization, role, expertise, bio, online}`
 * @property {Object<string, object>} members current members by id (profiles, with `online`)
 * @property {Object<string, object>} needs active needs by id
 * @property {Object<string, object>} polls polls by id, each with `results` and `yourBallot` when known
 * @property {{polls:number[], needs:object[]}} ranking the ranked needs, best first
 * @property {object} interviews `{active, round, phase, endsAt, settings, waiting, yourPair, highlights, yourNotes}`;
 *   `yourPair` is your current `interview.assigned` (`{round, pair, partners, youAskFirst, prompts, phase, endsAt, link?, partnerLeft?}`)
 * @property {object} groups `{mode, groups:[{id, name, description, capacity?, need?, members}], timers:[{id, label, endsAt, group?}], yourGroup?, saved?}`
 * @property {object[]} announcements `{text, at, group?}`, newest last (this session only)
 * @property {number} [closedAt] when the facilitator closed the session (ms epoch); set, the room's results are final
 *   and requests that would change it fail with `room_closed`
 */

/** The state before any `room.state`. */
export function emptyState() {
  return {
    room: null, seq: 0, title: '', createdAt: 0, settings: {}, you: null,
    members: {}, needs: {}, polls: {}, ranking: { polls: [], needs: [] },
    interviews: { active: false, round: 0, phase: 'done', endsAt: 0, settings: {}, waiting: false, yourPair: null, highlights: [], yourNotes: [] },
    groups: { mode: 'assigned', groups: [], timers: [] },
    agenda: { steps: [] },
    wall: { view: 'join' },
    announcement: null,
    announcements: [],
  };
}

export function byId(list) {
  const out = {};
  for (const x of list || []) out[String(x.id)] = x;
  return out;
}

function yourGroup(groups, me) {
  const g = groups.groups.find((x) => (x.members || []).includes(me));
  const next = { ...groups };
  if (g) next.yourGroup = g.id;
  else delete next.yourGroup;
  return next;
}

/**
 * Applies one server message (event or notice) to a room state.
 * @param {object} s the current state (mutated in place for collections, as the UI reads `rt.state` live)
 * @param {object} msg a message from the server
 * @param {{me?: number|null, now?: number}} [ctx] your member id, and server time now (ms)
 * @returns {object} the next state (a new object only for `room.state`)
 */
export function reduce(s, msg, ctx = {}) {
  const set = (obj, x) => { if (x && x.id != null) obj[String(x.id)] = x; };
  const now = ctx.now ?? Date.now();
  switch (msg.type) {
    case 'room.state': {
      const fresh = emptyState();
      fresh.announcements = s.announcements;
      for (const [k, v] of Object.entries(msg)) if (k !== 'type') fresh[k] = v;
      fresh.members = byId(msg.members);
      fresh.needs = byId(msg.needs);
      fresh.polls = byId(msg.polls);
      fresh.ranking = msg.ranking || { polls: [], needs: [] };
      fresh.interviews = { ...emptyState().interviews, ...(msg.interviews || {}) };
      fresh.groups = { ...emptyState().groups, ...(msg.groups || {}) };
      fresh.agenda = msg.agenda || { steps: [] };
      fresh.wall = msg.wall || { view: 'join' };
      fresh.announcement = msg.announcement || null;
      return fresh;
    }
    case 'member.joined':
    case 'member.updated':
      set(s.members, msg.member);
      if (s.you && msg.member && msg.member.id === s.you.id) s.you = { ...s.you, ...msg.member };
      break;
    case 'member.presence':
      if (s.members[msg.member]) s.members[msg.member] = { ...s.members[msg.member], online: msg.online };
      break;
    case 'room.presence':
      // Large rooms: counts instead of per-member events (PROTOCOL.md, Large rooms).
      s.memberCount = msg.members;
      s.onlineCount = msg.online;
      break;
    case 'member.left':
      delete s.members[msg.member];
      break;
    case 'room.created':
      s.title = msg.title;
      break;
    case 'room.closed':
      s.closedAt = msg.closedAt ?? (Date.parse(msg.at) || now);
      break;
    case 'need.added':
    case 'need.updated':
      set(s.needs, msg.need);
      break;
    case 'need.merged':
      for (const id of msg.from || []) delete s.needs[id];
      set(s.needs, msg.need);
      break;
    case 'need.removed':
      delete s.needs[msg.need];
      break;
    case 'poll.created':
    case 'poll.opened':
    case 'poll.closed': {
      const old = s.polls[msg.poll.id] || {};
      const next = { ...old, ...msg.poll };
      // An anonymous ballot is no longer shown once the poll closes; the turnout is for open polls.
      if (msg.type === 'poll.closed' && msg.poll.anonymous) delete next.yourBallot;
      if (msg.type === 'poll.closed') delete next.turnout;
      s.polls[msg.poll.id] = next;
      break;
    }
    case 'poll.results': {
      const p = s.polls[msg.poll];
      if (p) {
        const { type, ...results } = msg;
        p.results = results;
      }
      break;
    }
    case 'poll.turnout': {
      const p = s.polls[msg.poll];
      if (p && p.state === 'open') p.turnout = { answered: msg.answered, present: msg.present };
      break;
    }
    case 'poll.revealed':
      if (s.polls[msg.poll]) s.polls[msg.poll] = { ...s.polls[msg.poll], revealed: true };
      break;
    case 'needs.ranking':
      s.ranking = { polls: msg.polls || [], needs: msg.needs || [] };
      break;
    case 'room.announcement':
      s.announcements = [...s.announcements, { text: msg.text, at: msg.at || new Date(now).toISOString(), group: msg.group }].slice(-20);
      // The room-wide one stands (on the wall too) until replaced or cleared; a group's is a passing notice.
      if (msg.group == null) s.announcement = { text: msg.text, at: Date.parse(msg.at) || now };
      break;
    case 'room.announcementCleared':
      s.announcement = null;
      break;
    case 'agenda.changed':
      s.agenda = { ...msg.agenda };
      break;
    case 'agenda.full':
      s.agenda = { ...msg.agenda };
      break;
    case 'agenda.step':
      s.agenda = { ...s.agenda, current: msg.current, startedAt: msg.startedAt, poll: msg.poll };
      if (msg.poll == null) delete s.agenda.poll;
      // A started step stays locked against edits (step_locked) even after agenda.goto moves on; the
      // server does not resend `locked` with each step, so the editor's copy follows here.
      if (msg.current != null) s.agenda.locked = [...new Set([...(s.agenda.locked || []), msg.current])].sort((a, b) => a - b);
      break;
    case 'wall.changed':
      s.wall = msg.wall || { view: 'join' };
      break;
    case 'timer.started':
      s.groups.timers = [...s.groups.timers.filter((t) => t.id !== msg.timer.id), msg.timer];
      break;
    case 'timer.ended': {
      const id = msg.timer?.id ?? msg.timer;
      s.groups.timers = s.groups.timers.filter((t) => t.id !== id);
      if (msg.message) s.announcements = [...s.announcements, { text: msg.message, at: msg.at, timer: true }].slice(-20);
      break;
    }
    case 'groups.created':
      s.groups = yourGroup({ ...s.groups, mode: msg.mode, groups: msg.groups || [] }, ctx.me);
      break;
    case 'group.changed':
      s.groups = yourGroup({ ...s.groups, groups: s.groups.groups.map((g) => (g.id === msg.group ? { ...g, members: msg.members } : g)) }, ctx.me);
      break;
    case 'groups.saved':
      if (s.groups.saved && !s.groups.saved.includes(msg.name)) s.groups.saved = [...s.groups.saved, msg.name];
      break;
    case 'interviews.started':
      s.interviews = { ...s.interviews, active: true, settings: msg.settings, round: 0, phase: 'done', yourPair: null, waiting: false };
      break;
    case 'interviews.round':
      s.interviews = { ...s.interviews, active: true, round: msg.round, phase: msg.phase, endsAt: msg.endsAt, pairs: msg.pairs, unmet: msg.unmet, yourPair: null, waiting: false };
      break;
    case 'interview.phase': {
      const iv = { ...s.interviews, phase: msg.phase, endsAt: msg.endsAt };
      if (iv.yourPair) iv.yourPair = { ...iv.yourPair, phase: msg.phase, endsAt: msg.endsAt };
      s.interviews = iv;
      break;
    }
    case 'interviews.ended':
      s.interviews = { ...s.interviews, active: false, phase: 'done', yourPair: null, waiting: false };
      break;
    case 'interview.assigned': {
      const { type, room, ...body } = msg;
      s.interviews = { ...s.interviews, yourPair: body, waiting: false };
      break;
    }
    case 'interview.partner-left':
      if (s.interviews.yourPair && s.interviews.yourPair.pair === msg.pair) {
        s.interviews = { ...s.interviews, yourPair: { ...s.interviews.yourPair, partnerLeft: msg.member } };
      }
      break;
    case 'interview.highlight':
      s.interviews = {
        ...s.interviews,
        highlights: [...(s.interviews.highlights || []), { highlight: msg.highlight, author: msg.author, about: msg.about, text: msg.text, accepted: false }],
      };
      break;
    case 'interview.note':
      s.interviews = { ...s.interviews, yourNotes: [...(s.interviews.yourNotes || []), msg.note] };
      break;
    default:
      break;
  }
  return s;
}

/**
 * Applies what the ack of your own request says about your view of the room: ballots are never
 * broadcast, so `vote.cast` / `vote.retract` set `yourBallot` here; accepted highlights, a rematch and
 * the facilitator's full agenda likewise. Mutates `s` like {@link reduce}.
 * @param {object} s the current state
 * @param {string} type the request's type
 * @param {object} fields the request's fields (without `type` and `ref`)
 * @param {object} ack the ack
 * @returns {object|null} what changed (`{type, poll?}`, the client's `change` payload), or null
 */
export function reduceAck(s, type, fields, ack) {
  switch (type) {
    case 'vote.cast': {
      if (!s.polls[fields.poll]) return null;
      const { poll, ...ballot } = fields;
      s.polls[poll].yourBallot = ballot;
      return { type, poll };
    }
    case 'vote.retract':
      if (!s.polls[fields.poll]) return null;
      delete s.polls[fields.poll].yourBallot;
      return { type, poll: fields.poll };
    case 'interview.accept': {
      const hs = (s.interviews.highlights || []).map((h) => (h.highlight === fields.highlight ? { ...h, accepted: true } : h));
      s.interviews = { ...s.interviews, highlights: hs };
      return { type };
    }
    case 'interview.rematch':
      s.interviews = { ...s.interviews, waiting: !!ack.waiting, yourPair: ack.waiting ? null : s.interviews.yourPair };
      return { type };
    case 'agenda.set':
      if (!ack.agenda) return null;
      s.agenda = ack.agenda;
      return { type };
    default:
      return null;
  }
}
