// Test doubles for the client's unit tests: a clock whose time moves only when told, and a WebSocket
// class whose server side the test plays by hand (accept, refuse, reply, close).

/** Time and timers under the test's control: nothing runs until `advance(ms)`. */
export class FakeClock {
  constructor(start = 1_800_000_000_000) {
    this.t = start;
    this.timers = [];
    this.ids = 0;
  }

  now() {
    return this.t;
  }

  setTimeout(fn, ms = 0) {
    const id = ++this.ids;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id) {
    this.timers = this.timers.filter((x) => x.id !== id);
  }

  /** Moves time forward, running every timer that falls due on the way (in order, timers they set too). */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

/** Lets promise callbacks (microtasks) and `queueMicrotask` work run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A WebSocket class whose sockets the test drives: `sockets` lists every one the client opened.
 * Closing from the client side reports `onclose` on the clock's next turn, as browsers do asynchronously.
 */
export function fakeNet(clock) {
  const sockets = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }

    send(data) {
      if (this.readyState !== 1) throw new Error('socket not open');
      this.sent.push(JSON.parse(data));
    }

    close(code = 1000, reason = '') {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.closedWith = { code, reason };
      clock.setTimeout(() => this.onclose?.({ code, reason }), 0);
    }

    // ---- the server's side
    accept() {
      this.readyState = 1;
      this.onopen?.();
    }

    /** A failed handshake (a node down answers 503; the page only sees the close). */
    refuse() {
      this.readyState = 3;
      this.onclose?.({ code: 1006, reason: '' });
    }

    deliver(msg) {
      this.onmessage?.({ data: JSON.stringify(msg) });
    }

    /** Answers the last request sent on this socket. */
    reply(msg) {
      const req = this.sent.at(-1);
      this.deliver({ ref: req.ref, ...msg });
    }

    drop(code = 1006, reason = '') {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
  }
  return { FakeWS, sockets };
}

/** A key-value store like localStorage, in memory. */
export function memory(init = {}) {
  const m = new Map(Object.entries(init));
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), m };
}
