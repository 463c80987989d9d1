/// Coalesced live results and the ranked list of needs, and what `room.state` shows of them.
extension Coordinator {
    /// Time passes: each room with changes gets at most one `poll.results` per poll and one
    /// `needs.ranking` per `resultsIntervalMs`, each encoded once per audience.
    public mutating func tick(at: Millis) -> [Effect] {
        var effects: [Effect] = []
        for code in timedRooms() {
            effects += interviewTick(code, at: at)
            effects += timerTick(code, at: at)
        }
        for code in dirtyRooms {
            guard var rt = runtime[code], let room = rooms[code] else {
                dirtyRooms.remove(code)
                continue
            }
            guard at - rt.lastFlush >= limits.resultsIntervalMs else { continue }
            // In a large room joins and presence move the "of N" at the presence pace, like the counts:
            // a launch with a poll open must not cost every member a turnout per results tick.
            let large = room.currentMemberCount > room.settings.presenceEventsUpTo
            let presencePaceDue = at - rt.lastPresenceFlush >= limits.presenceIntervalMs
            let turnoutFromPresence = rt.turnoutDirty && (!large || presencePaceDue)
            let presenceDue = rt.presenceDirty && presencePaceDue
            // Nothing due (a large room between presence rounds while people keep arriving): skip before the
            // audience walk, which is O(members) and ran on every eager tick of a launch (perf: 18 % of the CPU
            // of a 5,000-member launch at 250 joins/s).
            guard turnoutFromPresence || presenceDue || !rt.dirtyPolls.isEmpty || rt.rankingDirty || !rt.catchUp.isEmpty else {
                if !rt.presenceDirty && !rt.turnoutDirty { dirtyRooms.remove(code) }
                continue
            }
            let (facilitators, others) = audiences(room, rt)
            // Turnout of open polls: after ballots, and after joins and presence changes (the "of N").
            var turnouts: [Int: Turnout] = [:]
            // Only a flush that sends results restarts the results pace. A pass that finds only counts not yet
            // due (a large room for presenceIntervalMs after joins) sends nothing, and must not hold the next
            // vote's results back by up to resultsIntervalMs (issue 20: the first rounds after a launch, ~180 ms).
            if turnoutFromPresence || !rt.dirtyPolls.isEmpty || rt.rankingDirty || !rt.catchUp.isEmpty { rt.lastFlush = at }
            for id in room.polls.keys.sorted() where room.polls[id]!.state == .open && (turnoutFromPresence || rt.dirtyPolls.contains(id)) {
                let t = turnout(id, in: code, rt)
                turnouts[id] = t
                if !others.isEmpty || !facilitators.isEmpty {
                    let body: Value.Object = ["room": .string(code), "poll": Value(id), "answered": Value(t.answered), "present": Value(t.present)]
                    effects.append(.send(Notice(type: "poll.turnout", body: body), ref: nil, to: facilitators + others))
                }
            }
            let fresh = rooms[code] ?? room // turnout filled the pseudonym cache
            for id in rt.dirtyPolls.sorted() {
                guard let p = fresh.polls[id], p.state != .draft else { continue }
                let base = resultsValue(p)
                var forFacilitators = base
                forFacilitators["responses"] = responses(p, fresh, rt, turnout: turnouts[id])
                effects.append(.send(Notice(type: "poll.results", body: forFacilitators), ref: nil, to: facilitators))
                let to = resultAudience(p, fresh, rt, among: others)
                if !to.isEmpty {
                    effects.append(.send(Notice(type: "poll.results", body: base), ref: nil, to: to))
                }
            }
            if rt.rankingDirty {
                let full = rankingValue(room, forFacilitator: true)
                effects.append(.send(Notice(type: "needs.ranking", body: full), ref: nil, to: facilitators))
                if !others.isEmpty {
                    effects.append(.send(Notice(type: "needs.ranking", body: rankingValue(room, forFacilitator: false)), ref: nil, to: others))
                }
            }
            // Counts are for reading, not for racing: during a launch they change with every join, and at the
            // results pace every member would get one per 250 ms (issue 20: ~68 messages per joiner).
            if presenceDue {
                let body: Value.Object = [
                    "room": .string(code), "members": Value(room.currentMemberCount), "online": Value(rt.connections.count),
                ]
                effects.append(.send(Notice(type: "room.presence", body: body), ref: nil, to: facilitators + others))
                rt.presenceDirty = false
                rt.lastPresenceFlush = at
            }
            effects += catchUpNotices(room, rt, facilitators: Set(facilitators), others: Set(others))
            rt.dirtyPolls.removeAll()
            rt.rankingDirty = false
            if turnoutFromPresence { rt.turnoutDirty = false }
            rt.catchUp.removeAll()
            runtime[code] = rt
            if !rt.presenceDirty && !rt.turnoutDirty { dirtyRooms.remove(code) }
        }
        return effects
    }

