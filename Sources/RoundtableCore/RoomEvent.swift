/// An event of a room's public stream: gap-free `seq`, server time `at`. Every member of the room
/// receives it, and it is kept in the resume buffer.
public struct RoomEvent: Sendable, Hashable {
    public var room: String
    public var seq: UInt64
    public var at: Millis
    public var type: String
    public var payload: Value.Object

    public init(room: String, seq: UInt64, at: Millis, type: String, payload: Value.Object) {
        self.room = room
        self.seq = seq
        self.at = at
        self.type = type
        self.payload = payload
    }
}

extension RoomEvent {
    /// A facilitator took something back: a need removed, a member removed. A resume across it gets the
    /// state, so the withdrawn text or profile is never replayed to a member who did not see it live.
    var withdrawsContent: Bool {
        type == "need.removed" || (type == "member.left" && payload["reason"] == "removed")
    }
}

/// A message for some connections only, outside the room's sequence: replies, `room.state`,
/// private assignments, results a poll's visibility restricts. Never journaled, never resumed:
/// `room.state` carries the private state again after a reconnect.
public struct Notice: Sendable, Hashable {
    public var type: String
    public var body: Value.Object

    public init(type: String, body: Value.Object) {
        self.type = type
        self.body = body
    }
}

/// The answer to a request. Typed, so the server can tell an ack from a refusal without reading
/// strings: a batch whose journal write failed turns its acks into `storage_unavailable` and delivers its
/// errors unchanged (they changed nothing). The wire shape (`{"type":"ack"|"error",…}`) is
/// `MessageEncoder`'s business.
public enum Reply: Sendable, Hashable {
    /// The request was applied; the body carries what the client needs (ids, tokens).
    case ack(Value.Object)
    /// The request was refused and changed nothing.
    case error(DomainError)

    /// An ack with no body.
    public static let ok = Reply.ack([:])
}

/// What the coordinator asks the server to do. The server runs them in order; messages that follow
/// a journal entry are held until that entry is durable.
public enum Effect: Sendable, Hashable {
    /// Append to the journal; outputs after this wait until it is durable.
    case journal(JournalEntry)
    /// One encoding of `event`, sent to every listed connection.
    case broadcast(RoomEvent, to: [ConnectionID])
    /// A private message (state, assignment, results) to some connections.
    case send(Notice, ref: Value?, to: [ConnectionID])
    /// The answer to one request: an ack or an error, to the connection that sent it.
    case reply(Reply, ref: Value?, to: ConnectionID)
    /// Store (or, with `nil`, destroy) a secret outside the journal and snapshots: an anonymous poll's voter key.
    case secret(name: String, value: String?)
    /// Close a connection with a WebSocket close code after what is queued for it.
    case close(ConnectionID, code: UInt16, reason: String)
    /// Read an archived room back from the data folder (off the service loop), hand it to
    /// `Coordinator.reopen`, then handle `then` from `connection` again: a facilitator coming back.
    case loadArchive(room: String, seq: UInt64, then: Command, ref: Value?, from: ConnectionID)
    /// Delete the archive file of a room that is live again; it runs once the reopen is durable.
    case discardArchive(room: String, seq: UInt64)
}
