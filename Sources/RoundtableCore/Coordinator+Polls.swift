/// Polls: prepared by facilitators (one by one or a whole activity file), opened, voted on, closed.
extension Coordinator {
    mutating func createPolls(_ defs: [PollDefinition], openNow: Bool, ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let (room, _) = try facilitator(c)
        if defs.isEmpty { throw .invalidField("polls", "must hold at least one poll") }
        if room.polls.count + defs.count > limits.maxPollsPerRoom {
            throw DomainError("limit_reached", "this room may hold at most \(limits.maxPollsPerRoom) polls")
        }
        var checked: [(PollDefinition, [OptionID])] = []
        for (i, raw) in defs.enumerated() {
            checked.append(try checkedDefinition(raw, field: defs.count > 1 ? "polls[\(i)]." : "", in: room))
        }
        // A refused open must leave no trace: check it before anything is committed.
        if openNow, let (d, _) = checked.first, d.overNeeds {
            let needs = room.activeNeeds.map(\.id)
            if needs.isEmpty { throw DomainError("no_needs", "there are no needs to vote on yet") }
            if needs.count > limits.maxOptionsPerPoll {
                throw DomainError("limit_reached", "\(needs.count) needs exceed maxOptionsPerPoll (\(limits.maxOptionsPerPoll)); merge or remove some")
            }
            if let v = Poll.rules(d, needs).check() { throw DomainError("invalid_field", "settings: \(v.message)") }
        }
        var effects: [Effect] = []
        var ids: [Int] = []
        for (d, options) in checked {
            let id = rooms[room.code]!.nextPollID
            ids.append(id)
            effects += commit(.pollCreated(id: id, d, options: options), in: room.code, at: at)
        }
        if openNow, let id = ids.first {
            effects += try openPollEffects(id, in: room.code, at: at)
        }
        let summaries = ids.map { rooms[room.code]!.pollSummary($0) }
        effects.append(.reply(.ack(["polls": .array(ids.map { Value($0) }), "poll": Value(ids[0]), "summaries": .array(summaries)]), ref: ref, to: c))
        return effects
    }

    /// A poll definition checked against the limits and its kind's rules, with its options (`poll.create`,
    /// `poll.import`, agenda poll steps).
    func checkedDefinition(_ raw: PollDefinition, field: String, in room: Room) throws(DomainError) -> (PollDefinition, [OptionID]) {
        var d = raw
        d.question = try Self.text(d.question, field + "question", limit: limits.maxTextLength, required: true)
        if d.overNeeds && d.kind == .open { throw .invalidField(field + "overNeeds", "an open poll has no options") }
        if !d.overNeeds && d.kind != .open {
            if d.labels.count < 2 { throw .invalidField(field + "options", "needs at least 2 options") }
            if d.labels.count > limits.maxOptionsPerPoll { throw .tooLarge(field + "options", limit: limits.maxOptionsPerPoll) }
            var labels: [String] = []
            for l in d.labels { labels.append(try Self.text(l, field + "options", limit: limits.maxTitleLength, required: true)) }
            d.labels = labels
        } else {
            d.labels = []
        }
        if let m = d.method, !m.applies(to: d.kind) {
            throw .invalidField(field + "method", "\(m.rawValue) does not apply to \(d.kind.rawValue) polls")
        }
        let options = d.overNeeds ? room.activeNeeds.map(\.id) : (d.kind == .open ? [] : Array(1...d.labels.count))
        // Rules are checked with placeholder options for polls over needs: the real ones come at open.
        let probe = Poll.rules(d, d.overNeeds ? Array(1...max(2, d.maxChoices ?? 2)) : options)
        if let v = probe.check() { throw .invalidField(field + "settings", v.message) }
        return (d, options)
    }

    mutating func openPoll(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        var effects = try openPollEffects(id, in: room.code, at: at)
        effects.append(.reply(.ack(["poll": Value(id)]), ref: ref, to: c))
        return effects
    }

    mutating func openPollEffects(_ id: Int, in code: String, at: Millis) throws(DomainError) -> [Effect] {
        let room = rooms[code]!
        let p = try poll(id, in: room)
        switch p.state {
        case .open: throw DomainError("poll_open", "poll \(id) is already open")
        case .closed: throw DomainError("poll_closed", "poll \(id) is closed; create a new one to ask again")
        case .draft: break
        }
        var options = p.options
        if p.definition.overNeeds {
            options = room.activeNeeds.map(\.id)
            if options.isEmpty { throw DomainError("no_needs", "there are no needs to vote on yet") }
            if options.count > limits.maxOptionsPerPoll {
                throw DomainError("limit_reached", "\(options.count) needs exceed maxOptionsPerPoll (\(limits.maxOptionsPerPoll)); merge or remove some")
            }
            if let v = Poll.rules(p.definition, options).check() { throw DomainError("invalid_field", "settings: \(v.message)") }
        }
        var effects = commit(.pollOpened(id: id, options: options), in: code, at: at)
        if p.definition.anonymous {
            let key = randomSecret(from: &entropy)
            rooms[code]!.polls[id]!.voterKey = key
            // Inserted before the replies, so the key is on disk before anyone can vote.
            effects.insert(.secret(name: Self.voterKeyName(code, id), value: key), at: 1)
        }
        markPollDirty(code, id)
        return effects
    }

