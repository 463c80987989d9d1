/// The session coordinator: owns every room, applies one command at a time, returns effects.
///
/// It is a value with no I/O: the server calls it on its service thread, feeds it the time and
/// connection events, and runs the effects (journal, sends, closes). Tests drive it directly.
public struct Coordinator {
    public var limits: Limits
    public internal(set) var rooms: [String: Room] = [:]
    var runtime: [String: RoomRuntime] = [:]
    var bindings: [ConnectionID: Binding] = [:]
    /// Rooms with results or rankings waiting for the next coalesced update.
    var dirtyRooms: Set<String> = []
    /// Rooms archived out of memory (their state is a file in the data folder), by code.
    public internal(set) var archived: [String: ArchivedRoom] = [:]
    /// Communities and what carries over between their sessions (rosters, backlog, who met whom).
    public internal(set) var communities = Communities()
    var entropy: any EntropySource
    let hasher: any SecretHasher
    /// ICE servers and signaling limits for partner calls (`calls` section of the configuration).
    public var calls = CallSettings()
    /// Mints TURN credentials; nil: no TURN server is configured (ICE servers are STUN only).
    public var turnMinter: (any TurnCredentialMinter)?
    /// Encodes values that many frames share (`SharedValue`); nil: they are encoded with each frame.
    public var fragmentEncoder: (any FragmentEncoder)?

    /// Which member a connection speaks for, once it has joined.
    struct Binding: Hashable {
        var room: String
        var member: MemberID
    }

    public init(limits: Limits = Limits(), entropy: any EntropySource, hasher: any SecretHasher) {
        self.limits = limits
        self.entropy = entropy
        self.hasher = hasher
    }

    // MARK: Connections

    /// The member and room a connection has joined, if any.
    public func binding(of connection: ConnectionID) -> (room: String, member: MemberID)? {
        bindings[connection].map { ($0.room, $0.member) }
    }

    /// A connection went away: the member goes offline when it was their last one.
    public mutating func disconnected(_ connection: ConnectionID, at: Millis) -> [Effect] {
        guard let b = bindings.removeValue(forKey: connection) else { return [] }
        let last = runtime[b.room]?.detach(connection, from: b.member) ?? false
        guard last, rooms[b.room]?.members[b.member]?.departed == false else { return [] }
        runtime[b.room]?.offlineSince[b.member] = at
        return commit(.presence(b.member, online: false), in: b.room, at: at)
    }

    /// Handles one request from one connection.
    public mutating func handle(_ command: Command, ref: Value?, from connection: ConnectionID, at: Millis) -> [Effect] {
        do {
            return try dispatch(command, ref: ref, from: connection, at: at)
        } catch {
            var effects: [Effect] = [.reply(.error(error), ref: ref, to: connection)]
            if let code = error.closeCode { effects.append(.close(connection, code: code, reason: error.message)) }
            return effects
        }
    }