    /// Current results and ranking for connections that resumed from the event buffer, skipping what
    /// this flush already sent to everyone.
    private func catchUpNotices(_ room: Room, _ rt: RoomRuntime, facilitators: Set<ConnectionID>, others: Set<ConnectionID>) -> [Effect] {
        guard !rt.catchUp.isEmpty else { return [] }
        let f = rt.catchUp.filter(facilitators.contains).sorted()
        let o = rt.catchUp.filter(others.contains).sorted()
        var effects: [Effect] = []
        for id in room.polls.keys.sorted() where !rt.dirtyPolls.contains(id) {
            guard let p = room.polls[id], p.state != .draft else { continue }
            let base = resultsValue(p)
            if !f.isEmpty {
                var forFacilitators = base
                forFacilitators["responses"] = responses(p, room, rt)
                effects.append(.send(Notice(type: "poll.results", body: forFacilitators), ref: nil, to: f))
            }
            let to = resultAudience(p, room, rt, among: o)
            if !to.isEmpty { effects.append(.send(Notice(type: "poll.results", body: base), ref: nil, to: to)) }
        }
        if !rt.rankingDirty {
            if !f.isEmpty { effects.append(.send(Notice(type: "needs.ranking", body: rankingValue(room, forFacilitator: true)), ref: nil, to: f)) }
            if !o.isEmpty { effects.append(.send(Notice(type: "needs.ranking", body: rankingValue(room, forFacilitator: false)), ref: nil, to: o)) }
        }
        return effects
    }

    /// Rooms with a running interview session or agenda timer.
    func timedRooms() -> [String] {
        rooms.compactMap { code, room in room.interviews.active || !room.grouping.timers.isEmpty ? code : nil }
    }

    private func audiences(_ room: Room, _ rt: RoomRuntime) -> (facilitators: [ConnectionID], others: [ConnectionID]) {
        var f: [ConnectionID] = []
        var o: [ConnectionID] = []
        for (member, conns) in rt.connections {
            if room.facilitatorIDs.contains(member) { f += conns } else { o += conns }
        }
        return (f, o)
    }

    /// Whether every member (not only facilitators) may see this poll's results now.
    func membersMaySee(_ p: Poll) -> Bool {
        if p.state == .draft { return false }
        if p.revealed { return true }
        switch p.definition.visibility {
        case .live: return true
        case .afterClose, .afterVote: return p.state == .closed
        case .facilitator: return false
        }
    }

    /// Whether this member may see the poll's results now: as everyone, or (`after-vote`) once they answered.
    func maySee(_ p: Poll, _ viewer: Member) -> Bool {
        if viewer.role == .facilitator { return p.state != .draft }
        if membersMaySee(p) { return true }
        return p.definition.visibility == .afterVote && p.state == .open && hasBallot(viewer.id, in: p)
    }

    func hasBallot(_ m: MemberID, in p: Poll) -> Bool {
        let key = voterKey(for: m, in: p)
        return !key.isEmpty && p.ballots[key] != nil
    }

    /// The connections among `conns` (not facilitators') that may receive this poll's results now.
    func resultAudience(_ p: Poll, _ room: Room, _ rt: RoomRuntime, among conns: [ConnectionID]) -> [ConnectionID] {
        if conns.isEmpty || membersMaySee(p) { return conns }
        guard p.definition.visibility == .afterVote, p.state == .open else { return [] }
        var out: [ConnectionID] = []
        let wanted = Set(conns)
        for (m, cs) in rt.connections where hasBallot(m, in: p) { out += cs.filter(wanted.contains) }
        return out.sorted()
    }

