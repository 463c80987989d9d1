/**
 * The community page's logic that touches neither the DOM nor the network: personal links, where keys
 * are kept, the ranking-trend sparkline's geometry and words, and the one-request-per-connection call
 * the page uses for `community.*` requests. Tested in Node (Scripts/tests/client/community_lib.test.mjs).
 * @module community-lib
 */

import { roomURL } from './transport.js';

/**
 * A community id as the server writes it (look-alikes forgiven): 10 Crockford base32 characters, the node's
 * `cluster.nodePrefix` (0 to 3 characters), `C`, then random ones: `C7Q2M9XK4T` on a single node,
 * `B1C9XK4T2M` on node `B1`.
 */
export function normalizeCommunity(id) {
  const s = String(id || '').toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^(?=[0-9A-HJKMNP-TV-Z]{10}$)[0-9A-HJKMNP-TV-Z]{0,3}C/.test(s) ? s : null;
}

/**
 * What a community link carries: `?c=ID` in the query, the key in the fragment (`#k=` a member's personal
 * key, `#f=` the facilitator key), so the key never reaches a server log.
 * @param {string} search `location.search`
 * @param {string} hash `location.hash`
 * @returns {{community: string|null, communityKey: string|null, facilitatorKey: string|null}}
 */
export function parseCommunityLink(search, hash) {
  const q = new URLSearchParams(String(search || '').replace(/^\?/, ''));
  const f = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const key = (v) => (v && /^[A-Za-z0-9_-]{8,256}$/.test(v.trim()) ? v.trim() : null);
  return { community: normalizeCommunity(q.get('c')), communityKey: key(f.get('k')), facilitatorKey: key(f.get('f')) };
}

/** A member's personal link (spec §8). */
export function memberLink(origin, community, communityKey) {
  return `${origin}/community.html?c=${encodeURIComponent(community)}#k=${encodeURIComponent(communityKey)}`;
}

/** The facilitator's link to the community page. */
export function facilitatorLink(origin, community, facilitatorKey) {
  return `${origin}/community.html?c=${encodeURIComponent(community)}#f=${encodeURIComponent(facilitatorKey)}`;
}

/** The localStorage entry of a community's keys: `roundtable:community:<ID>`. */
export function keyName(community) {
  return `roundtable:community:${community}`;
}

