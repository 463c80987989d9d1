extension Community {
    /// A community id and the key that proves the caller's role in it.
    public struct Credentials: Sendable, Hashable {
        public var id: String
        public var key: String
        /// The key is a member's personal `communityKey`, not the facilitator key.
        public var asMember: Bool
        public init(id: String, key: String, asMember: Bool = false) {
            self.id = id
            self.key = key
            self.asMember = asMember
        }
    }
}

extension DomainError {
    public static let communityNotFound = DomainError("community_not_found", "no community has this id")
    public static let communityKeyRequired = DomainError(
        "community_key_required", "this room is a session of a community: join with your personal communityKey (ask the facilitator to reissue a lost one)")
    public static let notCommunityRoom = DomainError("not_community_room", "this room is not a session of a community; join without communityKey")
}

/// Communities: roster, keys, sessions, backlog, and what each session hands back (`harvest`).
extension Coordinator {
    mutating func createCommunity(name: String, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        if communities.count >= limits.maxCommunities {
            throw DomainError("too_many_communities", "the server holds its maximum of \(limits.maxCommunities) communities")
        }
        let name = try Self.text(name, "name", limit: limits.maxTitleLength, required: true)
        let id = newCommunityID()
        let key = randomSecret(from: &entropy)
        var effects = commitCommunity(.created(name: name, facilitatorKeyHash: hasher.digest(key)), to: id, at: at)
        effects.append(.reply(.ack(["community": .string(id), "name": .string(name), "facilitatorKey": .string(key)]), ref: ref, to: c))
        return effects
    }

    mutating func importRoster(_ cred: Community.Credentials, _ roster: Roster, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let community = try facilitated(cred)
        if roster.size > limits.maxRosterBytes { throw DomainError("roster_too_large", "a roster may hold at most \(limits.maxRosterBytes) bytes") }
        let rows = try roster.rows()
        if rows.isEmpty { throw DomainError("roster_invalid", "the roster has no member") }
        // In id order, the first holder of an identity wins: the same answer on every run (not the dictionary's order).
        let byIdentity = community.identities()
        var seen: [String: Int] = [:]
        var changed: [CommunityMember] = []
        var keys: [Int: String] = [:]
        var nextID = community.nextMemberID
        for (i, row) in rows.enumerated() {
            let field = "members[\(i)]"
            let name = try Self.text(row.name, field + ".name", limit: limits.maxNameLength, required: true)
            let org = try Self.text(row.organization, field + ".organization", limit: limits.maxNameLength)
            let tags = try Self.tags(row.expertise, field + ".expertise", limits: limits)
            let group = try Self.text(row.group, field + ".group", limit: limits.maxNameLength)
            let identity = Self.identity(name, org)
            if let first = seen[identity] { throw DomainError("roster_invalid", "\(field) repeats members[\(first)] (same name and organization)") }
            seen[identity] = i
            // Someone already on the roster keeps their id, key, bio and highlights; the import updates their profile.
            if let id = byIdentity[identity], var m = community.members[id] {
                if m.name != name || m.organization != org || m.expertise != tags { m.profileEditedAt = at }
                (m.name, m.organization, m.expertise, m.group) = (name, org, tags, group)
                changed.append(m)
            } else {
                let key = randomSecret(from: &entropy)
                keys[nextID] = key
                changed.append(CommunityMember(id: nextID, name: name, organization: org, expertise: tags, keyHash: hasher.digest(key), group: group))
                nextID += 1
            }
        }
        if community.members.count + keys.count > limits.maxMembersPerCommunity {
            throw DomainError(
                "community_full",
                "the roster would hold \(community.members.count + keys.count) members; a community holds at most \(limits.maxMembersPerCommunity)")
        }
        var effects = commitCommunity(.membersSet(changed), to: community.id, at: at)
        let list: [Value] = changed.map { m in
            var o: Value.Object = ["member": Value(m.id), "name": .string(m.name), "organization": .string(m.organization)]
            if let key = keys[m.id] { o["communityKey"] = .string(key) } else { o["existing"] = true }
            return .object(o)
        }
        effects.append(
            .reply(
                .ack(["community": .string(community.id), "members": .array(list), "memberCount": Value(community.members.count + keys.count)]), ref: ref, to: c
            ))
        return effects
    }