    private mutating func dispatch(_ command: Command, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        if command.changesRoomState, let b = bindings[c], rooms.inPlace(b.room, { $0.closedAt != nil }) == true {
            throw .roomClosed
        }
        switch command {
        case .createRoom(let r): return try createRoom(r, ref: ref, from: c, at: at)
        case .join(let j): return try join(j, ref: ref, from: c, at: at)
        case .leave: return try leave(ref: ref, from: c, at: at)
        case .updateMember(let u): return try updateMember(u, ref: ref, from: c, at: at)
        case .removeMember(let id): return try removeMember(id, ref: ref, from: c, at: at)
        case .rotateKey: return try rotateKey(ref: ref, from: c, at: at)
        case .closeRoom: return try closeRoom(ref: ref, from: c, at: at)
        case .setPasscode(let p): return try setPasscode(p, ref: ref, from: c, at: at)
        case .submitNeed(let text, let tags): return try submitNeed(text: text, tags: tags, ref: ref, from: c, at: at)
        case .editNeed(let id, let text, let tags): return try editNeed(id, text: text, tags: tags, ref: ref, from: c, at: at)
        case .mergeNeeds(let into, let from): return try mergeNeeds(into: into, from: from, ref: ref, from: c, at: at)
        case .removeNeed(let id): return try removeNeed(id, ref: ref, from: c, at: at)
        case .createPoll(let def, let openNow): return try createPolls([def], openNow: openNow, ref: ref, from: c, at: at)
        case .importPolls(let defs): return try createPolls(defs, openNow: false, ref: ref, from: c, at: at)
        case .openPoll(let id): return try openPoll(id, ref: ref, from: c, at: at)
        case .closePoll(let id): return try closePoll(id, ref: ref, from: c, at: at)
        case .castVote(let poll, let ballot): return try castVote(poll, ballot, ref: ref, from: c, at: at)
        case .retractVote(let poll): return try retractVote(poll, ref: ref, from: c, at: at)
        case .startInterviews(let s): return try startInterviews(s, ref: ref, from: c, at: at)
        case .nextInterviewRound: return try nextInterviewRound(ref: ref, from: c, at: at)
        case .endInterviews: return try endInterviews(ref: ref, from: c, at: at)
        case .interviewNote(let about, let text, let shared):
            return try interviewNote(about: about, text: text, shared: shared, ref: ref, from: c, at: at)
        case .acceptHighlight(let id): return try acceptHighlight(id, ref: ref, from: c, at: at)
        case .rematch: return try rematch(ref: ref, from: c, at: at)
        case .createGroups(let mode, let specs): return try createGroups(mode, specs, ref: ref, from: c, at: at)
        case .assignGroups(let explicit, let strategy):
            return try assignGroups(explicit: explicit, strategy: strategy, ref: ref, from: c, at: at)
        case .groupsFromNeeds(let count, let capacity): return try groupsFromNeeds(count: count, capacity: capacity, ref: ref, from: c, at: at)
        case .joinGroup(let g): return try joinGroup(g, ref: ref, from: c, at: at)
        case .leaveGroup: return try leaveGroup(ref: ref, from: c, at: at)
        case .saveGrouping(let name): return try saveGrouping(name, ref: ref, from: c, at: at)
        case .applyGrouping(let name): return try applyGrouping(name, ref: ref, from: c, at: at)
        case .announce(let text, let group): return try announce(text, group: group, ref: ref, from: c, at: at)
        case .startTimer(let s, let label, let group): return try startTimer(seconds: s, label: label, group: group, ref: ref, from: c, at: at)
        case .stopTimer(let id): return try stopTimer(id, ref: ref, from: c, at: at)
        case .setAgenda(let steps): return try setAgenda(steps, ref: ref, from: c, at: at)
        case .nextStep: return try startStep(nil, ref: ref, from: c, at: at)
        case .gotoStep(let id): return try startStep(id, ref: ref, from: c, at: at)
        case .showWall(let wall): return try showWall(wall, ref: ref, from: c, at: at)
        case .revealPoll(let id): return try revealPoll(id, ref: ref, from: c, at: at)
        case .clearAnnouncement: return try clearAnnouncement(ref: ref, from: c, at: at)
        case .callSignal(let to, let signal): return try callSignal(to: to, signal, ref: ref, from: c, at: at)
        case .callIce: return try callIce(ref: ref, from: c, at: at)
        case .createCommunity(let name, _): return try createCommunity(name: name, ref: ref, from: c, at: at)
        case .importRoster(let cred, let roster): return try importRoster(cred, roster, ref: ref, from: c, at: at)
        case .exportCommunity(let cred): return try exportCommunity(cred, ref: ref, from: c, at: at)
        case .reissueCommunityKey(let cred, let member): return try reissueCommunityKey(cred, member: member, ref: ref, from: c, at: at)
        case .setBacklogStatus(let cred, let need, let status, let owner):
            return try setBacklogStatus(cred, need: need, status, owner: owner, ref: ref, from: c, at: at)
        case .communityProfile(let cred, let update): return try communityProfile(cred, update, ref: ref, from: c, at: at)
        case .communityDirectory(let cred, let query): return try communityDirectory(cred, query, ref: ref, from: c)
        case .communityGroups(let cred, let specs): return try setStandingGroups(cred, specs, ref: ref, from: c, at: at)
        case .communityView(let cred): return try communityView(cred, ref: ref, from: c)
        }
    }

    // MARK: Shared helpers

    /// The caller's binding, or `not_joined`.
    func caller(_ c: ConnectionID) throws(DomainError) -> (room: Room, member: Member) {
        guard let b = bindings[c], let room = rooms[b.room], let m = room.members[b.member], !m.departed else {
            throw .notJoined
        }
        return (room, m)
    }

    func facilitator(_ c: ConnectionID) throws(DomainError) -> (room: Room, member: Member) {
        let who = try caller(c)
        guard who.member.role == .facilitator else { throw .notFacilitator }
        return who
    }

