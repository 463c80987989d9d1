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

/// What the coordinator asks the server to do. The server runs them in order; messages that follow
/// a journal entry are held until that entry is durable.
public enum Effect: Sendable, Hashable {
    /// Append to the journal; outputs after this wait until it is durable.
    case journal(JournalEntry)
    /// One encoding of `event`, sent to every listed connection.
    case broadcast(RoomEvent, to: [ConnectionID])
    /// A private message (reply, state, assignment) to some connections.
    case send(Notice, ref: Value?, to: [ConnectionID])
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

/// One applied operation as the journal keeps it: enough to replay the room exactly.
public struct JournalEntry: Sendable, Hashable {
    public var room: String
    /// The seq of the last event this op produced (ops that produce none carry the room's current seq).
    public var seq: UInt64
    public var at: Millis
    /// The op as a room op when the coordinator made it (so hot ops can be written without a `Value` tree),
    /// else the JSON value it was read from or built as.
    public let roomOp: RoomOp?
    private let built: Value?

    /// The op in its journal shape.
    public var op: Value { built ?? roomOp!.value }

    public init(room: String, seq: UInt64, at: Millis, op: Value) {
        self.init(room, seq, at, roomOp: nil, built: op)
    }

    public init(room: String, seq: UInt64, at: Millis, roomOp: RoomOp) {
        self.init(room, seq, at, roomOp: roomOp, built: nil)
    }

    /// Exactly one of `roomOp` and `built` is set.
    private init(_ room: String, _ seq: UInt64, _ at: Millis, roomOp: RoomOp?, built: Value?) {
        self.room = room
        self.seq = seq
        self.at = at
        self.roomOp = roomOp
        self.built = built
    }

    public static func == (a: JournalEntry, b: JournalEntry) -> Bool {
        a.room == b.room && a.seq == b.seq && a.at == b.at && a.op == b.op
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(room)
        hasher.combine(seq)
        hasher.combine(at)
        hasher.combine(op)
    }
}
