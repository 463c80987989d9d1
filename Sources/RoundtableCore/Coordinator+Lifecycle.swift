/// The end of a session and the life of a quiet room: `room.close` freezes results; a room nobody has
/// touched for a while is archived (its state moves to a file, only a small index stays in memory) and
/// comes back when its facilitator joins again.
///
/// Archiving is a two-step dance with the server, which owns the files: the server picks candidates
/// (`archiveCandidates`), writes each room's snapshot to an archive file off the service loop, and only
/// then calls `archive`, which journals the fact and drops the room. Reopening runs the other way:
/// `join` asks the server to load the file (`Effect.loadArchive`), `reopen` puts the room back and
/// journals it whole, so replay never needs the file again.
extension Coordinator {
    /// What stays in memory of an archived room: enough to keep its code taken, let its facilitator
    /// reopen it, find its file, and keep its open anonymous polls' voter keys on disk.
    public struct ArchivedRoom: Sendable, Hashable {
        public var code: String
        public var title: String
        /// The room's seq when archived; names its archive file.
        public var seq: UInt64
        public var archivedAt: Millis
        public var closedAt: Millis?
        public var facilitatorKeyHash: String
        /// Facilitators coming back with their resume token reopen the room too.
        public var facilitatorTokenHashes: [String]
        /// Voter-key names of the room's open anonymous polls (their key files must survive the archive).
        public var voterKeyNames: [String]

        var value: Value {
            var o: Value.Object = [
                "code": .string(code), "title": .string(title), "seq": .int(Int64(seq)), "archivedAt": .int(archivedAt),
                "keyHash": .string(facilitatorKeyHash), "facilitatorTokenHashes": Value(facilitatorTokenHashes),
                "voterKeyNames": Value(voterKeyNames),
            ]
            if let closedAt { o["closedAt"] = .int(closedAt) }
            return .object(o)
        }

        init(_ room: Room, at: Millis) {
            code = room.code
            title = room.title
            seq = room.seq
            archivedAt = at
            closedAt = room.closedAt
            facilitatorKeyHash = room.facilitatorKeyHash
            facilitatorTokenHashes = room.members.values.filter { $0.role == .facilitator && !$0.departed }.map(\.tokenHash).sorted()
            voterKeyNames = room.polls.values.filter { $0.definition.anonymous && $0.state == .open }
                .map { Coordinator.voterKeyName(room.code, $0.id) }.sorted()
        }