    /// Applies an op to a room and returns the journal entry plus one broadcast per event.
    /// `excluding` leaves out connections that get the news another way (a joiner gets `room.state`).
    mutating func commit(_ op: RoomOp, in code: String, at: Millis, excluding: ConnectionID? = nil) -> [Effect] {
        // In place: a copy of the room here would copy every dictionary the op touches (O(room) per vote).
        guard let (events, seq) = rooms.inPlace(code, { room in (room.apply(op, at: at), room.seq) }) else { return [] }
        var effects: [Effect] = []
        effects.reserveCapacity(events.count + 2) // the entry, the events, and usually one reply
        effects.append(.journal(JournalEntry(room: code, seq: seq, at: at, roomOp: op)))
        if events.isEmpty { effects += quietPresenceNotices(op, in: code) }
        switch op {
        case .joined, .presence, .departed:
            if rooms[code]?.polls.values.contains(where: { $0.state == .open }) == true {
                runtime[code, default: RoomRuntime(bufferLimit: limits.resumeBufferEvents)].turnoutDirty = true
                dirtyRooms.insert(code)
            }
        default: break
        }
        guard !events.isEmpty else {
            if op.callEndReason != nil { effects += endedCalls(op, in: code) }
            return effects
        }
        var recipients = runtime[code]?.everyone() ?? []
        if let excluding { recipients.removeAll { $0 == excluding } }
        for e in events {
            runtime[code, default: RoomRuntime(bufferLimit: limits.resumeBufferEvents)].remember(e)
            effects.append(.broadcast(e, to: recipients))
        }
        if op.callEndReason != nil { effects += endedCalls(op, in: code) }
        return effects
    }

    /// Calls that an op ended (a cheap check first: most ops cannot change pairs).
    private mutating func endedCalls(_ op: RoomOp, in code: String) -> [Effect] {
        guard let reason = op.callEndReason, runtime[code]?.calls.isEmpty == false else { return [] }
        return endStaleCalls(code, reason: reason)
    }

    /// In large rooms a join or presence change is no room event: facilitators still see it (as a notice),
    /// everyone else gets the coalesced `room.presence` count at the next tick.
    mutating func quietPresenceNotices(_ op: RoomOp, in code: String) -> [Effect] {
        let notice: Notice
        switch op {
        case .joined(let m):
            notice = Notice(type: "member.joined", body: ["room": .string(code), "member": m.profile(online: true)])
        case .presence(let id, let online):
            notice = Notice(type: "member.presence", body: ["room": .string(code), "member": Value(id), "online": .bool(online)])
        default:
            return []
        }
        runtime[code, default: RoomRuntime(bufferLimit: limits.resumeBufferEvents)].presenceDirty = true
        dirtyRooms.insert(code)
        let connections = runtime[code]?.connections ?? [:]
        let to = (rooms[code]?.facilitatorIDs ?? []).sorted().flatMap { connections[$0] ?? [] }
        return to.isEmpty ? [] : [.send(notice, ref: nil, to: to)]
    }

    /// Checks a free-text field against its limit after trimming; empty is refused when required.
    static func text(_ s: String, _ field: String, limit: Int, required: Bool = false) throws(DomainError) -> String {
        let t = s.trimmingWhitespace()
        if required && t.isEmpty { throw .invalidField(field, "must not be empty") }
        if t.count > limit { throw .tooLarge(field, limit: limit) }
        return t
    }

    static func tags(_ list: [String], _ field: String, limits: Limits) throws(DomainError) -> [String] {
        if list.count > limits.maxTags { throw .tooLarge(field, limit: limits.maxTags) }
        var seen = Set<String>()
        var out: [String] = []
        for raw in list {
            let t = try text(raw, field, limit: limits.maxTagLength).lowercased()
            if !t.isEmpty && seen.insert(t).inserted { out.append(t) }
        }
        return out
    }
}

/// Per-room facts that live only while the process does.
struct RoomRuntime {
    var connections: [MemberID: [ConnectionID]] = [:] {
        didSet { everyoneCache = nil } // no oldValue: mutations stay in place
    }
    private var everyoneCache: [ConnectionID]?
    var dirtyPolls: Set<Int> = []
    /// When each member's last connection went away (for interview partner-left).
    var offlineSince: [MemberID: Millis] = [:]
    /// The room's seq right after each member joined on this process. A resume from before it would hand
    /// the member events from before they were in the room: it gets `room.state` instead. Members who
    /// joined before a restart have no entry, and need none: the buffer only holds events since the restart.
    var joinedSeq: [MemberID: UInt64] = [:]
    /// (pair id << 32 | member) already reported gone, so the notice goes out once.
    var partnerLeftSent: Set<Int64> = []
    /// Partner calls in progress, by pair id (never journaled: calls do not survive a restart).
    var calls: [Int: CallRecord] = [:]
    /// `call.signal` rate per member.
    var signalBuckets: [MemberID: SignalBucket] = [:]
    var rankingDirty = false
    var presenceDirty = false
    /// Who is present changed: open polls get a fresh `poll.turnout` at the next flush.
    var turnoutDirty = false
    /// Connections that resumed from the event buffer: notices are not buffered, so the next flush sends
    /// them the current results and ranking (computed once per flush however many resumed).
    var catchUp: Set<ConnectionID> = []
    var lastFlush: Millis = 0
    var lastPresenceFlush: Millis = 0
    /// The online profiles a large room's `room.state` lists, encoded once for all joiners.
    var listedProfiles = ProfileCache()
    private var buffer: [RoomEvent] = []
    private var head = 0
    let bufferLimit: Int

