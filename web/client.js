/**
 * Roundtable client for browsers and Node: dependency-free ES modules, no build step.
 *
 * ```js
 * import { RoundtableClient } from '/client.js';
 * const rt = new RoundtableClient('wss://example.org/ws');
 * rt.on('connection', (s) => console.log('connection is', s));
 * await rt.connect();
 * const ack = await rt.join({ room: 'E7Z98H5K', name: 'Ann', organization: 'Food Bank' });
 * rt.on('change', () => render(rt.state));
 * await rt.request('need.submit', { text: 'Help writing grants', tags: ['grants'] });
 * ```
 *
 * What it does for you:
 * - `request()` sends `{type, ref, ...fields}` and resolves with the `ack` (rejects with a
 *   {@link RoundtableError} on `error`, on timeout, or when the connection drops first).
 * - `on(type, cb)` for any server message type (`need.added`, `poll.results`, …), `'*'` for all
 *   of them, plus the client's own events: `change`, `connection`, `connecting`, `open`,
 *   `reconnecting`, `closed`, `joined`, `session-lost`, `room-archived`, `unreachable`, `gap`.
 * - `state` is the room as this member sees it, kept up to date from `room.state`, events and notices.
 * - Room routing for clusters (docs/SCALING.md): `room.create` goes to the base URL (`/ws`); joining,
 *   resuming and every reconnect of a room go to `/ws/{code}`, which HAProxy sends to the room's node
 *   (a single server accepts both).
 * - Automatic reconnect with exponential backoff and jitter; after reconnecting it resumes with
 *   `room.join {room, token, since: lastSeq}` and applies the missed events (or the fresh
 *   `room.state`). A gap in `seq` triggers a resync. The resume token is stored per room in
 *   `localStorage` (key `roundtable:ROOM`). While it holds a token, failed handshakes (a node down:
 *   503) and `room_not_found` are retried, never taken as "the room is gone", for up to
 *   `resumeGiveUp` ms; then it stops and emits `unreachable`, keeping the token.
 *
 * It is three parts along their seams: `transport.js` (the WebSocket, routing, backoff), `session.js`
 * (seats in `localStorage`) and `state.js` (the reducer); this class holds the protocol between them
 * (requests and replies, joins and resumes, event order). Types: `client.d.ts`, generated message
 * types in `messages.d.ts`. The npm package `@roundtable/client` is this folder (package.json).
 *
 * Protocol reference: docs/PROTOCOL.md. Client guide: docs/CLIENT.md.
 * @module roundtable-client
 */
import { emptyState, reduce, reduceAck } from './state.js';
import { SessionStore, defaultStore, normalizeCode } from './session.js';
import { RoundtableError, Transport, defaultURL, roomURL, systemClock } from './transport.js';

export { emptyState, reduce, reduceAck, RoundtableError, defaultURL, roomURL, normalizeCode, Transport, SessionStore, systemClock };

/** Notices (no `seq`) the client knows; everything with a `seq` is a room event. */
const NOTICES = new Set(['room.state', 'poll.results', 'poll.turnout', 'needs.ranking', 'agenda.full', 'ack', 'error']);

/** Events whose replay after a resume leaves nothing stale (no notice would have followed them). */
const SELF_CONTAINED = new Set([
  'member.joined', 'member.presence', 'member.updated', 'member.left', 'room.created', 'room.keyRotated',
  'room.announcement', 'timer.started', 'timer.ended', 'groups.created', 'group.changed', 'groups.saved',
  'interview.highlight', 'interview.phase', 'interviews.started', 'interviews.ended', 'room.closed',
  'wall.changed', 'agenda.step', 'room.announcementCleared',
]);

/** Requests that may be sent before the connection has joined a room. */
const JOIN_TYPES = new Set(['room.create', 'room.join']);

/** @typedef {import('./session.js').KeyValueStore} KeyValueStore */
/** @typedef {import('./session.js').Session} Session */
/** @typedef {import('./state.js').RoomState} RoomState */

/**
 * A connection to a Roundtable server that keeps one room's state.
 */