    mutating func reissueCommunityKey(_ cred: Community.Credentials, member: Int?, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let community = try facilitated(cred)
        let key = randomSecret(from: &entropy)
        guard let member else {
            var effects = commitCommunity(.facilitatorKeyReissued(hash: hasher.digest(key)), to: community.id, at: at)
            effects.append(.reply(.ack(["community": .string(community.id), "facilitatorKey": .string(key)]), ref: ref, to: c))
            return effects
        }
        guard var m = community.members[member] else { throw DomainError("member_not_found", "no member of this community has id \(member)") }
        m.keyHash = hasher.digest(key)
        var effects = commitCommunity(.membersSet([m]), to: community.id, at: at)
        effects.append(.reply(.ack(["community": .string(community.id), "member": Value(member), "communityKey": .string(key)]), ref: ref, to: c))
        return effects
    }

    mutating func setBacklogStatus(
        _ cred: Community.Credentials, need: Int, _ status: BacklogStatus, owner: Int??, ref: Value?, from c: ConnectionID, at: Millis
    ) throws(DomainError) -> [Effect] {
        let community = try facilitated(cred)
        guard let n = community.backlog[need] else { throw DomainError("need_not_found", "the community's backlog has no need \(need)") }
        if case .merged = n.status { throw DomainError("need_not_found", "need \(need) was merged into another; change that one") }
        let owner = owner ?? n.owner
        if let g = owner, !community.groups.contains(where: { $0.id == g }) {
            throw DomainError("group_not_found", "the community has no standing group \(g)")
        }
        var effects = commitCommunity(.needStatusSet(need: need, status, owner: owner), to: community.id, at: at)
        var ack: Value.Object = ["community": .string(community.id), "need": Value(need), "status": .string(status.name)]
        if let owner { ack["owner"] = Value(owner) }
        effects.append(.reply(.ack(ack), ref: ref, to: c))
        return effects
    }

    /// The community as its facilitator exports it: roster (no keys), sessions, backlog with ranking history.
    mutating func exportCommunity(_ cred: Community.Credentials, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let community = try facilitated(cred)
        let members = community.members.keys.sorted().map { community.members[$0]! }
        let body: Value.Object = [
            "community": .string(community.id), "name": .string(community.name), "createdAt": .int(community.createdAt),
            "members": .array(members.map(\.rosterValue)),
            "sessions": .array(community.sessions.map { ["room": .string($0.room), "openedAt": .int($0.openedAt)] }),
            "backlog": .array(community.backlog.keys.sorted().map { community.backlog[$0]!.exportValue }),
            "pairsMet": Value(community.met.count), "csv": .string(Roster.csv(members)),
        ]
        return [.reply(.ack(body), ref: ref, to: c)]
    }

    // MARK: Sessions

    /// Checks `room.create`'s community and its facilitator key before anything is created.
    func communityForNewRoom(_ cred: Community.Credentials) throws(DomainError) -> String { try facilitated(cred).id }

