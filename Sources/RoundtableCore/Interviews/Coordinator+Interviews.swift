/// Appreciative interviews: rounds of pairs, server-side phase timers, late joiners, rematches, notes.
extension Coordinator {
    mutating func startInterviews(_ s: InterviewSettings, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (room, _) = try facilitator(c)
        if room.interviews.active { throw DomainError("interviews_active", "interviews are already running; end them first") }
        let s = try checkedInterviewSettings(s, in: room)
        var effects = commit(.interview(.started(s)), in: room.code, at: at)
        effects += startRound(room.code, at: at)
        effects.append(.reply(.ack(["round": Value(rooms[room.code]!.interviews.round)]), ref: ref, to: c))
        return effects
    }

    /// Interview settings checked against their ranges and the room (`interviews.start`, agenda interview steps).
    func checkedInterviewSettings(_ s: InterviewSettings, in room: Room, field: String = "") throws(DomainError) -> InterviewSettings {
        var s = s
        if !(10_000...7_200_000).contains(s.turnMs) { throw .invalidField(field + "turnSeconds", "must be 10...7200") }
        if !(0...7_200_000).contains(s.reportMs) { throw .invalidField(field + "reportSeconds", "must be 0...7200") }
        if !(0...3_600_000).contains(s.lateJoinGraceMs) { throw .invalidField(field + "lateJoinGraceSeconds", "must be 0...3600") }
        if !(0...3_600_000).contains(s.partnerGraceMs) { throw .invalidField(field + "partnerGraceSeconds", "must be 0...3600") }
        if s.prompts.count > limits.maxTags { throw .tooLarge(field + "prompts", limit: limits.maxTags) }
        var prompts: [String] = []
        for p in s.prompts { prompts.append(try Self.text(p, field + "prompts", limit: limits.maxTextLength, required: true)) }
        s.prompts = prompts
        if let t = s.linkTemplate {
            s.linkTemplate = try Self.text(t, field + "linkTemplate", limit: limits.maxTextLength)
            if !(s.linkTemplate!.hasPrefix("https://") || s.linkTemplate!.hasPrefix("http://")) {
                throw .invalidField(field + "linkTemplate", "must be an http(s) URL")
            }
        }
        if let g = s.group, !room.grouping.groups.contains(where: { $0.id == g }) {
            throw DomainError("group_not_found", "no group has id \(g)")
        }
        return s
    }

    mutating func nextInterviewRound(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        guard room.interviews.active else { throw DomainError("interviews_inactive", "start interviews first (interviews.start)") }
        var effects = startRound(room.code, at: at)
        effects.append(.reply(.ack(["round": Value(rooms[room.code]!.interviews.round)]), ref: ref, to: c))
        return effects
    }

