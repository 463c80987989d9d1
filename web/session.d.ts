// Types of web/session.js: where seats are remembered between page loads.

/** A store like `localStorage`. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** What is remembered about one room: enough to resume, and the facilitator key if you have it. */
export interface Session {
  room: string;
  token: string;
  member: number;
  role: string;
  facilitatorKey?: string;
}

/** Upper case, `O`→`0`, `I`/`L`→`1`, no `-` or spaces: the code as the server matches it. */
export function normalizeCode(code: string | null | undefined): string;
export function memoryStore(): KeyValueStore;
/** `localStorage` when it works, else a memory store. */
export function defaultStore(): KeyValueStore;

/** Sessions per room under `roundtable:ROOM`. */
export class SessionStore {
  constructor(store?: KeyValueStore);
  store: KeyValueStore;
  key(room: string): string;
  get(room: string): Session | null;
  /** Stores over the stored session (undefined fields keep their stored value); returns the merged one. */
  save(session: Partial<Session> & { room: string }): Session;
  forget(room: string | null | undefined): void;
}