    mutating func closePoll(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        let p = try poll(id, in: room)
        guard p.state == .open else {
            throw DomainError(p.state == .draft ? "poll_not_open" : "poll_closed", "poll \(id) is not open")
        }
        var effects = closePollOps(id, in: room.code, at: at)
        effects.append(.reply(.ack(["poll": Value(id)]), ref: ref, to: c))
        return effects
    }

    /// Closes an open poll: its key goes, open answers become candidate needs, final results go out.
    mutating func closePollOps(_ id: Int, in code: String, at: Millis) -> [Effect] {
        let p = rooms[code]!.polls[id]!
        var effects = commit(.pollClosed(id: id), in: code, at: at)
        if p.definition.anonymous { effects.insert(.secret(name: Self.voterKeyName(code, id), value: nil), at: 1) }
        // Answers to an open question become candidate needs, so the room can prioritize them next.
        if p.definition.kind == .open && rooms[code]!.settings.openAnswersBecomeNeeds {
            var seen = Set(rooms[code]!.needs.values.filter(\.isActive).map { $0.text.lowercased() })
            for answer in p.tally.results().answers {
                let text = answer.text.trimmingWhitespace()
                guard !text.isEmpty, text.count <= limits.maxTextLength, seen.insert(text.lowercased()).inserted,
                    rooms[code]!.needs.count < limits.maxNeedsPerRoom
                else { continue }
                let need = Need(
                    id: rooms[code]!.nextNeedID, text: text, tags: [], submitter: nil, organization: "", createdAt: at,
                    fromPoll: id)
                effects += commit(.needAdded(need), in: code, at: at)
            }
            markRankingDirty(code)
        }
        markPollDirty(code, id)
        return effects
    }

    mutating func castVote(_ id: Int, _ fields: Value.Object, ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        guard let b = bindings[c] else { throw .notJoined }
        // The hottest request reads the room and poll in place: a dictionary getter would copy the whole
        // Room and Poll (retaining every field) per vote, and a live copy would make the commit copy ballots.
        let maxAnswerBytes = limits.maxTextLength * 4, hasher = hasher
        let checked = try rooms.inPlace(b.room) { (room: inout Room) throws(DomainError) -> CheckedVote in
            try Self.checkVote(in: &room, member: b.member, poll: id, fields: fields, maxAnswerBytes: maxAnswerBytes, hasher: hasher)
        }
        guard let check = checked else { throw .notJoined }
        var effects = commit(.voteCast(poll: id, voter: check.voter, check.ballot), in: b.room, at: at)
        if check.anonymous {
            _ = rooms.inPlace(b.room) { room in
                room.polls.inPlace(id) { poll in
                    if poll.pseudonyms[b.member] == nil { poll.pseudonyms[b.member] = check.voter }
                }
            }
        }
        markPollDirty(b.room, id, overNeeds: check.overNeeds)
        effects.append(.reply(.ack(["poll": Value(id)]), ref: ref, to: c))
        return effects
    }

    /// A ballot that passed every check, with what its commit needs.
    struct CheckedVote {
        var voter: String
        var ballot: Ballot
        var overNeeds: Bool
        var anonymous: Bool
    }

    private static func checkVote(
        in room: inout Room, member: MemberID, poll id: Int, fields: Value.Object, maxAnswerBytes: Int,
        hasher: any SecretHasher
    ) throws(DomainError) -> CheckedVote {
        guard let m = room.members[member], !m.departed else { throw .notJoined }
        if m.role == .observer { throw DomainError("not_allowed", "observers watch; they do not vote") }
        let checked = try room.polls.inPlace(id) { (poll: inout Poll) throws(DomainError) -> CheckedVote in
            try checkBallot(in: &poll, member: member, fields: fields, maxAnswerBytes: maxAnswerBytes, hasher: hasher)
        }
        guard let checked else { throw Self.pollNotFound(id) }
        return checked
    }

