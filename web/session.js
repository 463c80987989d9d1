/**
 * Where seats are remembered: one entry per room, by default in `localStorage` under `roundtable:ROOM`,
 * so a reload or a second tab resumes the same member instead of joining as a new one.
 * `RoundtableClient` keeps its sessions here; nothing in this module talks to the network.
 * @module session
 */

/**
 * Normalizes a room code the way the server matches it: upper case, `O`→`0`, `I`/`L`→`1`, no `-` or spaces.
 * @param {string} code
 * @returns {string}
 */
export function normalizeCode(code) {
  return String(code || '').toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/**
 * Tokens and keys per room, by default in `localStorage`.
 * @typedef {{getItem(k:string):string|null, setItem(k:string,v:string):void, removeItem(k:string):void}} KeyValueStore
 */

/**
 * What is remembered about one room: enough to resume, and the facilitator key if you have it.
 * @typedef {{room:string, token:string, member:number, role:string, facilitatorKey?:string}} Session
 */

/** A key-value store in memory, for Node, tests and browsers that refuse `localStorage`. */
export function memoryStore() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
}

/** `localStorage` when it works (private modes may throw on write), else a memory store. */
export function defaultStore() {
  try {
    const s = globalThis.localStorage;
    const probe = '__roundtable_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return memoryStore();
  }
}

/** The sessions of a key-value store: `{room, token, member, role, facilitatorKey?}` per room. */
export class SessionStore {
  /** @param {{getItem(k:string):string|null, setItem(k:string,v:string):void, removeItem(k:string):void}} [store] */
  constructor(store = defaultStore()) {
    this.store = store;
  }

  key(room) {
    return `roundtable:${normalizeCode(room)}`;
  }

  /** The session stored for a room, or null (also when the entry is unreadable). */
  get(room) {
    try {
      const raw = this.store.getItem(this.key(room));
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  }

  /**
   * Stores a session over the one already kept for its room: fields left undefined keep their stored
   * value, so a member's resume does not drop a facilitator key stored earlier.
   * @returns {object} the merged session
   */
  save(session) {
    const prev = this.get(session.room) || {};
    const merged = { ...prev, ...Object.fromEntries(Object.entries(session).filter(([, v]) => v !== undefined)) };
    // A full or refusing store only costs the resume after a reload; the live session goes on.
    try { this.store.setItem(this.key(session.room), JSON.stringify(merged)); } catch { /* ignore */ }
    return merged;
  }

  /** Forgets a room's session (its token stays valid on the server). */
  forget(room) {
    if (!room) return;
    try { this.store.removeItem(this.key(room)); } catch { /* ignore */ }
  }
}