    /// A new room of the community: earlier live sessions hand over what they know, then the room starts with
    /// the open backlog as its needs (best-ranked first) so a poll over needs can be built from it at once.
    mutating func openSession(_ code: String, of id: String, at: Millis) -> [Effect] {
        var effects: [Effect] = []
        for s in communities[id]?.sessions ?? [] where rooms[s.room]?.closedAt == nil && rooms[s.room] != nil {
            effects += harvest(s.room, at: at)
        }
        var map: [Int: Int] = [:]
        // At most what one poll over needs can rank: a longer backlog would leave the session unable to poll its
        // needs or take new ones, and every joiner's room.state carries them all (BENCHMARKS.md, community joins).
        for n in (communities[id]?.openBacklog ?? []).prefix(min(limits.maxNeedsPerRoom, limits.maxOptionsPerPoll)) {
            let roomNeed = rooms[code]!.nextNeedID
            effects += commit(.needAdded(Need(id: roomNeed, text: n.text, tags: n.tags, submitter: nil, organization: "", createdAt: at)), in: code, at: at)
            map[roomNeed] = n.id
        }
        if !map.isEmpty { markRankingDirty(code) }
        // Standing groups become the session's groups, open for self-selection; members who join with their key
        // are placed in their own (`join`).
        if let standing = communities[id]?.groups, !standing.isEmpty {
            var roomNeed: [Int: Int] = [:]
            for (r, b) in map { roomNeed[b] = r }
            let groups = standing.prefix(limits.maxGroupsPerRoom).enumerated().map { i, sg in
                var g = Group(id: i + 1, name: sg.name, description: sg.description, need: sg.focus.lazy.compactMap { roomNeed[$0] }.first)
                g.standing = sg.id
                return g
            }
            effects += commit(.groups(.created(.selfSelect, groups)), in: code, at: at)
        }
        effects += commitCommunity(.sessionOpened(room: code, needs: map), to: id, at: at)
        return effects
    }

    /// Carries a community room's needs (with their current ranking), profile edits and new interview pairs into
    /// its community. Idempotent: a need keeps its backlog id through the session's need map.
    mutating func harvest(_ code: String, at: Millis) -> [Effect] {
        guard let room = rooms[code], let id = room.settings.community, let community = communities[id], let session = community.session(code) else {
            return []
        }
        var h = Harvest(room: code)
        var map = session.needs
        var next = community.nextNeedID
        var ranked: [Int: RankedNeed] = [:]
        for r in room.facilitatorRanking where r.polls > 0 { ranked[r.need] = r }
        for nid in room.needs.keys.sorted() {
            guard let n = room.needs[nid], n.isActive else { continue }
            let bid = map[nid] ?? next
            if map[nid] == nil {
                map[nid] = bid
                next += 1
            }
            h.needs.append(.init(roomNeed: nid, need: bid, text: n.text, tags: n.tags, mergedInto: nil, rank: ranked[nid]?.rank, score: ranked[nid]?.score))
        }
        // A backlog need merged into another in this session is merged in the backlog too.
        for nid in room.needs.keys.sorted() {
            guard let n = room.needs[nid], case .merged(let into) = n.status, let bid = map[nid], let target = map[into], bid != target else { continue }
            h.needs.append(.init(roomNeed: nid, need: bid, text: n.text, tags: n.tags, mergedInto: target, rank: nil, score: nil))
        }
        var local: [MemberID: Int] = [:]
        var attendance = 0
        // Identities other members hold: a name and organization taken in the room are not carried (see `identityTaken`).
        var holders: [String: Int]?
        for m in room.members.values {
            if m.role == .member { attendance += 1 }
            guard let cm = m.communityMember, let was = community.members[cm] else { continue }
            local[m.id] = cm
            // Only an edit made in this session, and newer than the community's copy: a profile changed at community
            // level since the member joined must not be overwritten by the room's stale one.
            guard !m.departed, let editedAt = room.profileEditedAt[m.id], editedAt > was.profileEditedAt else { continue }
            if was.name != m.name || was.organization != m.organization || was.expertise != m.expertise || was.bio != m.bio {
                var (name, org) = (m.name, m.organization)
                if holders == nil { holders = community.identities() }
                let identity = Self.identity(name, org)
                if let other = holders![identity], other != cm {
                    (name, org) = (was.name, was.organization)
                } else {
                    holders![identity] = cm
                }
                h.profiles.append(.init(id: cm, name: name, organization: org, expertise: m.expertise, bio: m.bio, editedAt: editedAt))
            }
        }
        h.profiles.sort { $0.id < $1.id }
        h.attendance = attendance
        h.highlights = harvestedHighlights(room, local: local, community: community)
        h.standing = harvestedStanding(room, community: community)
        for p in room.interviews.history {
            guard let x = local[p.a], let y = local[p.b] else { continue }
            let key = PairKey(x, y)
            if !community.met.contains(key) { h.pairs.append(key) }
        }
        h.pairs.sort { ($0.a, $0.b) < ($1.a, $1.b) }
        return commitCommunity(.harvested(h), to: id, at: at)
    }