    /// How many of the members present (role member, connected; facilitators and observers excluded) answered.
    struct Turnout {
        var answered: Int
        var present: Int
    }

    /// Counts the turnout of an open poll. Anonymous polls find each member's pseudonym through the poll's
    /// cache (filled here, so later flushes cost a lookup per member, not a hash); only the counts leave.
    mutating func turnout(_ id: Int, in code: String, _ rt: RoomRuntime) -> Turnout {
        if let room = rooms[code], let p = room.polls[id], !p.definition.anonymous {
            // Named ballots are keyed by member id: count them, O(ballots), with no key built per member.
            let present = rt.connections.keys.count(where: room.countsInTurnout(connected:))
            let answered = Self.namedVoters(p).count { rt.connections[$0] != nil && room.countsInTurnout(connected: $0) }
            return Turnout(answered: answered, present: present)
        }
        let hasher = hasher
        return rooms.inPlace(code) { (room: inout Room) -> Turnout in
            let members = rt.connections.keys.filter(room.countsInTurnout(connected:))
            return room.polls.inPlace(id) { (p: inout Poll) -> Turnout in
                var answered = 0
                for m in members {
                    let key = Self.voterKey(for: m, in: p, hasher: hasher)
                    if p.definition.anonymous && !key.isEmpty && p.pseudonyms[m] == nil { p.pseudonyms[m] = key }
                    if !key.isEmpty && p.ballots[key] != nil { answered += 1 }
                }
                return Turnout(answered: answered, present: members.count)
            } ?? Turnout(answered: 0, present: members.count)
        } ?? Turnout(answered: 0, present: 0)
    }

    /// Results as everyone allowed to see them gets them: scores, intervals, ranks; never voters.
    func resultsValue(_ p: Poll) -> Value.Object {
        let r = p.tally.results()
        var o: Value.Object = [
            "poll": Value(p.id), "state": .string(p.state.rawValue), "final": .bool(p.state == .closed),
            "method": .string(r.method.rawValue), "ballots": Value(r.ballots),
        ]
        o["results"] = .array(
            r.options.map { x in
                [
                    "option": Value(x.option), "score": .double(x.score), "low": .double(x.low), "high": .double(x.high),
                    "rank": Value(x.rank), "support": Value(x.support), "tied": .bool(x.tied),
                ]
            })
        if p.definition.kind == .open {
            o["answers"] = .array(r.answers.map { ["text": .string($0.text), "count": Value($0.count)] })
        }
        return o
    }

    /// Response tracking for facilitators: how many present members (not facilitators, not observers)
    /// answered and, for named polls, who has not.
    func responses(_ p: Poll, _ room: Room, _ rt: RoomRuntime, turnout: Turnout? = nil) -> Value {
        let present = rt.connections.keys.filter(room.countsInTurnout(connected:))
        var o: Value.Object = ["present": Value(present.count), "ballots": Value(p.ballots.count)]
        if !p.definition.anonymous {
            let voted = Set(Self.namedVoters(p))
            let waiting = present.filter { !voted.contains($0) }.sorted()
            o["answered"] = Value(present.count - waiting.count)
            o["waiting"] = .array(waiting.map { Value($0) })
        } else if let turnout {
            o["answered"] = Value(turnout.answered)
        }
        return .object(o)
    }

