/// Groups (assigned or self-selected), saved groupings, announcements and agenda timers.
extension Coordinator {
    public struct GroupSpec: Sendable, Hashable {
        public var name: String
        public var description: String
        public var capacity: Int?
        public init(name: String, description: String = "", capacity: Int? = nil) {
            self.name = name
            self.description = description
            self.capacity = capacity
        }
    }

    mutating func createGroups(_ mode: GroupMode, _ specs: [GroupSpec], ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let (room, _) = try facilitator(c)
        if specs.isEmpty { throw .invalidField("groups", "must hold at least one group") }
        if specs.count > limits.maxGroupsPerRoom { throw .tooLarge("groups", limit: limits.maxGroupsPerRoom) }
        var groups: [Group] = []
        for (i, s) in specs.enumerated() {
            let name = try Self.text(s.name, "groups[\(i)].name", limit: limits.maxTitleLength, required: true)
            let desc = try Self.text(s.description, "groups[\(i)].description", limit: limits.maxTextLength)
            if let cap = s.capacity, cap < 1 { throw .invalidField("groups[\(i)].capacity", "must be at least 1") }
            groups.append(Group(id: i + 1, name: name, description: desc, capacity: s.capacity))
        }
        var effects = commit(.groups(.created(mode, groups)), in: room.code, at: at)
        effects.append(.reply(.ack(["groups": .array(groups.map { Value($0.id) })]), ref: ref, to: c))
        return effects
    }

    /// The top `count` ranked needs become self-select groups: criteria the members created themselves.
    mutating func groupsFromNeeds(count: Int, capacity: Int?, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (room, _) = try facilitator(c)
        if !(1...limits.maxGroupsPerRoom).contains(count) { throw .invalidField("count", "must be 1...\(limits.maxGroupsPerRoom)") }
        if let capacity, capacity < 1 { throw .invalidField("capacity", "must be at least 1") }
        let ranked = rankingValue(room, forFacilitator: true)["needs"]?.arrayValue ?? []
        let top = ranked.prefix(count).compactMap { $0["need"]?.intValue.map { Int($0) } }
        if top.isEmpty { throw DomainError("no_needs", "there are no needs to form groups from") }
        let groups = top.enumerated().map { i, id in
            Group(id: i + 1, name: String((room.needs[id]?.text ?? "Need \(id)").prefix(limits.maxTitleLength)), capacity: capacity, need: id)
        }
        var effects = commit(.groups(.created(.selfSelect, groups)), in: room.code, at: at)
        effects.append(.reply(.ack(["groups": .array(groups.map { Value($0.id) })]), ref: ref, to: c))
        return effects
    }