    /// A member who joins with their key goes to the room group of their standing group, when the session has it
    /// and it has a seat (before the joiner is bound: their `room.state` shows it).
    mutating func standingPlacement(_ m: Member, in code: String, at: Millis) -> [Effect] {
        // Looked up apart from the commit, so no copy of the room is alive while it changes (copy-on-write).
        guard let g = standingRoomGroup(of: m, in: code) else { return [] }
        return commit(.groups(.membership([m.id: g])), in: code, at: at)
    }

    private func standingRoomGroup(of m: Member, in code: String) -> Int? {
        guard let cm = m.communityMember, let room = rooms[code], let sg = communities.community(of: room)?.standingGroup(of: cm),
            let g = room.grouping.groups.first(where: { $0.standing == sg.id }), !g.isFull
        else { return nil }
        return g.id
    }

    /// Who may not be paired again in a room: its own history, plus earlier sessions' pairs of a community room.
    func pairingHistory(_ room: Room) -> Set<PairKey> {
        guard let c = communities.community(of: room) else { return room.interviews.history }
        return room.interviews.history.union(c.history(in: room))
    }

    /// `groups.assign` with strategy `roster`: each member who joined with their community key goes to the group
    /// named like their roster group (case ignored), while it has seats; everyone else stays where they are.
    func rosterGroups(_ room: Room) throws(DomainError) -> [MemberID: Int?] {
        guard let community = communities.community(of: room) else { throw DomainError.notCommunityRoom }
        var byName: [String: Int] = [:]
        for (i, g) in room.grouping.groups.enumerated() where byName[g.name.lowercased()] == nil { byName[g.name.lowercased()] = i }
        var counts = room.grouping.groups.map(\.members.count)
        var moves: [MemberID: Int?] = [:]
        for m in room.currentMembers where m.role == .member {
            guard let cm = m.communityMember, let wanted = community.members[cm]?.group, let i = byName[wanted.lowercased()] else { continue }
            let g = room.grouping.groups[i]
            if g.members.contains(m.id) { continue }
            if let cap = g.capacity, counts[i] >= cap { continue }
            if let from = room.grouping.groups.firstIndex(where: { $0.members.contains(m.id) }) { counts[from] -= 1 }
            counts[i] += 1
            moves[m.id] = g.id
        }
        return moves
    }

    /// Highlights accepted in the session, added to each member's community list (deduplicated, oldest dropped).
    private func harvestedHighlights(_ room: Room, local: [MemberID: Int], community: Community) -> [Int: [String]] {
        var accepted: [Int: [String]] = [:]
        for id in room.interviews.notes.keys.sorted() {
            guard let n = room.interviews.notes[id], n.accepted, let cm = local[n.about] else { continue }
            accepted[cm, default: []].append(n.text)
        }
        var out: [Int: [String]] = [:]
        for (cm, texts) in accepted {
            guard let was = community.members[cm] else { continue }
            var list = was.highlights
            for t in texts where !list.contains(t) { list.append(t) }
            if list.count > limits.maxHighlightsPerMember { list.removeFirst(list.count - limits.maxHighlightsPerMember) }
            if list != was.highlights { out[cm] = list }
        }
        return out
    }

