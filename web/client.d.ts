// Types of web/client.js, the Roundtable client (`@roundtable/client`). Hand-written over the message
// types generated from docs/schema (messages.d.ts): `request()` takes each request's fields and resolves
// with its ack, `on()` hands each message type its own shape.
import type {
  AckMap, RequestFields, RequestType, RoomCreateAck, RoomCreateRequest, RoomJoinAck, ServerMessage, ServerMessageMap,
} from './messages.js';
import type { RoomState, StatePoll } from './state.js';
import type { Clock, ConnectionState, RoundtableError, Transport, WebSocketConstructor } from './transport.js';
import type { KeyValueStore, Session, SessionStore } from './session.js';

export * from './messages.js';
export { emptyState, reduce, reduceAck } from './state.js';
export type { RoomState, StatePoll, AnnouncementEntry, AckChange } from './state.js';
export { RoundtableError, Transport, defaultURL, roomURL, systemClock } from './transport.js';
export type { Clock, ConnectionState, ClientErrorCode, TransportOptions, WebSocketLike, WebSocketConstructor } from './transport.js';
export { SessionStore, normalizeCode } from './session.js';
export type { KeyValueStore, Session } from './session.js';

export interface ClientOptions {
  /** ms before a request rejects with `timeout` (10000). */
  requestTimeout?: number;
  /** First reconnect delay, ms (500). */
  minBackoff?: number;
  /** Longest reconnect delay, ms (15000). */
  maxBackoff?: number;
  /** ms a connection attempt may take (8000). */
  connectTimeout?: number;
  /** Where sessions are kept (`localStorage`, or memory where there is none). */
  storage?: KeyValueStore;
  /** The WebSocket class (the global one by default; in Node before 22, `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Resume with `since` (missed events) rather than a fresh `room.state` (true). */
  resumeWithEvents?: boolean;
  /** ms a held seat keeps retrying an unreachable room before `unreachable` (600000). */
  resumeGiveUp?: number;
  /** Connection attempts a new join makes before it rejects with `unreachable` (3). */
  joinAttempts?: number;
  /** Time and timers (the system's); tests pass a fake one. */
  clock?: Clock;
  /** Jitter source in [0, 1) (`Math.random`). */
  random?: () => number;
}

export interface RequestOptions {
  timeout?: number;
}

/** The client's own events, beside every server message type. */
export interface ClientEventMap {
  /** `state` changed: the message (or ack summary) that changed it. */
  change: ServerMessage | { type: string; poll?: number };
  connection: ConnectionState;
  connecting: { attempt: number } | undefined;
  open: undefined;
  reconnecting: { attempt: number; delay?: number; reason?: unknown };
  closed: unknown;
  'reconnect-scheduled': { attempt: number; delay: number };
  /** A create or join (also an automatic resume) was acknowledged. */
  joined: RoomCreateAck | RoomJoinAck;
  /** An automatic resume was acknowledged (`resumed` is `events` or `state`). */
  resumed: RoomJoinAck;
  /** The stored token stopped working (left, removed): show a join form. */
  'session-lost': RoundtableError;
  /** A resume found the room archived: the seat is kept, reconnecting stops. */
  'room-archived': RoundtableError;
  /** The room stayed unreachable for `resumeGiveUp` ms: the seat is kept, reconnecting stops. */
  unreachable: RoundtableError;
  /** A missed seq; a resync follows. */
  gap: { expected: number; got: number };
  /** Every server message. */
  '*': ServerMessage;
}

export type ListenerMap = ServerMessageMap & ClientEventMap;

/** Request arguments: `fields` may be left out only when the request has no required field. */
export type RequestArgs<T extends RequestType> = {} extends RequestFields<T>
  ? [fields?: RequestFields<T>, opts?: RequestOptions]
  : [fields: RequestFields<T>, opts?: RequestOptions];

/** The fields `join()` takes. */
export interface JoinFields {
  room: string;
  name?: string;
  organization?: string;
  role?: 'member' | 'observer';
  facilitatorKey?: string;
  /** A community session: the member's personal key (no name needed; the profile comes from the community). */
  communityKey?: string;
}

/** A connection to a Roundtable server that keeps one room's state. */
export class RoundtableClient {
  /** @param url the server's WebSocket URL (default `/ws` on the page's host) */
  constructor(url?: string, options?: ClientOptions);
  readonly options: Required<Omit<ClientOptions, 'storage' | 'WebSocket' | 'clock' | 'random'>> & ClientOptions;
  readonly clock: Clock;
  readonly storage: KeyValueStore;
  readonly sessions: SessionStore;
  readonly transport: Transport;
  /** The room as this member sees it. */
  state: RoomState;
  /** The session being kept alive (after a successful create or join). */
  session: Session | null;
  /** Server time minus local time, ms. */
  clockOffset: number;
  /** Whether this connection is in its room. */
  joined: boolean;
  readonly url: string;
  readonly connectionState: ConnectionState;
  /** The room the connection is routed to (`/ws/{code}`), or null for the base URL. */
  readonly route: string | null;
  readonly me: number | null;
  readonly roomClosed: boolean;
  readonly isFacilitator: boolean;
  readonly facilitatorKey: string | null;

  on<K extends keyof ListenerMap>(type: K, cb: (payload: ListenerMap[K], client: RoundtableClient) => void): () => void;
  off<K extends keyof ListenerMap>(type: K, cb: (payload: ListenerMap[K], client: RoundtableClient) => void): void;
  once<K extends keyof ListenerMap>(type: K, pred?: (msg: ListenerMap[K]) => boolean, timeout?: number): Promise<ListenerMap[K]>;

  connect(): Promise<void>;
  routeTo(room: string | null, maxFailures?: number): Promise<void>;
  reconnectNow(): void;
  /** Closes for good; the stored session stays. */
  close(): void;
  /** Forces a fresh `room.state`. */
  resync(): void;

  /** Sends a request; resolves with its ack, rejects with a RoundtableError. */
  request<T extends RequestType>(type: T, ...args: RequestArgs<T>): Promise<AckMap[T]>;
  createRoom(fields: RequestFields<'room.create'>): Promise<RoomCreateAck>;
  join(fields: JoinFields): Promise<RoomJoinAck>;
  leave(): Promise<AckMap['room.leave']>;

  storedSession(room: string): Session | null;
  forgetSession(room: string | null | undefined): void;

  /** Server time now, ms since the epoch. */
  serverNow(): number;
  needsList(): Array<RoomState['needs'][string]>;
  pollsList(): Array<StatePoll>;
  membersList(): Array<RoomState['members'][string]>;
}

export default RoundtableClient;