    /// The ranked list of needs. Members' version counts only polls whose results they may see.
    func rankingValue(_ room: Room, forFacilitator: Bool) -> Value.Object {
        let polls = room.polls.values
            .filter { $0.definition.overNeeds && $0.state != .draft && (forFacilitator || membersMaySee($0)) }
            .sorted { $0.id < $1.id }
        let active = room.activeNeeds
        let ranked = NeedsRanking.rank(polls.map { $0.tally.results() }, needs: active.map(\.id))
        // Experts by tag, once per ranking: filtering every expert for every need cost O(needs × experts) per
        // `room.state`, which a community session (a backlog, and everyone's expertise) made 31 ms a join. Only the
        // tags some need carries are indexed, and nobody when no need has a tag: in a community session everyone
        // declares expertise, and indexing all of it for every joiner cost milliseconds at 5,000 members.
        var needTags = Set<String>()
        for n in active { needTags.formUnion(n.tags) }
        let experts = needTags.isEmpty ? [] : room.currentMembers(among: room.expertIDs)
        var byTag: [String: [Int]] = [:]
        for (i, m) in experts.enumerated() {
            for t in Set(m.expertise) where needTags.contains(t) { byTag[t, default: []].append(i) }
        }
        let cap = max(0, limits.maxHelpersPerNeed)
        let entries: [Value] = ranked.map { r in
            let need = room.needs[r.need]
            let (first, count) = Self.firstHelpers(Set(need?.tags ?? []).compactMap { byTag[$0] }, cap: cap)
            return [
                "need": Value(r.need), "text": .string(need?.text ?? ""), "rank": Value(r.rank), "score": .double(r.score),
                "low": .double(r.low), "high": .double(r.high), "support": Value(r.support), "polls": Value(r.polls),
                "tied": .bool(r.tied), "helpers": .array(first.map { Value(experts[$0].id) }), "helperCount": Value(count),
            ]
        }
        return ["polls": .array(polls.map { Value($0.id) }), "needs": .array(entries)]
    }

    /// The first `cap` distinct positions of the union of ascending lists, and the union's size. Positions are
    /// indices into experts in joining order, so the listed helpers are the earliest-joined matching members: stable
    /// while people come and go online (the ranking is not re-sent on presence changes), the same in `room.state`
    /// and in every `needs.ranking`, and a pure function of the room. Merging costs O(matches × tags of the need),
    /// with no sort; a single-tag need (the usual case) is a prefix.
    static func firstHelpers(_ lists: [[Int]], cap: Int) -> (first: [Int], count: Int) {
        if lists.isEmpty { return ([], 0) }
        if lists.count == 1 { return (Array(lists[0].prefix(cap)), lists[0].count) }
        var next = [Int](repeating: 0, count: lists.count)
        var first: [Int] = []
        var count = 0
        while true {
            var low = Int.max
            for (k, l) in lists.enumerated() where next[k] < l.count { low = min(low, l[next[k]]) }
            if low == Int.max { break }
            for (k, l) in lists.enumerated() where next[k] < l.count && l[next[k]] == low { next[k] += 1 }
            if first.count < cap { first.append(low) }
            count += 1
        }
        return (first, count)
    }

    /// Needs, polls (with results the viewer may see and the viewer's own ballot) and the ranking, for `room.state`.
    func needsAndPollsState(_ room: Room, for viewer: Member) -> Value.Object {
        let isFacilitator = viewer.role == .facilitator
        var o: Value.Object = [:]
        o["needs"] = .array(room.activeNeeds.map { $0.publicValue(showOrganization: room.settings.showNeedOrganization) })
        o["polls"] = .array(
            room.polls.keys.sorted().compactMap { id -> Value? in
                guard let p = room.polls[id] else { return nil }
                if p.state == .draft && !isFacilitator { return nil }
                guard case .object(var s) = room.pollSummary(id) else { return nil }
                if p.state != .draft && maySee(p, viewer) { s["results"] = .object(resultsValue(p)) }
                let key = voterKey(for: viewer.id, in: p)
                if !key.isEmpty, let mine = p.ballots[key] { s["yourBallot"] = .object(mine.value) }
                return .object(s)
            })
        o["ranking"] = .object(rankingValue(room, forFacilitator: isFacilitator))
        return o
    }
}

extension Coordinator {
    /// Every poll that is not a draft, and every ranking, gets a fresh coalesced update at the next tick.
    public mutating func markAllResultsDirty() {
        for (code, room) in rooms {
            for p in room.polls.values where p.state != .draft { markPollDirty(code, p.id) }
            markRankingDirty(code)
        }
    }
}

extension Coordinator {
    /// The facilitator's `poll.results` notice for a poll, as the tick builds it (for benchmarks and exports).
    public func resultsNotice(for poll: Int, in room: Room) -> Notice {
        guard let p = room.polls[poll] else { return Notice(type: "poll.results", body: [:]) }
        var body = resultsValue(p)
        body["responses"] = responses(p, room, runtime[room.code] ?? RoomRuntime(bufferLimit: 1))
        return Notice(type: "poll.results", body: body)
    }
}