    /// Self-selection in the session's standing groups, for the members who attended (absent ones keep theirs).
    /// A session whose groups were all replaced (`groups.create`) changes nothing: those groups are not carried.
    private func harvestedStanding(_ room: Room, community: Community) -> [Int: Int?] {
        guard room.grouping.groups.contains(where: { $0.standing != nil }) else { return [:] }
        let live = Set(community.groups.map(\.id))
        let offered = Set(room.grouping.groups.compactMap(\.standing))
        var current: [Int: Int] = [:]
        for g in community.groups { for m in g.members { current[m] = g.id } }
        var out: [Int: Int?] = [:]
        for m in room.members.values where !m.departed {
            guard let cm = m.communityMember else { continue }
            let target = room.grouping.group(of: m.id)?.standing.flatMap { live.contains($0) ? $0 : nil }
            // A group made after the session opened was never offered in it: staying out of it is no choice.
            if target == nil, let had = current[cm], !offered.contains(had) { continue }
            if current[cm] != target { out[cm] = .some(target) }
        }
        return out
    }

    // MARK: Helpers

    mutating func commitCommunity(_ op: CommunityOp, to id: String, at: Millis) -> [Effect] {
        communities.apply(op, to: id, at: at)
        return [.journal(JournalEntry(room: id, seq: communities[id]?.seq ?? 0, at: at, journalOp: .community(op)))]
    }

    /// The community and, for a member's key, that member: what an (F|M) request may see depends on which.
    func accessed(_ cred: Community.Credentials) throws(DomainError) -> (community: Community, member: CommunityMember?) {
        guard cred.asMember else { return (try facilitated(cred), nil) }
        guard let community = communities[Crockford.normalize(cred.id)] else { throw .communityNotFound }
        guard let m = community.member(withKeyHash: hasher.digest(cred.key)) else {
            throw DomainError("bad_credentials", "this community key is not valid for this community")
        }
        return (community, m)
    }

    /// The community, if the key is its facilitator key.
    func facilitated(_ cred: Community.Credentials) throws(DomainError) -> Community {
        guard let community = communities[Crockford.normalize(cred.id)] else { throw .communityNotFound }
        if cred.asMember { throw DomainError("bad_credentials", "this request needs the community's facilitatorKey") }
        guard constantTimeEquals(hasher.digest(cred.key), community.facilitatorKeyHash) else {
            throw DomainError("bad_credentials", "this facilitator key is not valid for this community")
        }
        return community
    }

    /// Roster identity: name and organization, case and surrounding spaces ignored.
    static func identity(_ name: String, _ org: String) -> String { name.lowercased() + "\u{1F}" + org.lowercased() }

    /// Whether another member already has this name and organization. A re-import finds members by that identity,
    /// so a member who took someone else's would receive that person's roster row (their group, their expertise).
    func identityTaken(_ name: String, _ org: String, in community: Community, by member: Int) -> Bool {
        let key = Self.identity(name, org)
        return community.members.values.contains { $0.id != member && Self.identity($0.name, $0.organization) == key }
    }
}

extension Community {
    /// Identity → the member holding it (the lowest id when several do).
    func identities() -> [String: Int] {
        var out: [String: Int] = [:]
        for id in members.keys.sorted() {
            let m = members[id]!
            let key = Coordinator.identity(m.name, m.organization)
            if out[key] == nil { out[key] = id }
        }
        return out
    }
}

extension CommunityMember {
    /// A roster row as facilitators see it (export, view): never the key's digest.
    var rosterValue: Value {
        [
            "member": Value(id), "name": .string(name), "organization": .string(organization), "expertise": Value(expertise),
            "group": .string(group), "bio": .string(bio), "listed": .bool(listed),
        ]
    }
}

extension BacklogNeed {
    var exportValue: Value {
        var o: Value.Object = [
            "need": Value(id), "text": .string(text), "tags": Value(tags), "status": .string(status.name), "firstRoom": .string(firstRoom),
            "rankings": .array(rankings.map { ["room": .string($0.room), "rank": Value($0.rank), "score": .double($0.score)] }),
        ]
        if case .merged(let into) = status { o["mergedInto"] = Value(into) }
        if let owner { o["owner"] = Value(owner) }
        return .object(o)
    }
}
