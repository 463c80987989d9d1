// Types of web/state.js, the reducer behind `RoundtableClient.state`. Hand-written over the generated
// message types (messages.d.ts), so a schema change that breaks the state's shape fails the type check.
import type {
  AgendaFull, AgendaPublic, Announcement, Ballot, Count, EpochMs, HighlightEntry, Id,
  InterviewSettings, Need, Note, Pair, Phase, PollInState, PollResultsNotice, Profile, RankingFields,
  RoomSettings, RoomStateNotice, ServerMessage, Wall,
} from './messages.js';

/** A poll as the state keeps it: what room.state and the poll events say, plus what notices and acks added. */
export type StatePoll = PollInState & {
  /** The last `poll.results` you may see (without `type`). */
  results?: Omit<PollResultsNotice, 'type'>;
  /** Your ballot in `vote.cast` form, from your own ack (ballots are never broadcast). */
  yourBallot?: Ballot;
  /** Open polls: `{answered, present}` from `poll.turnout`. */
  turnout?: { answered: Count; present: Count };
  /** Set by `poll.revealed`. */
  revealed?: boolean;
};

/** An entry of `announcements`: room and group announcements and timer messages of this session. */
export interface AnnouncementEntry {
  text: string;
  at: string | number;
  group?: Id;
  timer?: boolean;
}

/** The room as this member sees it. Collections are objects keyed by id (string keys). */
export interface RoomState {
  /** The room's code; null before the first `room.state`. */
  room: string | null;
  /** The last event seq applied. */
  seq: number;
  title: string;
  createdAt: EpochMs;
  settings: RoomSettings | Record<string, never>;
  /** Your profile; null before the first `room.state`. */
  you: Profile | null;
  members: Record<string, Profile>;
  needs: Record<string, Need>;
  polls: Record<string, StatePoll>;
  /** The ranked needs, best first. */
  ranking: RankingFields;
  interviews: {
    active: boolean;
    round: Count;
    phase: Phase;
    endsAt: EpochMs;
    settings: InterviewSettings | Record<string, never>;
    waiting: boolean;
    /** Your current `interview.assigned`, plus `partnerLeft` once a partner is gone. */
    yourPair: (Pair & { partnerLeft?: Id }) | null;
    highlights: Array<HighlightEntry>;
    yourNotes: Array<Note>;
    pairs?: Count;
    unmet?: Count;
  };
  /** As room.state carries it (generated from the schema). */
  groups: RoomStateNotice['groups'];
  /** The run of show: full step definitions for facilitators, titles for others. */
  agenda: AgendaFull | AgendaPublic | { steps: [] };
  /** What the wall screen shows. */
  wall: Wall;
  /** The standing room-wide announcement. */
  announcement: Announcement | null;
  /** Received in this session, newest last (at most 20). */
  announcements: Array<AnnouncementEntry>;
  /** When the facilitator closed the session: its results are final. */
  closedAt?: EpochMs;
  passcodeRequired?: boolean;
  /** Large rooms: counts instead of the full member list (`room.presence`). */
  memberCount?: Count;
  onlineCount?: Count;
  membersTruncated?: true;
  protocol?: number;
}

/** What `reduceAck` reports as changed: the client's `change` payload. */
export interface AckChange {
  type: string;
  poll?: Id;
}

/** The state before any `room.state`. */
export function emptyState(): RoomState;

/** Objects keyed by their `id` (as strings). */
export function byId<T extends { id: number | string }>(list: ReadonlyArray<T> | null | undefined): Record<string, T>;

/**
 * Applies one server message to a room state; collections are mutated in place, `room.state` returns a
 * new object.
 */
export function reduce(s: RoomState, msg: ServerMessage | { type: string }, ctx?: { me?: number | null; now?: number }): RoomState;

/** Applies what the ack of your own request says about your view of the room; returns what changed, or null. */
export function reduceAck(s: RoomState, type: string, fields: Record<string, unknown>, ack: Record<string, unknown>): AckChange | null;