    init(bufferLimit: Int) { self.bufferLimit = max(1, bufferLimit) }

    /// Every connection in the room, flattened (what each room event is broadcast to) and kept until the
    /// connections change: flattening per event cost O(members) per event (~1 % of a 200-member broadcast's CPU).
    mutating func everyone() -> [ConnectionID] {
        if let cached = everyoneCache { return cached }
        let all = Self.flatten(connections)
        everyoneCache = all
        return all
    }

    private static func flatten(_ connections: [MemberID: [ConnectionID]]) -> [ConnectionID] {
        var out: [ConnectionID] = []
        for list in connections.values { out.append(contentsOf: list) }
        return out
    }

    mutating func markDirty(poll: Int, overNeeds: Bool) {
        dirtyPolls.insert(poll)
        if overNeeds { rankingDirty = true }
    }

    /// Returns true when this was the member's first connection.
    mutating func attach(_ c: ConnectionID, to m: MemberID) -> Bool {
        offlineSince[m] = nil
        connections[m, default: []].append(c)
        return connections[m]!.count == 1
    }

    /// Returns true when this was the member's last connection.
    mutating func detach(_ c: ConnectionID, from m: MemberID) -> Bool {
        guard var list = connections[m] else { return false }
        list.removeAll { $0 == c }
        if list.isEmpty {
            connections[m] = nil
            return true
        }
        connections[m] = list
        return false
    }

    mutating func remember(_ e: RoomEvent) {
        if buffer.count < bufferLimit {
            buffer.append(e)
        } else {
            buffer[head] = e
            head = (head + 1) % bufferLimit
        }
    }

    /// Drops buffered events the disk does not have (after a reload).
    mutating func forget(after seq: UInt64) {
        let ordered = Array(buffer[head...] + buffer[..<head]).filter { $0.seq <= seq }
        buffer = ordered
        head = 0
    }

    /// Events after `since`, if the buffer still holds all of them.
    func events(after since: UInt64, current: UInt64) -> [RoomEvent]? {
        if since == current { return [] }
        if since > current { return nil }
        let ordered = Array(buffer[head...] + buffer[..<head])
        guard let first = ordered.first, first.seq <= since + 1 else { return nil }
        return ordered.filter { $0.seq > since }
    }

    /// The events `member` missed after `since`, if the buffer holds them all and replaying them shows
    /// nothing the member must not see: nothing from before their own join, and no content a facilitator
    /// has since withdrawn (a removed need's text, a removed member's profile). Otherwise nil: `room.state`.
    func replay(for member: MemberID, after since: UInt64, current: UInt64) -> [RoomEvent]? {
        if let joined = joinedSeq[member], since < joined { return nil }
        guard let missed = events(after: since, current: current) else { return nil }
        if missed.contains(where: \.withdrawsContent) { return nil }
        return missed
    }
}

extension String {
    /// Trims ASCII and Unicode whitespace without Foundation.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}

extension Coordinator {
    /// After state was reloaded from disk: keep the live connections of `old`, dropping any event the disk does not have.
    public mutating func adoptSessions(from old: Coordinator) {
        for (c, b) in old.bindings {
            guard let room = rooms[b.room], let m = room.members[b.member], !m.departed else { continue }
            bindings[c] = b
        }
        for (code, var rt) in old.runtime {
            guard let room = rooms[code] else { continue }
            rt.connections = rt.connections.filter { room.members[$0.key].map { !$0.departed } ?? false }
            rt.forget(after: room.seq)
            runtime[code] = rt
        }
        entropy = old.entropy
        calls = old.calls
        turnMinter = old.turnMinter
        fragmentEncoder = old.fragmentEncoder
    }
}

/// Profiles of online members as `SharedValue`s, reused while the member is unchanged. During a launch the
/// list a large room's `room.state` shows (the first `stateMembersLimit` online members) hardly changes, so
/// each joiner's state copies bytes instead of building and encoding a hundred profiles.
struct ProfileCache {
    private var entries: [MemberID: (member: Member, profile: SharedValue)] = [:]

    mutating func onlineProfiles(_ members: [Member], encoder: (any FragmentEncoder)?) -> [Value] {
        var out: [Value] = []
        out.reserveCapacity(members.count)
        var missed = false
        for m in members {
            if let e = entries[m.id], e.member == m {
                out.append(.shared(e.profile))
            } else {
                let box = SharedValue(m.profile(online: true), encoder: encoder)
                entries[m.id] = (m, box)
                out.append(.shared(box))
                missed = true
            }
        }
        // Keep only the members listed now, so the cache never outgrows the list.
        if missed && entries.count > 2 * members.count {
            var kept: [MemberID: (member: Member, profile: SharedValue)] = [:]
            for m in members { kept[m.id] = entries[m.id] }
            entries = kept
        }
        return out
    }
}
