/// Every fact the journal holds, and the one place that says how each is written and read back.
///
/// Most are room ops (`RoomOp`, applied to a `Room`). Two belong to the coordinator, because they move a
/// room in or out of memory: `archived` (the room's state went to an archive file; only its index entry
/// stays) and `reopened` (the room came back, journaled whole so replay never needs the file).
/// Community ops (`community.*`) change a `Community`; their entry's `room` is the community id.
public enum JournalOp: Sendable {
    case room(RoomOp)
    case archived(Coordinator.ArchivedRoom)
    case reopened(Room)
    case community(CommunityOp)

    /// The op in its journal shape: `{"op":"<name>",…}`.
    public var value: Value {
        switch self {
        case .room(let op): op.value
        case .archived(let entry): ["op": "archived", "archive": entry.value]
        case .reopened(let room): ["op": "reopened", "room": room.snapshotValue]
        case .community(let op): op.value
        }
    }

    /// Reads an op back; every journal ever written decodes here.
    public init(value v: Value) throws(OpDecodingError) {
        switch v["op"]?.stringValue {
        case "archived":
            guard let a = v["archive"] else { throw OpDecodingError("archived: missing archive") }
            self = .archived(try Coordinator.ArchivedRoom(value: a))
        case "reopened":
            guard let r = v["room"] else { throw OpDecodingError("reopened: missing room") }
            self = .reopened(try Room(snapshot: r))
        case let name? where name.hasPrefix(CommunityOp.prefix):
            self = .community(try CommunityOp(value: v))
        default:
            self = .room(try RoomOp(value: v))
        }
    }
}

/// One applied operation as the journal keeps it: enough to replay the room exactly.
public struct JournalEntry: Sendable, Hashable {
    public var room: String
    /// The seq of the last event this op produced (ops that produce none carry the room's current seq).
    public var seq: UInt64
    public var at: Millis
    private let storage: Storage

    /// As the coordinator made it (so hot ops are written without a `Value` tree), or as read from disk.
    private enum Storage: Sendable {
        case op(JournalOp)
        case read(Value)
    }

    /// The op as a room op when the coordinator made one (the journal writes votes straight into bytes).
    public var roomOp: RoomOp? {
        if case .op(.room(let op)) = storage { return op }
        return nil
    }

    /// The op in its journal shape.
    public var op: Value {
        switch storage {
        case .op(let op): op.value
        case .read(let v): v
        }
    }

    /// The typed op (decoded when the entry was read from disk).
    public func journalOp() throws(OpDecodingError) -> JournalOp {
        switch storage {
        case .op(let op): op
        case .read(let v): try JournalOp(value: v)
        }
    }

    /// An entry read back from the journal (its payload parsed as JSON).
    public init(room: String, seq: UInt64, at: Millis, op: Value) {
        self.init(room, seq, at, .read(op))
    }

    public init(room: String, seq: UInt64, at: Millis, roomOp: RoomOp) {
        self.init(room, seq, at, .op(.room(roomOp)))
    }

    public init(room: String, seq: UInt64, at: Millis, journalOp: JournalOp) {
        self.init(room, seq, at, .op(journalOp))
    }

    private init(_ room: String, _ seq: UInt64, _ at: Millis, _ storage: Storage) {
        self.room = room
        self.seq = seq
        self.at = at
        self.storage = storage
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