        init(value v: Value) throws(OpDecodingError) {
            guard let code = v["code"]?.stringValue, let seq = v["seq"]?.intValue, let hash = v["keyHash"]?.stringValue else {
                throw OpDecodingError("archived room: missing code, seq or keyHash")
            }
            self.code = code
            self.seq = UInt64(seq)
            facilitatorKeyHash = hash
            title = v["title"]?.stringValue ?? ""
            archivedAt = v["archivedAt"]?.intValue ?? 0
            closedAt = v["closedAt"]?.intValue
            facilitatorTokenHashes = v["facilitatorTokenHashes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            voterKeyNames = v["voterKeyNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
    }

    // MARK: room.close

    mutating func closeRoom(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let code = try facilitator(c).room.code
        var effects: [Effect] = []
        // Everything still running ends first, each as its own journaled op, so members see final results.
        for id in rooms[code]!.polls.keys.sorted() where rooms[code]!.polls[id]!.state == .open {
            effects += closePollOps(id, in: code, at: at)
        }
        if rooms[code]!.interviews.active { effects += commit(.interview(.ended), in: code, at: at) }
        for id in rooms[code]!.grouping.timers.map(\.id) { effects += commit(.groups(.timerEnded(id)), in: code, at: at) }
        effects += commit(.closed, in: code, at: at)
        effects += harvest(code, at: at)
        markRankingDirty(code)
        effects.append(.reply(.ack(["room": .string(code), "closedAt": .int(at)]), ref: ref, to: c))
        return effects
    }

    // MARK: Archiving

    /// Rooms nobody is connected to and nothing has happened in since `idleMillis`, oldest first.
    public func archiveCandidates(at now: Millis, idleMillis: Millis, limit: Int) -> [String] {
        var found: [(Millis, String)] = []
        for (code, room) in rooms where now - room.lastActivityAt >= idleMillis {
            if let rt = runtime[code], !rt.connections.isEmpty { continue }
            found.append((room.lastActivityAt, code))
        }
        return found.sorted { $0 < $1 }.prefix(limit).map(\.1)
    }

    /// Drops a room whose archive file (written from `written`) is durable, and journals that. Returns nil
    /// when the room changed or someone joined since the file was written: it stays live.
    public mutating func archive(_ written: Room, at: Millis) -> [Effect]? {
        let code = written.code, seq = written.seq
        guard let room = rooms[code], room.seq == seq, room.appliedOps == written.appliedOps,
            runtime[code]?.connections.isEmpty ?? true
        else { return nil }
        let entry = ArchivedRoom(room, at: at)
        // An archived session hands its needs and pairs to its community first: the community must not wait for a reopen.
        var effects = room.closedAt == nil ? harvest(code, at: at) : []
        dropArchived(code, entry)
        effects.append(.journal(JournalEntry(room: code, seq: seq, at: at, journalOp: .archived(entry))))
        return effects
    }

    private mutating func dropArchived(_ code: String, _ entry: ArchivedRoom) {
        rooms[code] = nil
        runtime[code] = nil
        dirtyRooms.remove(code)
        archived[code] = entry
    }

    /// The archived room a join names, when the joiner may reopen it: the effect that loads it.
    func reopenRequest(_ j: Command.Join, code: String, ref: Value?, from c: ConnectionID) throws(DomainError) -> [Effect] {
        guard let a = archived[code] else { throw .roomNotFound }
        var allowed = false
        if let key = j.facilitatorKey {
            guard constantTimeEquals(hasher.digest(key), a.facilitatorKeyHash) else {
                throw DomainError("bad_credentials", "this facilitator key is not valid in this room")
            }
            allowed = true
        } else if let token = j.token {
            let hash = hasher.digest(token)
            allowed = a.facilitatorTokenHashes.contains { constantTimeEquals($0, hash) }
        }
        guard allowed else { throw .roomArchived }
        return [.loadArchive(room: code, seq: a.seq, then: .join(j), ref: ref, from: c)]
    }

    /// Puts an archived room back in memory, as read from its file, and journals it whole.
    /// `voterKeys` are the key files the server holds (for the room's open anonymous polls).
    public mutating func reopen(_ room: Room, voterKeys: [String: String], at: Millis) -> [Effect] {
        guard let a = archived[room.code], a.seq == room.seq, rooms[room.code] == nil else { return [] }
        var room = room
        room.lastActivityAt = max(room.lastActivityAt, at)
        room.resetPresence()
        archived[room.code] = nil
        rooms[room.code] = room
        runtime[room.code] = RoomRuntime(bufferLimit: limits.resumeBufferEvents)
        var effects: [Effect] = [.journal(JournalEntry(room: room.code, seq: room.seq, at: at, journalOp: .reopened(room)))]
        for (name, key) in installVoterKeys(voterKeys, in: [room.code]) { effects.append(.secret(name: name, value: key)) }
        effects.append(.discardArchive(room: room.code, seq: a.seq))
        return effects
    }

    /// Replays an `archived` entry: the room leaves memory, its index entry stays.
    mutating func replayArchived(_ code: String, _ entry: ArchivedRoom) {
        dropArchived(code, entry)
    }

    /// Replays a `reopened` entry: the room is back, whole, as journaled.
    mutating func replayReopened(_ code: String, _ room: Room) {
        archived[code] = nil
        rooms[code] = room
    }
}

extension Command {
    /// Whether the command changes a room (refused once the room is closed). Joining, leaving,
    /// removing a member and rotating the key still work in a closed room: people come back to read
    /// the final results, and the facilitator keeps control of who may.
    var changesRoomState: Bool {
        switch self {
        case .createRoom, .join, .leave, .removeMember, .rotateKey: false
        // Community requests act on the community they name, not on the caller's room.
        case .createCommunity, .importRoster, .exportCommunity, .reissueCommunityKey, .setBacklogStatus, .communityProfile, .communityDirectory,
            .communityGroups, .communityView:
            false
        default: true
        }
    }
}
