/**
 * The connection under `RoundtableClient`: one WebSocket at a time, routed to the base URL (`/ws`) or to
 * a room (`/ws/{code}`), reopened with exponential backoff and jitter until told to stop. It knows
 * nothing about rooms, requests or sessions: the client decides through {@link TransportHooks} what an
 * open, a message or a close means, and when an outage has lasted too long.
 *
 * Time comes from an injectable clock (`now`, `setTimeout`, `clearTimeout`) and jitter from an
 * injectable `random`, so the reconnect schedule is testable without a browser or real waiting
 * (Scripts/tests/client/transport.test.mjs).
 * @module transport
 */

/** The clock of the running system. */
export const systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
};

/**
 * The WebSocket URL of the server this page came from: `ws(s)://host/ws`.
 * @param {Location} [loc]
 * @returns {string}
 */
export function defaultURL(loc = globalThis.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

/**
 * The WebSocket URL of a room's route: the base URL's path plus `/{code}` (`ws://host/ws` gives
 * `ws://host/ws/E7Z98H5K`), which a cluster's HAProxy sends to the room's node.
 * @param {string} base e.g. `ws://host/ws`
 * @param {string} code a normalized room code
 * @returns {string}
 */
export function roomURL(base, code) {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${encodeURIComponent(code)}`;
  return u.toString();
}

/** Error of a connection that could not be made (code `unreachable`), or of the client (see client.js). */
export class RoundtableError extends Error {
  /**
   * @param {string} code e.g. `invalid_field`, or client-side `timeout`, `disconnected`, `closed`, `unreachable`
   * @param {string} message human-readable text
   * @param {object} [reply] the raw error reply from the server
   */
  constructor(code, message, reply) {
    super(message || code);
    this.name = 'RoundtableError';
    /** @type {string} */
    this.code = code;
    /** @type {object|undefined} */
    this.reply = reply;
  }
}

/**
 * What the transport asks of its owner. All optional.
 * @typedef {object} TransportHooks
 * @property {(type:string, payload:any)=>void} [emit] connection events: `connecting`, `open`,
 *   `reconnecting`, `closed`, `connection`, `reconnect-scheduled`
 * @property {()=>boolean} [resuming] whether a seat is held (the first attempt then reports `reconnecting`)
 * @property {()=>void} [attached] a new socket is being opened (the previous one is gone)
 * @property {()=>void} [opened] the socket opened (after `open` was emitted and `connect()` resolved)
 * @property {(msg:object)=>void} [message] a parsed JSON message arrived
 * @property {(ev:{code:number, reason:string})=>void} [closed] the socket closed; may call `stopReconnecting()`
 * @property {(code:string, message:string)=>void} [detached] the socket was dropped without a close event (reroute, close())
 * @property {(reason:any)=>boolean} [giveUp] before each backoff: true when the owner stopped the transport instead
 */

export class Transport {
  /**
   * @param {string} url the base WebSocket URL (`/ws`)
   * @param {object} [options]
   * @param {typeof WebSocket} [options.WebSocket] default the global one
   * @param {{now():number, setTimeout(fn:()=>void, ms:number):any, clearTimeout(t:any):void}} [options.clock]
   * @param {()=>number} [options.random] jitter source in [0, 1), default `Math.random`
   * @param {number} [options.minBackoff=500] first reconnect delay, ms
   * @param {number} [options.maxBackoff=15000] longest reconnect delay, ms
   * @param {number} [options.connectTimeout=8000] ms a connection attempt may take
   * @param {TransportHooks} [hooks]
   */
  constructor(url, options = {}, hooks = {}) {
    this.url = url;
    this.WS = options.WebSocket || globalThis.WebSocket;
    this.clock = options.clock || systemClock;
    this.random = options.random || Math.random;
    this.minBackoff = options.minBackoff ?? 500;
    this.maxBackoff = options.maxBackoff ?? 15000;
    this.connectTimeout = options.connectTimeout ?? 8000;
    this.hooks = hooks;
    /** `idle` | `connecting` | `open` | `reconnecting` | `closed` */
    this.state = 'idle';
    this.ws = null;
    /** Room code the connection is routed to (`/ws/{code}`), or null for the base URL (room creation). */
    this.route = null;
    /** The route of the socket in `ws` (it differs from `route` while a reroute is under way). */
    this.wsRoute = null;
    /** Failed attempts since the last reset: the exponent of the backoff. */
    this.attempt = 0;
    this.reconnectTimer = null;
    this.wantOpen = false;
    this.connectPromise = null;
    this.firstConnect = null;
    /** Failed connection attempts after which a pending `connect()` rejects (a new join's bound). */
    this.openFailLimit = Infinity;
  }

  emit(type, payload) {
    this.hooks.emit?.(type, payload);
  }

  setState(s, detail) {
    if (this.state === s) return;
    this.state = s;
    this.emit(s, detail);
    this.emit('connection', s);
  }

  /** Whether the socket is open (messages can be sent). */
  get isOpen() {
    return !!this.ws && this.ws.readyState === 1;
  }

  /** Sends a text frame; throws when there is no socket (the caller fails the request). */
  send(text) {
    if (!this.ws) throw new Error('not connected');
    this.ws.send(text);
  }

  /** The backoff starts over (after a successful join, or an open without a seat to resume). */
  resetBackoff() {
    this.attempt = 0;
  }

  /**
   * Opens the connection (and keeps reopening it until {@link close}). Resolves once the socket is open.
   * @returns {Promise<void>}
   */
  connect() {
    this.wantOpen = true;
    if (this.isOpen) return Promise.resolve();
    if (this.connectPromise) return this.connectPromise;
    this.openFailLimit = Infinity;
    this.connectPromise = new Promise((resolve, reject) => { this.firstConnect = { resolve, reject }; });
    this.openSocket();
    return this.connectPromise;
  }

  /**
   * Routes the connection to a room (`/ws/{code}`), or to the base URL with `null`: an open or opening
   * socket on another route is dropped and a new one opened. Resolves once open on that route.
   * @param {string|null} room normalized code
   * @param {number} [maxFailures=Infinity] failed attempts after which it rejects with `unreachable`
   * @returns {Promise<void>}
   */
  routeTo(room, maxFailures = Infinity) {
    this.wantOpen = true;
    this.openFailLimit = maxFailures;
    if (this.route === room && this.ws && this.wsRoute === room && this.ws.readyState === 1) return Promise.resolve();
    const moving = this.route !== room || (this.ws && this.wsRoute !== room);
    this.route = room;
    if (moving) {
      const old = this.ws;
      this.ws = null;
      if (old) { try { old.close(1000, 'rerouted'); } catch { /* ignore */ } }
      this.hooks.detached?.('disconnected', 'connection rerouted');
      this.attempt = 0;
      this.clock.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (!this.connectPromise) {
      this.connectPromise = new Promise((resolve, reject) => { this.firstConnect = { resolve, reject }; });
    }
    const p = this.connectPromise;
    if (!this.ws && (moving || !this.reconnectTimer)) this.openSocket();
    return p;
  }

  openSocket() {
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (!this.wantOpen) return;
    this.setState(this.attempt === 0 && !this.hooks.resuming?.() ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    let ws;
    try {
      this.wsRoute = this.route;
      ws = new this.WS(this.route ? roomURL(this.url, this.route) : this.url);
    } catch (e) {
      this.scheduleReconnect(e);
      return;
    }
    this.ws = ws;
    this.hooks.attached?.();
    // A handshake that hangs (a half-open network) counts as a failed attempt.
    const guard = this.clock.setTimeout(() => { if (ws.readyState !== 1) { try { ws.close(); } catch { /* ignore */ } } }, this.connectTimeout);
    ws.onopen = () => {
      this.clock.clearTimeout(guard);
      if (ws !== this.ws) return;
      this.setState('open');
      if (this.firstConnect) { this.firstConnect.resolve(); this.firstConnect = null; this.connectPromise = null; }
      this.hooks.opened?.();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      this.hooks.message?.(msg);
    };
    ws.onclose = (ev) => {
      this.clock.clearTimeout(guard);
      if (ws !== this.ws) return;
      this.ws = null;
      this.hooks.closed?.(ev);
      if (this.wantOpen) this.scheduleReconnect(ev);
      else this.setState('closed', ev);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  scheduleReconnect(reason) {
    if (!this.wantOpen) return;
    if (this.firstConnect && this.attempt + 1 >= this.openFailLimit) {
      // A new join whose room cannot be reached (wrong code on a cluster, or its node is down).
      const e = new RoundtableError('unreachable', `could not reach room ${this.route || ''} (${this.attempt + 1} attempts)`.replace('  ', ' '));
      this.firstConnect.reject(e);
      this.firstConnect = null;
      this.connectPromise = null;
      this.wantOpen = false;
      this.setState('closed', reason);
      return;
    }
    if (this.hooks.giveUp?.(reason)) return;
    const base = Math.min(this.maxBackoff, this.minBackoff * 2 ** this.attempt);
    const delay = Math.round(base / 2 + this.random() * base / 2);
    this.attempt += 1;
    this.setState('reconnecting', { attempt: this.attempt, delay, reason });
    this.emit('reconnect-scheduled', { attempt: this.attempt, delay });
    this.reconnectTimer = this.clock.setTimeout(() => this.openSocket(), delay);
  }

  /** Reconnects now instead of waiting for the backoff timer (e.g. a "retry now" button). */
  reconnectNow() {
    this.wantOpen = true;
    this.attempt = 0;
    if (this.ws && this.ws.readyState <= 1) return;
    this.openSocket();
  }

  /** Closes the current socket; the close event leads to a reconnect (unless stopped). */
  drop(code, reason) {
    try { this.ws?.close(code, reason); } catch { /* ignore */ }
  }

  /** No more reconnects after the socket that is closing now (called from the `closed` hook). */
  stopReconnecting() {
    this.wantOpen = false;
  }

  /** Stops reconnecting and reports `closed` (an owner's give-up; the socket is already gone). */
  stop(reason) {
    this.wantOpen = false;
    this.setState('closed', reason);
  }

  /** Stops reconnecting and closes the socket; its close event still reaches the `closed` hook. */
  halt(code, reason) {
    this.wantOpen = false;
    this.clock.clearTimeout(this.reconnectTimer);
    this.drop(code, reason);
  }

  /** Closes for good, at once: no close event follows, pending work is failed through `detached`. */
  close() {
    this.wantOpen = false;
    this.clock.clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) { try { ws.close(1000, 'bye'); } catch { /* ignore */ } }
    this.hooks.detached?.('closed', 'client closed');
    this.setState('closed');
  }
}
