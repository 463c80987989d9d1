// Types of web/transport.js: the WebSocket under the client, its routing and its reconnect schedule.
import type { ErrorCode, ErrorReply } from './messages.js';

/** Time and timers; tests pass a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const systemClock: Clock;

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Codes the client itself rejects with, beside the server's. */
export type ClientErrorCode = 'timeout' | 'disconnected' | 'closed' | 'unreachable' | 'removed';

/** What a request rejects with: `code` is the server's stable code or a client code. */
export class RoundtableError extends Error {
  constructor(code: ErrorCode | ClientErrorCode, message?: string, reply?: ErrorReply);
  code: ErrorCode | ClientErrorCode;
  /** The raw error reply, when the server sent one. */
  reply?: ErrorReply;
}

/** The minimal WebSocket the transport needs (the browser's, Node's `ws`, or a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev?: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev?: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface TransportOptions {
  WebSocket?: WebSocketConstructor;
  clock?: Clock;
  /** Jitter in [0, 1); default `Math.random`. */
  random?: () => number;
  minBackoff?: number;
  maxBackoff?: number;
  connectTimeout?: number;
}

export interface TransportHooks {
  emit?(type: string, payload: unknown): void;
  resuming?(): boolean;
  attached?(): void;
  opened?(): void;
  message?(msg: Record<string, unknown>): void;
  closed?(ev: { code: number; reason: string }): void;
  detached?(code: string, message: string): void;
  giveUp?(reason: unknown): boolean;
}

/** `ws(s)://host/ws` of the page's own server. */
export function defaultURL(loc?: { protocol: string; host: string }): string;
/** `roomURL('ws://h/ws', 'E7Z98H5K')` is `ws://h/ws/E7Z98H5K`. */
export function roomURL(base: string, code: string): string;

export class Transport {
  constructor(url: string, options?: TransportOptions, hooks?: TransportHooks);
  readonly url: string;
  state: ConnectionState;
  ws: WebSocketLike | null;
  route: string | null;
  wsRoute: string | null;
  attempt: number;
  readonly isOpen: boolean;
  send(text: string): void;
  resetBackoff(): void;
  connect(): Promise<void>;
  routeTo(room: string | null, maxFailures?: number): Promise<void>;
  reconnectNow(): void;
  drop(code?: number, reason?: string): void;
  stopReconnecting(): void;
  stop(reason?: unknown): void;
  halt(code?: number, reason?: string): void;
  close(): void;
}