    mutating func endInterviews(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        guard room.interviews.active else { throw DomainError("interviews_inactive", "interviews are not running") }
        var effects = commit(.interview(.ended), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    /// Who takes part: present members (not facilitators or observers), or one group's.
    func interviewCandidates(_ room: Room) -> [PairingCandidate] {
        let online = runtime[room.code]?.connections ?? [:]
        let group = room.interviews.settings.group.flatMap { g in room.grouping.groups.first { $0.id == g } }
        return room.currentMembers.filter { m in
            m.role == .member && online[m.id] != nil && (group.map { $0.members.contains(m.id) } ?? true)
        }.map { candidate($0, room) }
    }

    func candidate(_ m: Member, _ room: Room) -> PairingCandidate {
        // Interests: tags of needs the member submitted or chose in a named poll (anonymous ballots stay unattributed).
        var interests = Set<String>()
        for n in room.needs.values where n.submitter == m.id && n.isActive { interests.formUnion(n.tags) }
        for p in room.polls.values where p.definition.overNeeds && !p.definition.anonymous {
            if let b = p.ballots["m\(m.id)"] {
                for id in b.touchedOptions { interests.formUnion(room.needs[id]?.tags ?? []) }
            }
        }
        return PairingCandidate(id: m.id, organization: m.organization, interests: interests, expertise: Set(m.expertise))
    }

    mutating func startRound(_ code: String, at: Millis) -> [Effect] {
        let room = rooms[code]!
        let s = room.interviews.settings
        let seed = entropy.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let result = Pairing.pair(interviewCandidates(room), strategy: s.strategy, history: pairingHistory(room), seed: seed)
        let number = room.interviews.round + 1
        let pairs = result.groups.enumerated().map { i, members in
            InterviewPair(id: i + 1, members: members, firstAsker: members[0], link: link(s, code, number, i + 1))
        }
        runtime[code]?.partnerLeftSent.removeAll() // pair ids restart every round
        var effects = commit(
            .interview(.round(number: number, pairs: pairs, endsAt: at + s.turnMs, unmet: result.unmetConstraints)), in: code, at: at)
        for m in result.unpaired { effects += commit(.interview(.waiting(m, since: at)), in: code, at: at) }
        for p in pairs { effects += assignmentNotices(p, in: code) }
        return effects
    }

    func link(_ s: InterviewSettings, _ code: String, _ round: Int, _ pair: Int) -> String? {
        s.linkTemplate.map { t in
            t.replacing("{room}", with: code).replacing("{round}", with: String(round)).replacing("{pair}", with: String(pair))
        }
    }

    /// The private `interview.assigned` for each member of a pair.
    func assignmentNotices(_ p: InterviewPair, in code: String) -> [Effect] {
        guard let room = rooms[code] else { return [] }
        var effects: [Effect] = []
        for m in p.members {
            let conns = runtime[code]?.connections[m] ?? []
            guard !conns.isEmpty else { continue }
            effects.append(.send(Notice(type: "interview.assigned", body: assignmentBody(p, for: m, room)), ref: nil, to: conns))
        }
        return effects
    }

    func assignmentBody(_ p: InterviewPair, for m: MemberID, _ room: Room) -> Value.Object {
        let iv = room.interviews
        var o: Value.Object = [
            "round": Value(iv.round), "pair": Value(p.id),
            "partners": .array(
                p.members.filter { $0 != m }.compactMap { id in
                    room.members[id].map { ["id": Value(id), "name": .string($0.name), "organization": .string($0.organization)] }
                }),
            "firstAsker": Value(p.firstAsker), "youAskFirst": .bool(p.firstAsker == m), "prompts": Value(iv.settings.prompts),
            "phase": .string(iv.phase.rawValue), "endsAt": .int(iv.phaseEndsAt),
        ]
        if let link = p.link { o["link"] = .string(link) }
        return o
    }

    /// A member arrives (joins or comes back) while a round runs and has no pair: they wait for a partner.
    mutating func interviewArrival(_ m: MemberID, in code: String, at: Millis) -> [Effect] {
        guard let room = rooms[code], room.interviews.active, room.interviews.phase != .done,
            room.members[m]?.role == .member, room.interviews.pair(of: m) == nil,
            !room.interviews.waiting.contains(where: { $0.member == m })
        else { return [] }
        if let g = room.interviews.settings.group, !(room.grouping.groups.first { $0.id == g }?.members.contains(m) ?? false) {
            return []
        }
        return commit(.interview(.waiting(m, since: at)), in: code, at: at)
    }

    mutating func rematch(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, m) = try caller(c)
        guard m.role == .member else { throw DomainError("not_allowed", "facilitators and observers are not paired for interviews") }
        guard room.interviews.active, room.interviews.phase != .done else {
            throw DomainError("interviews_inactive", "no interview round is running")
        }
        if room.interviews.waiting.contains(where: { $0.member == m.id }) {
            return [.reply(.ack(["waiting": true]), ref: ref, to: c)]
        }
        var effects = commit(.interview(.waiting(m.id, since: at)), in: room.code, at: at)
        effects += matchWaiting(room.code, at: at)
        effects.append(.reply(.ack(["waiting": .bool(rooms[room.code]!.interviews.waiting.contains { $0.member == m.id })]), ref: ref, to: c))
        return effects
    }

    /// Pairs waiting members two by two; one left alone past the grace period joins a trio.
    mutating func matchWaiting(_ code: String, at: Millis) -> [Effect] {
        var effects: [Effect] = []
        let online = runtime[code]?.connections ?? [:]
        while true {
            let room = rooms[code]!
            let waiting = room.interviews.waiting.filter { online[$0.member] != nil }
            if waiting.count >= 2 {
                let ids = [waiting[0].member, waiting[1].member]
                let id = room.interviews.nextPairID
                let p = InterviewPair(id: id, members: ids, firstAsker: ids[0], link: link(room.interviews.settings, code, room.interviews.round, id))
                effects += commit(.interview(.pairSet(p)), in: code, at: at)
                effects += assignmentNotices(p, in: code)
                continue
            }
            if let w = waiting.first, at - w.since >= room.interviews.settings.lateJoinGraceMs, let m = room.members[w.member] {
                let hosts = room.interviews.pairs.filter { $0.members.count == 2 && $0.members.allSatisfy { online[$0] != nil } }
                let cands = hosts.map { $0.members.compactMap { room.members[$0] }.map { candidate($0, room) } }
                if let i = Pairing.bestTrioHost(
                    for: candidate(m, room), among: cands, strategy: room.interviews.settings.strategy, history: pairingHistory(room))
                {
                    var p = hosts[i]
                    p.members.append(m.id)
                    effects += commit(.interview(.pairSet(p)), in: code, at: at)
                    effects += assignmentNotices(p, in: code)
                }
            }
            return effects
        }
    }

    mutating func interviewNote(about: MemberID, text: String, shared: Bool, ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let (room, m) = try caller(c)
        guard about != m.id, room.members[about] != nil, room.interviews.history.contains(PairKey(m.id, about)) else {
            throw DomainError("not_allowed", "notes are about someone you were paired with")
        }
        let text = try Self.text(text, "text", limit: limits.maxTextLength, required: true)
        let note = InterviewNote(
            id: room.interviews.nextNoteID, author: m.id, about: about, text: text, shared: shared, round: room.interviews.round, at: at)
        var effects = commit(.interview(.note(note)), in: room.code, at: at)
        if !shared {
            // Private: only the author and the partner it is about.
            let to = (runtime[room.code]?.connections[m.id] ?? []) + (runtime[room.code]?.connections[about] ?? [])
            effects.append(.send(Notice(type: "interview.note", body: ["note": note.value]), ref: nil, to: to))
        }
        effects.append(.reply(.ack(["note": Value(note.id)]), ref: ref, to: c))
        return effects
    }

    mutating func acceptHighlight(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, m) = try caller(c)
        guard let n = room.interviews.notes[id], n.shared else { throw DomainError("highlight_not_found", "no highlight has id \(id)") }
        guard n.about == m.id else { throw DomainError("not_allowed", "only the member a highlight is about may accept it") }
        if n.accepted { return [.reply(.ok, ref: ref, to: c)] }
        var effects = commit(.interview(.highlightAccepted(id)), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    /// Timers and waiting members, at every tick.
    mutating func interviewTick(_ code: String, at: Millis) -> [Effect] {
        guard let room = rooms[code], room.interviews.active else { return [] }
        var effects: [Effect] = []
        let iv = room.interviews
        if iv.phase != .done && at >= iv.phaseEndsAt {
            let next = iv.phase.next
            let duration = next == .secondTurn ? iv.settings.turnMs : next == .report ? iv.settings.reportMs : 0
            effects += commit(.interview(.phase(next, endsAt: at + duration)), in: code, at: at)
        }
        if !rooms[code]!.interviews.waiting.isEmpty && rooms[code]!.interviews.phase != .done {
            effects += matchWaiting(code, at: at)
        }
        effects += partnerLeftNotices(code, at: at)
        return effects
    }

    /// Tells the remaining partner once a partner has been offline longer than the grace period.
    mutating func partnerLeftNotices(_ code: String, at: Millis) -> [Effect] {
        guard let room = rooms[code], var rt = runtime[code], room.interviews.phase != .done else { return [] }
        var effects: [Effect] = []
        for p in room.interviews.pairs {
            for gone in p.members where rt.connections[gone] == nil {
                // Offline with no record of when: offline since before a restart (runtime facts are not journaled).
                // A restart is not a departure: such a member is reported only if they left the room or were
                // removed (journaled), timed from the first tick that notices.
                if rt.offlineSince[gone] == nil {
                    guard room.members[gone]?.departed ?? true else { continue }
                    rt.offlineSince[gone] = at
                }
                guard let since = rt.offlineSince[gone], at - since >= room.interviews.settings.partnerGraceMs,
                    !rt.partnerLeftSent.contains(Int64(p.id) << 32 | Int64(gone))
                else { continue }
                rt.partnerLeftSent.insert(Int64(p.id) << 32 | Int64(gone))
                let to = p.members.filter { $0 != gone }.flatMap { rt.connections[$0] ?? [] }
                if !to.isEmpty {
                    effects.append(
                        .send(
                            Notice(type: "interview.partner-left", body: ["round": Value(room.interviews.round), "pair": Value(p.id), "member": Value(gone)]),
                            ref: nil, to: to))
                }
            }
        }
        runtime[code] = rt
        return effects
    }
}