    mutating func assignGroups(explicit: [MemberID: Int]?, strategy: String?, ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let (room, _) = try facilitator(c)
        let groups = room.grouping.groups
        if groups.isEmpty { throw DomainError("no_groups", "create groups first (groups.create)") }
        var moves: [MemberID: Int?] = [:]
        if let explicit {
            var counts = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0.members.filter { explicit[$0] == nil }.count) })
            for (m, g) in explicit.sorted(by: { $0.key < $1.key }) {
                guard let member = room.members[m], !member.departed else { throw DomainError("member_not_found", "no current member has id \(m)") }
                guard let group = groups.first(where: { $0.id == g }) else { throw DomainError("group_not_found", "no group has id \(g)") }
                counts[g, default: 0] += 1
                if let cap = group.capacity, counts[g]! > cap { throw DomainError("group_full", "group \(g) holds at most \(cap)") }
                moves[m] = g
            }
        } else if strategy == "roster" {
            moves = try rosterGroups(room)
        } else {
            guard let name = strategy, let s = GroupStrategy(rawValue: name) else {
                throw .invalidField("strategy", "must be balanced, mixed-organizations, by-need or roster (or give assignments)")
            }
            let members = room.currentMembers.filter { $0.role == .member }
            let moved = Set(members.map(\.id))
            var rng = SeededEntropy(seed: entropy.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            let plan = GroupAssignment.assign(
                members.map { ($0.id, $0.organization, topNeed(of: $0.id, in: room)) }, to: groups.map { ($0.id, $0.capacity, $0.need) },
                strategy: s, occupied: groups.map { $0.members.filter { !moved.contains($0) }.count }, rng: &rng)
            for m in members { moves[m.id] = .some(plan[m.id]) }
        }
        var effects = commit(.groups(.membership(moves)), in: room.code, at: at)
        effects.append(.reply(.ack(["assigned": Value(moves.values.compactMap { $0 }.count)]), ref: ref, to: c))
        return effects
    }

    /// The need a member cares most about, as far as we may know without breaking anonymity:
    /// their best-placed option in the latest named poll over needs, else a need they submitted.
    func topNeed(of m: MemberID, in room: Room) -> Int? {
        for p in room.polls.values.sorted(by: { $0.id > $1.id }) where p.definition.overNeeds && !p.definition.anonymous {
            if let b = p.ballots["m\(m)"], let first = b.preferredOption { return first }
        }
        return room.needs.values.filter { $0.submitter == m && $0.isActive }.map(\.id).min()
    }

    mutating func joinGroup(_ g: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, m) = try caller(c)
        guard room.grouping.mode == .selfSelect else { throw DomainError("not_allowed", "groups here are assigned by the facilitator") }
        guard let group = room.grouping.groups.first(where: { $0.id == g }) else { throw DomainError("group_not_found", "no group has id \(g)") }
        if group.members.contains(m.id) { return [.reply(.ack(["group": Value(g)]), ref: ref, to: c)] }
        if group.isFull { throw DomainError("group_full", "\(group.name) is full (\(group.capacity ?? 0) seats)") }
        var effects = commit(.groups(.membership([m.id: g])), in: room.code, at: at)
        effects.append(.reply(.ack(["group": Value(g)]), ref: ref, to: c))
        return effects
    }

    mutating func leaveGroup(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, m) = try caller(c)
        guard room.grouping.mode == .selfSelect else { throw DomainError("not_allowed", "groups here are assigned by the facilitator") }
        guard room.grouping.group(of: m.id) != nil else { throw DomainError("not_in_group", "you are not in a group") }
        var effects = commit(.groups(.membership([m.id: nil])), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    mutating func saveGrouping(_ name: String, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        let name = try Self.text(name, "name", limit: limits.maxNameLength, required: true)
        var map: [MemberID: String] = [:]
        for g in room.grouping.groups { for m in g.members { map[m] = g.name } }
        var effects = commit(.groups(.saved(name: name, map)), in: room.code, at: at)
        effects.append(.reply(.ack(["name": .string(name), "members": Value(map.count)]), ref: ref, to: c))
        return effects
    }

    /// Re-applies a saved grouping: members who left are dropped, newcomers are placed evenly.
    mutating func applyGrouping(_ name: String, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        guard let saved = room.grouping.saved[name] else { throw DomainError("grouping_not_found", "no saved grouping is named \(name)") }
        let groups = room.grouping.groups
        if groups.isEmpty { throw DomainError("no_groups", "create groups first (groups.create)") }
        let byName = Dictionary(groups.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        var moves: [MemberID: Int?] = [:]
        var counts: [Int: Int] = [:]
        var newcomers: [Member] = []
        for m in room.currentMembers where m.role == .member {
            if let gname = saved[m.id], let g = byName[gname],
                groups.first(where: { $0.id == g })?.capacity.map({ counts[g, default: 0] < $0 }) ?? true
            {
                moves[m.id] = g
                counts[g, default: 0] += 1
            } else {
                newcomers.append(m)
            }
        }
        for m in newcomers {
            let open = groups.filter { g in g.capacity.map { counts[g.id, default: 0] < $0 } ?? true }
            guard let g = open.min(by: { (counts[$0.id, default: 0], $0.id) < (counts[$1.id, default: 0], $1.id) }) else {
                moves[m.id] = .some(nil)
                continue
            }
            moves[m.id] = g.id
            counts[g.id, default: 0] += 1
        }
        var effects = commit(.groups(.membership(moves)), in: room.code, at: at)
        effects.append(.reply(.ack(["placed": Value(newcomers.count)]), ref: ref, to: c))
        return effects
    }

    mutating func announce(_ text: String, group: Int?, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        let text = try Self.text(text, "text", limit: limits.maxTextLength, required: true)
        if let group {
            guard let g = room.grouping.groups.first(where: { $0.id == group }) else { throw DomainError("group_not_found", "no group has id \(group)") }
            let to = g.members.flatMap { runtime[room.code]?.connections[$0] ?? [] }
            return [
                .send(Notice(type: "room.announcement", body: ["room": .string(room.code), "text": .string(text), "group": Value(group)]), ref: nil, to: to),
                .reply(.ack(["delivered": Value(to.count)]), ref: ref, to: c),
            ]
        }
        var effects = commit(.groups(.announced(text: text)), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    mutating func startTimer(seconds: Int, label: String, group: Int?, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (room, _) = try facilitator(c)
        if !(1...86_400).contains(seconds) { throw .invalidField("seconds", "must be 1...86400") }
        let label = try Self.text(label, "label", limit: limits.maxTitleLength)
        if let group, !room.grouping.groups.contains(where: { $0.id == group }) { throw DomainError("group_not_found", "no group has id \(group)") }
        let t = AgendaTimer(id: room.grouping.nextTimerID, label: label, endsAt: at + Int64(seconds) * 1000, group: group)
        var effects = commit(.groups(.timerStarted(t)), in: room.code, at: at)
        effects.append(.reply(.ack(["timer": Value(t.id), "endsAt": .int(t.endsAt)]), ref: ref, to: c))
        return effects
    }

    mutating func stopTimer(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        guard room.grouping.timers.contains(where: { $0.id == id }) else { throw DomainError("timer_not_found", "no running timer has id \(id)") }
        var effects = commit(.groups(.timerEnded(id)), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    mutating func timerTick(_ code: String, at: Millis) -> [Effect] {
        guard let room = rooms[code] else { return [] }
        var effects: [Effect] = []
        for t in room.grouping.timers where at >= t.endsAt { effects += commit(.groups(.timerEnded(t.id)), in: code, at: at) }
        return effects
    }
}

/// How `groups.assign` places members when the facilitator names a strategy.
public enum GroupStrategy: String, Sendable, CaseIterable {
    /// Even sizes, random placement.
    case balanced
    /// Each organization spread across the groups.
    case mixedOrganizations = "mixed-organizations"
    /// Members go to the group made from the need they care most about; the rest are balanced.
    case byNeed = "by-need"
}

/// Pure placement of members into groups; capacities are never exceeded (members left over stay unplaced).
public enum GroupAssignment {
    public static func assign(
        _ members: [(id: MemberID, organization: String, topNeed: Int?)], to groups: [(id: Int, capacity: Int?, need: Int?)],
        strategy: GroupStrategy, occupied: [Int] = [], rng: inout SeededEntropy
    ) -> [MemberID: Int] {
        // Seats already taken by people the plan does not move (facilitators, observers) count against capacity.
        var counts = groups.indices.map { $0 < occupied.count ? occupied[$0] : 0 }
        var plan: [MemberID: Int] = [:]
        func hasRoom(_ i: Int) -> Bool { groups[i].capacity.map { counts[i] < $0 } ?? true }
        func place(_ m: MemberID) {
            // The emptiest group with room; ties to the lower index, so sizes never differ by more than one.
            var best: Int?
            for i in groups.indices where hasRoom(i) { if best == nil || counts[i] < counts[best!] { best = i } }
            if let b = best {
                plan[m] = groups[b].id
                counts[b] += 1
            }
        }
        var order = members
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        switch strategy {
        case .balanced:
            for m in order { place(m.id) }
        case .mixedOrganizations:
            // Deal organization by organization, round-robin from where the last one stopped.
            let byOrg = Dictionary(grouping: order, by: \.organization).sorted { ($0.value.count, $0.key) > ($1.value.count, $1.key) }
            var next = 0
            for (_, list) in byOrg {
                for m in list {
                    var tries = 0
                    while tries < groups.count && !hasRoom(next % max(groups.count, 1)) {
                        next += 1
                        tries += 1
                    }
                    if tries == groups.count { break }
                    let i = next % groups.count
                    plan[m.id] = groups[i].id
                    counts[i] += 1
                    next += 1
                }
            }
        case .byNeed:
            var rest: [MemberID] = []
            for m in order {
                if let need = m.topNeed, let i = groups.firstIndex(where: { $0.need == need }), hasRoom(i) {
                    plan[m.id] = groups[i].id
                    counts[i] += 1
                } else {
                    rest.append(m.id)
                }
            }
            for m in rest { place(m) }
        }
        return plan
    }
}

extension Ballot {
    /// The option this ballot favours most (for grouping by need).
    var preferredOption: OptionID? {
        switch self {
        case .single(let o): o
        case .multi(let os): os.first
        case .ranking(let os): os.first
        case .rating(let m): m.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
        case .points(let m): m.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
        case .open: nil
        }
    }
}

extension Coordinator {
    /// Interviews, groups and timers as one member sees them in `room.state`.
    func sessionState(_ room: Room, for viewer: Member) -> Value.Object {
        let iv = room.interviews
        var interviews: Value.Object = [
            "active": .bool(iv.active), "round": Value(iv.round), "phase": .string(iv.phase.rawValue), "endsAt": .int(iv.phaseEndsAt),
            "settings": iv.settings.value, "waiting": .bool(iv.waiting.contains { $0.member == viewer.id }),
        ]
        if let p = iv.pair(of: viewer.id) { interviews["yourPair"] = .object(assignmentBody(p, for: viewer.id, room)) }
        interviews["highlights"] = .array(
            iv.notes.values.filter(\.shared).sorted { $0.id < $1.id }.map {
                ["highlight": Value($0.id), "author": Value($0.author), "about": Value($0.about), "text": .string($0.text), "accepted": .bool($0.accepted)]
            })
        // Private notes: only those the viewer wrote or that are about the viewer.
        interviews["yourNotes"] = .array(
            iv.notes.values.filter { !$0.shared && ($0.author == viewer.id || $0.about == viewer.id) }.sorted { $0.id < $1.id }.map(\.value))
        var groups: Value.Object = [
            "mode": .string(room.grouping.mode.rawValue), "groups": .array(room.grouping.groups.map(\.value)),
            "timers": .array(room.grouping.timers.map(\.value)),
        ]
        if let g = room.grouping.group(of: viewer.id) { groups["yourGroup"] = Value(g.id) }
        if viewer.role == .facilitator { groups["saved"] = .array(room.grouping.saved.keys.sorted().map { .string($0) }) }
        return ["interviews": .object(interviews), "groups": .object(groups)]
    }
}