/** The keys this browser holds for a community: `{communityKey?, facilitatorKey?}` (empty when none or unreadable). */
export function loadKeys(store, community) {
  try {
    const raw = store.getItem(keyName(community));
    const v = raw ? JSON.parse(raw) : {};
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

/** Adds the keys given (undefined ones keep what is stored) and returns what is now stored. */
export function saveKeys(store, community, keys) {
  const merged = { ...loadKeys(store, community), ...Object.fromEntries(Object.entries(keys).filter(([, v]) => v)) };
  try { store.setItem(keyName(community), JSON.stringify(merged)); } catch { /* a refusing store only costs the next visit */ }
  return merged;
}

/** Forgets one key (`communityKey` or `facilitatorKey`) of a community. */
export function forgetKey(store, community, which) {
  const keys = loadKeys(store, community);
  delete keys[which];
  try {
    if (Object.keys(keys).length) store.setItem(keyName(community), JSON.stringify(keys));
    else store.removeItem(keyName(community));
  } catch { /* ignore */ }
  return keys;
}

/**
 * The credentials of a request as the page's role asks: a facilitator's key when the page is opened as
 * facilitator, else the member's key.
 */
export function credentials(community, keys, role) {
  if (role === 'facilitator' && keys.facilitatorKey) return { community, facilitatorKey: keys.facilitatorKey };
  if (keys.communityKey) return { community, communityKey: keys.communityKey };
  if (keys.facilitatorKey) return { community, facilitatorKey: keys.facilitatorKey };
  return null;
}

/**
 * Geometry of a rank-over-sessions sparkline: rank 1 (best) at the top, one point per session that ranked
 * the need, oldest at the left.
 * @param {Array<{room?:string, rank:number, score?:number}>} rankings oldest first
 * @param {{width?:number, height?:number, pad?:number, worst?:number}} [opts] `worst`: the lowest rank the
 *   axis shows (default the worst rank in `rankings`, at least 2 so one rank is not a flat line in the middle)
 * @returns {{width:number, height:number, points:Array<[number, number]>, path:string, best:number, worst:number}}
 */
export function sparkline(rankings, opts = {}) {
  const width = opts.width ?? 96;
  const height = opts.height ?? 28;
  const pad = opts.pad ?? 4;
  const ranks = (rankings || []).map((r) => Number(r.rank)).filter((n) => Number.isFinite(n) && n >= 1);
  const worst = Math.max(2, opts.worst ?? 0, ...ranks);
  const best = 1;
  const y = (rank) => pad + ((rank - best) / (worst - best)) * (height - 2 * pad);
  const n = ranks.length;
  const x = (i) => (n === 1 ? width / 2 : pad + (i / (n - 1)) * (width - 2 * pad));
  const round = (v) => Math.round(v * 100) / 100;
  const points = ranks.map((r, i) => [round(x(i)), round(y(r))]);
  const path = points.map(([px, py], i) => `${i ? 'L' : 'M'}${px} ${py}`).join(' ');
  return { width, height, points, path, best, worst };
}

/**
 * The trend in words, for the chart's text alternative: "Ranked 3, then 1 over 2 sessions: rising".
 * @param {Array<{rank:number}>} rankings oldest first
 */
export function trendText(rankings) {
  const ranks = (rankings || []).map((r) => Number(r.rank)).filter((n) => Number.isFinite(n));
  if (!ranks.length) return 'Not ranked in any session yet.';
  const sessions = `${ranks.length} session${ranks.length === 1 ? '' : 's'}`;
  if (ranks.length === 1) return `Ranked ${ranks[0]} in 1 session.`;
  const first = ranks[0];
  const last = ranks[ranks.length - 1];
  // A smaller rank is a better place: going from 3 to 1 is rising.
  const way = last < first ? 'rising' : last > first ? 'falling' : 'steady';
  const list = ranks.length > 6 ? `${ranks.slice(0, 2).join(', ')}, …, ${ranks.slice(-2).join(', ')}` : ranks.join(', then ');
  return `Ranked ${list} over ${sessions}: ${way}.`;
}

/**
 * The page's data from `community.export`, for a facilitator on a server without `community.view`: the
 * same shape, without what only the view knows (the current session, titles, the member's own profile).
 */
export function viewFromExport(community, x) {
  return {
    community, name: x.name, role: 'facilitator', memberCount: x.members.length, pairsMet: x.pairsMet, members: x.members,
    sessions: x.sessions, backlog: x.backlog.filter((b) => b.status !== 'merged'), groups: x.groups,
  };
}

/** The roster CSV's file name for a download. */
export function rosterFileName(community, now = new Date()) {
  return `roster-${community}-${now.toISOString().slice(0, 10)}.csv`;
}

/** Error of a community request: the server's `code` (or `timeout`, `unreachable`) and its message. */
export class CommunityError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'CommunityError';
    this.code = code;
  }
}

/**
 * Sends one request on a connection of its own and resolves with the `ack` (rejects with a
 * `CommunityError`). A connection that never joins a room is closed by the server after
 * `joinTimeoutSeconds`; one short connection per action never meets that limit, and a request is never
 * sent twice (an import is not safe to repeat).
 * @param {string} url the server's `/ws` (requests naming a `community` go to `/ws/{community}`)
 * @param {string} type
 * @param {object} fields
 * @param {{WebSocket?: typeof WebSocket, timeout?: number}} [opts]
 */
export function communityRequest(url, type, fields, opts = {}) {
  const WS = opts.WebSocket || globalThis.WebSocket;
  const timeout = opts.timeout ?? 15000;
  return new Promise((resolve, reject) => {
    let done = false;
    let ws;
    const finish = (fn, v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { ws.close(); } catch { /* already closed */ }
      fn(v);
    };
    const timer = setTimeout(() => finish(reject, new CommunityError('timeout', `${type}: no reply within ${timeout} ms`)), timeout);
    try {
      // A community lives on one node: its requests go to /ws/{id}, which a cluster's proxy routes to that node.
      ws = new WS(fields.community ? roomURL(url, fields.community) : url);
    } catch (e) {
      clearTimeout(timer);
      reject(new CommunityError('unreachable', String(e)));
      return;
    }
    ws.onopen = () => ws.send(JSON.stringify({ ...fields, type, ref: 1 }));
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.ref !== 1) return; // notices such as hello carry no ref
      if (msg.type === 'ack') {
        const { type: _t, ref: _r, ...rest } = msg;
        finish(resolve, rest);
      } else if (msg.type === 'error') finish(reject, new CommunityError(msg.code, msg.message));
    };
    ws.onerror = () => finish(reject, new CommunityError('unreachable', 'The server cannot be reached right now.'));
    ws.onclose = () => finish(reject, new CommunityError('unreachable', 'The connection closed before the reply.'));
  });
}