export class RoundtableClient {
  /**
   * @param {string} [url] WebSocket URL, default: `/ws` on the page's host
   * @param {object} [options]
   * @param {number} [options.requestTimeout=10000] ms before a request rejects with `timeout`
   * @param {number} [options.minBackoff=500] first reconnect delay, ms
   * @param {number} [options.maxBackoff=15000] longest reconnect delay, ms
   * @param {number} [options.connectTimeout=8000] ms a connection attempt may take
   * @param {KeyValueStore} [options.storage] where sessions are kept (default `localStorage`)
   * @param {typeof WebSocket} [options.WebSocket] WebSocket implementation (default the global one)
   * @param {boolean} [options.resumeWithEvents=true] resume with `since` (missed events) rather than a fresh `room.state`
   * @param {number} [options.resumeGiveUp=600000] ms a held session keeps retrying an unreachable room
   *   (failed handshakes, `room_not_found`) before the client stops and emits `unreachable`
   * @param {number} [options.joinAttempts=3] connection attempts a new join (no stored token) makes before
   *   it rejects with `unreachable`
   * @param {{now():number, setTimeout(fn:()=>void, ms:number):any, clearTimeout(t:any):void}} [options.clock]
   *   time and timers (default the system's); tests pass a fake one
   * @param {()=>number} [options.random] jitter source in [0, 1) (default `Math.random`)
   */
  constructor(url, options = {}) {
    this.options = {
      requestTimeout: 10000, minBackoff: 500, maxBackoff: 15000, connectTimeout: 8000, resumeWithEvents: true,
      resumeGiveUp: 600000, joinAttempts: 3, ...options,
    };
    this.clock = options.clock || systemClock;
    this.storage = options.storage || defaultStore();
    this.sessions = new SessionStore(this.storage);
    this.transport = new Transport(url || defaultURL(), {
      WebSocket: options.WebSocket, clock: this.clock, random: options.random,
      minBackoff: this.options.minBackoff, maxBackoff: this.options.maxBackoff, connectTimeout: this.options.connectTimeout,
    }, {
      emit: (type, payload) => this.emit(type, payload),
      resuming: () => !!this.session,
      attached: () => { this.joined = false; this.replay = null; },
      opened: () => this.opened(),
      message: (msg) => this.receive(msg),
      closed: (ev) => this.closed(ev),
      detached: (code, message) => { this.joined = false; this.failPending(code, message); },
      giveUp: (reason) => this.giveUp(reason),
    });
    /** @type {RoomState} */
    this.state = emptyState();
    /** @type {Session|null} the session being kept alive (after a successful create/join) */
    this.session = null;
    /** Server time minus local time, ms, estimated from event timestamps. */
    this.clockOffset = 0;
    /** Whether this connection has joined its room (requests other than create/join wait for it). */
    this.joined = false;
    this.listeners = new Map();
    this.pending = new Map();
    this.waiting = [];
    this.nextRef = 1;
    /** When the held session last stopped being joined (ms epoch), 0 while joined. */
    this.outageSince = 0;
    /** The explicit `join()` waiting for a resume: `{resolve, reject}`. */
    this.resumeWaiter = null;
  }

  /** The base WebSocket URL (`/ws`). */
  get url() { return this.transport.url; }

  /** The current socket, or null. */
  get ws() { return this.transport.ws; }

  /** `idle` | `connecting` | `open` | `reconnecting` | `closed` */
  get connectionState() { return this.transport.state; }

  /** Room code the connection is routed to (`/ws/{code}`), or null for the base URL (room creation). */
  get route() { return this.transport.route; }

  // ------------------------------------------------------------------ events