    private static func checkBallot(
        in poll: inout Poll, member: MemberID, fields: Value.Object, maxAnswerBytes: Int, hasher: any SecretHasher
    ) throws(DomainError) -> CheckedVote {
        try Self.checkOpen(poll.state, poll.id)
        let ballot = try Ballot(kind: poll.definition.kind, fields: fields, maxAnswerBytes: maxAnswerBytes)
        if let v = poll.tally.rules.validate(ballot) {
            throw DomainError("invalid_ballot", "\(v.reason.rawValue): \(v.message)")
        }
        return CheckedVote(
            voter: voterKey(for: member, in: poll, hasher: hasher), ballot: ballot, overNeeds: poll.definition.overNeeds,
            anonymous: poll.definition.anonymous)
    }

    mutating func retractVote(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let code: String, voter: String
        do {
            let (room, m) = try caller(c)
            let p = try votablePoll(id, in: room)
            voter = voterKey(for: m.id, in: p)
            guard p.ballots[voter] != nil else { throw DomainError("no_ballot", "you have no ballot in poll \(id)") }
            code = room.code
        }
        var effects = commit(.voteRetracted(poll: id, voter: voter), in: code, at: at)
        markPollDirty(code, id)
        effects.append(.reply(.ack(["poll": Value(id)]), ref: ref, to: c))
        return effects
    }

    /// The name under which the server stores an open anonymous poll's voter key.
    public static func voterKeyName(_ room: String, _ poll: Int) -> String { "\(room)-\(poll)" }

    /// After recovery: give each open anonymous poll its key back (from the server's key files), or a new
    /// one when the file is missing. Without ballots that is a crash between the open and the key write;
    /// with ballots the key was lost and members who voted get a second ballot (the server warns). A file
    /// that exists but is unusable never gets here: the server refuses (`Persistence.loadKeys`).
    /// Returns keys that were created, for the server to store.
    public mutating func installVoterKeys(_ keys: [String: String], in codes: [String]? = nil) -> [(name: String, key: String)] {
        var created: [(String, String)] = []
        for code in codes ?? Array(rooms.keys) where rooms[code] != nil {
            for (id, p) in rooms[code]!.polls where p.definition.anonymous && p.state == .open {
                let name = Self.voterKeyName(code, id)
                if let k = keys[name] {
                    rooms[code]!.polls[id]!.voterKey = k
                } else {
                    let k = randomSecret(from: &entropy)
                    rooms[code]!.polls[id]!.voterKey = k
                    created.append((name, k))
                }
            }
        }
        return created
    }

    /// Key names of every open anonymous poll (the only ones that may have a key file).
    public func openAnonymousPollKeyNames() -> Set<String> {
        var names = Set<String>()
        for (code, room) in rooms {
            for (id, p) in room.polls where p.definition.anonymous && p.state == .open { names.insert(Self.voterKeyName(code, id)) }
        }
        // Archived rooms' open polls keep their keys on disk until the room is reopened.
        for a in archived.values { names.formUnion(a.voterKeyNames) }
        return names
    }

    func poll(_ id: Int, in room: Room) throws(DomainError) -> Poll {
        try Self.existing(room.polls[id], id)
    }

    static func existing(_ poll: Poll?, _ id: Int) throws(DomainError) -> Poll {
        guard let p = poll else { throw pollNotFound(id) }
        return p
    }

    static func pollNotFound(_ id: Int) -> DomainError { DomainError("poll_not_found", "no poll has id \(id)") }

    func votablePoll(_ id: Int, in room: Room) throws(DomainError) -> Poll {
        try Self.votable(room.polls[id], id)
    }

    /// The poll if it exists and is open: the one check behind every ballot.
    static func votable(_ poll: Poll?, _ id: Int) throws(DomainError) -> Poll {
        let p = try existing(poll, id)
        try checkOpen(p.state, id)
        return p
    }

    static func checkOpen(_ state: PollState, _ id: Int) throws(DomainError) {
        switch state {
        case .draft: throw DomainError("poll_not_open", "poll \(id) is not open yet")
        case .closed: throw DomainError("poll_closed", "poll \(id) is closed")
        case .open: return
        }
    }

    /// Named polls key ballots by member; anonymous ones by a keyed hash only this open poll can compute.
    func voterKey(for member: MemberID, in p: Poll) -> String { Self.voterKey(for: member, in: p, hasher: hasher) }

    static func voterKey(for member: MemberID, in p: Poll, hasher: any SecretHasher) -> String {
        guard p.definition.anonymous else { return "m" + String(member) }
        if let known = p.pseudonyms[member] { return known }
        guard let key = p.voterKey else { return "" }
        // Member first: whatever the hasher, the varying part is inside the kept prefix.
        return "a" + hasher.digest("\(member):\(p.id):\(key)").prefix(32)
    }

    /// The members with a ballot in a named poll, read back from its ballot keys (`voterKey`'s "m" + id).
    static func namedVoters(_ p: Poll) -> [MemberID] {
        p.ballots.keys.compactMap { key in key.utf8.first == UInt8(ascii: "m") ? MemberID(key.dropFirst()) : nil }
    }
}