  /**
   * Subscribes to a message type (`need.added`, `poll.results`, …), `'*'` (every server message),
   * or a client event: `change` (state changed; arg: the message), `connection` (arg: the new
   * connection state), `connecting`, `open`, `reconnecting` (arg: `{attempt, delay}`), `closed`,
   * `joined` (arg: the join/create ack), `session-lost` (the stored token no longer works; arg: error),
   * `room-archived` (a resume found the room archived after a quiet period: the session is kept, the
   * client stops reconnecting until its facilitator reopens the room; arg: error),
   * `unreachable` (the room's server could not be reached for `resumeGiveUp` ms: the client stops
   * reconnecting and keeps the session; `reconnectNow()` or a new `join()` tries again; arg: error),
   * `gap` (a missed seq was detected; a resync follows).
   * @param {string} type
   * @param {(payload:any, client:RoundtableClient)=>void} cb
   * @returns {() => void} unsubscribe
   */
  on(type, cb) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(cb);
    return () => this.off(type, cb);
  }

  /** Removes a callback added with {@link on}. */
  off(type, cb) {
    this.listeners.get(type)?.delete(cb);
  }

  /**
   * Resolves with the next message of `type` that satisfies `pred`.
   * @param {string} type
   * @param {(msg:any)=>boolean} [pred]
   * @param {number} [timeout]
   * @returns {Promise<any>}
   */
  once(type, pred = () => true, timeout = this.options.requestTimeout) {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => { off(); reject(new RoundtableError('timeout', `no ${type} within ${timeout} ms`)); }, timeout);
      const off = this.on(type, (m) => {
        if (!pred(m)) return;
        this.clock.clearTimeout(timer);
        off();
        resolve(m);
      });
    });
  }

  emit(type, payload) {
    for (const cb of [...(this.listeners.get(type) || [])]) {
      try { cb(payload, this); } catch (e) { console.error(`roundtable: listener for ${type} failed`, e); }
    }
  }

  // ------------------------------------------------------------------ connection

  /**
   * Opens the connection (and keeps reopening it until {@link close}). Resolves once the socket is
   * open; if a session is known, the resume is already on its way.
   * @returns {Promise<void>}
   */
  connect() {
    return this.transport.connect();
  }

  /**
   * Routes the connection to a room (`/ws/{code}`), or to the base URL with `null`. Resolves once open
   * on that route; rejects with `unreachable` after `maxFailures` failed attempts.
   * @param {string|null} room normalized code
   * @param {number} [maxFailures=Infinity]
   * @returns {Promise<void>}
   */
  routeTo(room, maxFailures = Infinity) {
    return this.transport.routeTo(room, maxFailures);
  }

  opened() {
    // With a session the backoff restarts only once the room is joined again (a resume that fails
    // at once, e.g. room_not_found during a misroute, must not retry in a tight loop).
    if (!this.session) this.transport.resetBackoff();
    else this.resume();
  }

  closed(ev) {
    this.joined = false;
    if (this.session && !this.outageSince) this.outageSince = this.clock.now();
    this.failPending('disconnected', `connection closed (${ev.code}${ev.reason ? ': ' + ev.reason : ''})`);
    if (ev.code === 4001) {
      // Removed by a facilitator: the token is dead, do not come back.
      this.forgetSession(this.session?.room);
      this.emit('session-lost', new RoundtableError('removed', ev.reason || 'removed from the room'));
      this.transport.stopReconnecting();
    }
  }

  /** Before each reconnect: a held seat whose room stayed unreachable too long stops here. */
  giveUp(reason) {
    const { resumeGiveUp } = this.options;
    const now = this.clock.now();
    if (!this.session || !this.outageSince || now - this.outageSince <= resumeGiveUp) return false;
    // Held seat, room unreachable for too long: stop, keep the token (reconnectNow or join retries).
    const e = new RoundtableError('unreachable', `room ${this.session.room} has been unreachable for ${Math.round((now - this.outageSince) / 1000)} s`);
    this.transport.stop(reason);
    this.failWaiting(e);
    const w = this.resumeWaiter;
    this.resumeWaiter = null;
    if (w) w.reject(e);
    else this.emit('unreachable', e);
    return true;
  }

  /** Reconnects now instead of waiting for the backoff timer (e.g. a "retry now" button). */
  reconnectNow() {
    if (this.outageSince) this.outageSince = this.clock.now();
    this.transport.reconnectNow();
  }

  /**
   * Closes the connection for good (no reconnect). The stored session stays, so a later
   * `connect()` resumes it.
   */
  close() {
    this.transport.close();
  }

  failPending(code, message) {
    for (const [ref, p] of this.pending) {
      this.clock.clearTimeout(p.timer);
      p.reject(new RoundtableError(code, message));
      this.pending.delete(ref);
    }
  }

  // ------------------------------------------------------------------ requests

  /**
   * Sends a request and resolves with its `ack`. Requests other than `room.create`/`room.join`
   * made while (re)connecting wait until the room is joined again, within the timeout.
   * @param {string} type e.g. `need.submit`
   * @param {object} [fields]
   * @param {{timeout?:number}} [opts]
   * @returns {Promise<object>} the ack
   * @throws {RoundtableError} `code` from the server, or `timeout`, `disconnected`, `closed`
   */
  request(type, fields = {}, opts = {}) {
    const timeout = opts.timeout ?? this.options.requestTimeout;
    return new Promise((resolve, reject) => {
      const ref = `c${this.nextRef++}`;
      const entry = { type, fields, resolve, reject, timer: null };
      entry.timer = this.clock.setTimeout(() => {
        this.pending.delete(ref);
        this.waiting = this.waiting.filter((w) => w.ref !== ref);
        reject(new RoundtableError('timeout', `${type}: no reply within ${timeout} ms`));
      }, timeout);
      if (this.canSend(type)) this.sendNow(ref, entry);
      else this.waiting.push({ ref, entry });
    });
  }

  canSend(type) {
    return this.transport.isOpen && (this.joined || JOIN_TYPES.has(type));
  }

  sendNow(ref, entry) {
    this.pending.set(ref, entry);
    try {
      this.transport.send(JSON.stringify({ ...entry.fields, type: entry.type, ref }));
    } catch (e) {
      this.pending.delete(ref);
      this.clock.clearTimeout(entry.timer);
      entry.reject(new RoundtableError('disconnected', String(e)));
    }
  }

  flushWaiting() {
    const list = this.waiting;
    this.waiting = [];
    for (const { ref, entry } of list) {
      if (this.canSend(entry.type)) this.sendNow(ref, entry);
      else this.waiting.push({ ref, entry });
    }
  }

  failWaiting(e) {
    for (const { entry } of this.waiting) { this.clock.clearTimeout(entry.timer); entry.reject(e); }
    this.waiting = [];
  }

  /**
   * Creates a room; you become its facilitator. Stores the session (token and facilitator key).
   * With `community` (and its `facilitatorKey`) the room is a session of that community.
   * @param {{title:string, name:string, organization?:string, settings?:object, createToken?:string, community?:string, facilitatorKey?:string}} fields
   * @returns {Promise<object>} the ack `{room, member, role, facilitatorKey, token}`
   */
  async createRoom(fields) {
    // Creation goes to the base URL (any node of a cluster), a community's session to the community's route
    // (its node holds the community and all its sessions); the room's later reconnects use its own route.
    this.session = null;
    const t = this.transport;
    const where = fields.community ? normalizeCode(fields.community) : null;
    if (t.route !== where || t.wsRoute !== where) await t.routeTo(where, this.options.joinAttempts);
    else await t.connect();
    const ack = await this.request('room.create', fields);
    t.route = ack.room;
    this.adoptSession({ room: ack.room, token: ack.token, member: ack.member, role: ack.role, facilitatorKey: ack.facilitatorKey });
    return ack;
  }

  /**
   * Joins a room. With a stored session for that room (and no `facilitatorKey`), resumes it
   * instead; if the stored token no longer works, joins as new (when a `name` is given).
   * With `communityKey` (a community session) the member joins by their personal key: no name, the
   * profile comes from the community.
   * @param {{room:string, name?:string, organization?:string, role?:'member'|'observer', facilitatorKey?:string, communityKey?:string}} fields
   * @returns {Promise<object>} the ack
   */
  async join(fields) {
    const room = normalizeCode(fields.room);
    const stored = this.storedSession(room);
    if (stored && !fields.facilitatorKey) {
      try {
        const ack = await this.resumeStored(stored);
        this.adoptSession({ ...stored, member: ack.member, role: ack.role });
        return ack;
      } catch (e) {
        if (e.code !== 'bad_credentials' || !(fields.name || fields.communityKey)) throw e;
      }
    }
    // A new seat: a few attempts only (a wrong code or a down node should say so, not spin).
    if (this.session && this.session.room !== room) this.session = null;
    await this.transport.routeTo(room, this.options.joinAttempts);
    // A community key names the member: a name or organization sent with it would overwrite the profile.
    const req = fields.communityKey ? { room, communityKey: fields.communityKey } : { room, name: fields.name, organization: fields.organization || '' };
    if (fields.facilitatorKey) req.facilitatorKey = fields.facilitatorKey;
    else if (fields.role) req.role = fields.role;
    const ack = await this.request('room.join', req);
    this.adoptSession({ room: ack.room, token: ack.token, member: ack.member, role: ack.role, facilitatorKey: fields.facilitatorKey });
    return ack;
  }

  /**
   * Resumes a stored seat through the same path as an automatic resume: failed handshakes and
   * `room_not_found` are retried with backoff (within `resumeGiveUp`); rejects on `bad_credentials`
   * (the session is forgotten), `room_archived` or `unreachable` (the session is kept).
   */
  resumeStored(stored) {
    return new Promise((resolve, reject) => {
      if (this.resumeWaiter) this.resumeWaiter.reject(new RoundtableError('closed', 'superseded by another join'));
      this.resumeWaiter = { resolve, reject };
      this.session = { ...stored };
      this.outageSince = this.clock.now();
      const t = this.transport;
      const wasOpen = t.isOpen && t.wsRoute === stored.room;
      t.routeTo(stored.room).catch(() => {});
      // Already open on the room's route (and not joined): resume on this connection.
      if (wasOpen && !this.joined) this.resume();
    });
  }

  /** Leaves the room for good (the token stops working) and forgets the session. */
  async leave() {
    const room = this.session?.room;
    const ack = await this.request('room.leave');
    this.forgetSession(room);
    this.session = null;
    this.transport.route = null;
    this.state = emptyState();
    this.emit('change', { type: 'room.left' });
    return ack;
  }

  /**
   * The session stored for a room, if any.
   * @param {string} room
   * @returns {Session|null}
   */
  storedSession(room) {
    return this.sessions.get(room);
  }

  /** Forgets the stored session of a room (the token stays valid on the server). */
  forgetSession(room) {
    this.sessions.forget(room);
  }

  adoptSession(s) {
    this.session = this.sessions.save(s);
  }

  /** The facilitator key of the current room, if this browser has it. */
  get facilitatorKey() {
    return this.session?.facilitatorKey || null;
  }

  resume(withoutSince = false) {
    const s = this.session;
    const fields = { room: s.room, token: s.token };
    if (this.forceState) { withoutSince = true; this.forceState = false; }
    if (!withoutSince && this.options.resumeWithEvents && this.state.room === s.room && this.state.seq > 0) fields.since = this.state.seq;
    const ref = `c${this.nextRef++}`;
    const settle = (fn) => {
      const w = this.resumeWaiter;
      this.resumeWaiter = null;
      return w ? (fn(w), true) : false;
    };
    const entry = {
      type: 'room.join', fields,
      resolve: (ack) => { settle((w) => w.resolve(ack)); this.emit('resumed', ack); },
      reject: (e) => {
        if (e.code === 'bad_credentials') {
          // The room's own node says the token is dead (left, removed): the seat is gone.
          this.forgetSession(s.room);
          this.session = null;
          this.outageSince = 0;
          this.failWaiting(e);
          if (!settle((w) => w.reject(e))) this.emit('session-lost', e);
        } else if (e.code === 'room_archived') {
          // Resting until its facilitator reopens it: keep the token for later, stop retrying now.
          this.failWaiting(e);
          this.transport.halt(1000, 'room archived');
          settle((w) => w.reject(e));
          this.emit('room-archived', e);
        } else if (e.code === 'room_not_found' || e.code === 'not_ready' || e.code === 'storage_unavailable') {
          // A node recovering, or a request that reached a node other than the room's (an outage, a
          // proxy being reconfigured): never "the room is gone" while we hold its token. Retry with
          // backoff on a new connection, within resumeGiveUp.
          this.transport.drop();
        } else if (e.code !== 'disconnected' && e.code !== 'timeout') {
          // Anything else ends an explicit join() (the automatic resume just tries again later).
          settle((w) => w.reject(e));
        }
      },
      timer: null,
    };
    entry.timer = this.clock.setTimeout(() => { this.pending.delete(ref); this.transport.drop(); }, this.options.requestTimeout);
    this.sendNow(ref, entry);
  }

  /**
   * Forces a fresh `room.state` (reconnects and resumes without `since`). Used after a gap.
   */
  resync() {
    this.forceState = true;
    this.transport.drop(4000, 'resync');
  }

  // ------------------------------------------------------------------ incoming

  receive(msg) {
    const { type } = msg;
    if ((type === 'ack' || type === 'error') && msg.ref != null && this.pending.has(msg.ref)) {
      const p = this.pending.get(msg.ref);
      this.pending.delete(msg.ref);
      this.clock.clearTimeout(p.timer);
      if (type === 'ack') {
        this.afterAck(p, msg);
        p.resolve(msg);
      } else {
        if (msg.code === 'room_closed' && this.joined && this.state.room && !this.state.closedAt) {
          // The room.closed event comes first; if it went missing, trust the server and fetch the final state.
          this.state.closedAt = this.serverNow();
          this.emit('change', { type: 'room.closed' });
          queueMicrotask(() => this.resync());
        }
        p.reject(new RoundtableError(msg.code, msg.message, msg));
      }
      this.emit(type, msg);
      this.emit('*', msg);
      return;
    }
    if (typeof msg.seq === 'number' && msg.room && !NOTICES.has(type)) {
      if (msg.room !== this.state.room) return;
      if (msg.seq <= this.state.seq) return; // already applied (a resume can overlap)
      if (msg.seq !== this.state.seq + 1) {
        this.emit('gap', { expected: this.state.seq + 1, got: msg.seq });
        this.resync();
        return;
      }
      this.state.seq = msg.seq;
      if (this.replay) {
        // Notices (results, rankings, interview assignments) are not replayed: if a missed event
        // would have been followed by one, ask for a fresh room.state once the replay is over.
        if (!SELF_CONTAINED.has(type)) this.replay.stale = true;
        if (type === 'member.presence' && msg.member === this.replay.member) {
          const stale = this.replay.stale;
          this.replay = null;
          if (stale) queueMicrotask(() => this.resync());
        }
      }
      if (msg.at) {
        const t = Date.parse(msg.at);
        if (!Number.isNaN(t)) this.clockOffset = t - this.clock.now();
      }
    }
    this.apply(msg);
    this.emit(type, msg);
    this.emit('*', msg);
    this.emit('change', msg);
  }

  afterAck(p, ack) {
    const { type, fields } = p;
    if (type === 'room.create' || type === 'room.join') {
      this.joined = true;
      this.transport.resetBackoff();
      this.outageSince = 0;
      this.transport.route = ack.room;
      if (ack.resumed === 'events' && this.state.room === ack.room) {
        // Missed events follow (ending with our own presence); keep the state we have.
        this.replay = { member: ack.member, stale: false };
      } else if (this.state.room !== ack.room) {
        this.state = emptyState();
        this.state.room = ack.room;
      }
      if (this.session && this.session.room === ack.room) this.session = { ...this.session, member: ack.member, role: ack.role };
      this.emit('joined', ack);
      // Give `request()` callers waiting for the join a turn after the join's own caller.
      queueMicrotask(() => this.flushWaiting());
      return;
    }
    const changed = reduceAck(this.state, type, fields, ack);
    if (changed) this.emit('change', changed);
  }

  /** Applies a message to {@link state} (the reducer in state.js). Unknown types are left alone (listen with `on`). */
  apply(msg) {
    this.state = reduce(this.state, msg, { me: this.me, now: this.serverNow() });
  }

  // ------------------------------------------------------------------ helpers

  /** Server time now, in ms since the epoch (local clock corrected by {@link clockOffset}). */
  serverNow() {
    return this.clock.now() + this.clockOffset;
  }

  /** Your member id, once joined. */
  get me() {
    return this.state.you?.id ?? this.session?.member ?? null;
  }

  /** Whether the facilitator closed the session (its results are final; nothing can change it). */
  get roomClosed() {
    return !!this.state.closedAt;
  }

  /** Whether you are a facilitator of the room. */
  get isFacilitator() {
    return (this.state.you?.role ?? this.session?.role) === 'facilitator';
  }

  /** Active needs, oldest first. */
  needsList() {
    return Object.values(this.state.needs).sort((a, b) => a.id - b.id);
  }

  /** Polls by id. */
  pollsList() {
    return Object.values(this.state.polls).sort((a, b) => a.id - b.id);
  }

  /** Current members, by id. */
  membersList() {
    return Object.values(this.state.members).sort((a, b) => a.id - b.id);
  }
}

export default RoundtableClient;
