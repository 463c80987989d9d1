/// What members and facilitators do with a community between sessions: profiles, the directory, standing groups
/// and the home page (`community.view`). (F|M) requests take either key; what they show depends on which.
extension Coordinator {
    /// `community.profile` (M): the member's own profile, edited once for every later session.
    mutating func communityProfile(_ cred: Community.Credentials, _ u: Command.CommunityProfileUpdate, ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let (community, member) = try accessed(cred)
        guard let old = member else { throw DomainError("bad_credentials", "community.profile takes the member's own communityKey") }
        var m = old
        let p = u.profile
        m.name = try p.name.map { s throws(DomainError) in try Self.text(s, "name", limit: limits.maxNameLength, required: true) } ?? m.name
        m.organization = try p.organization.map { s throws(DomainError) in try Self.text(s, "organization", limit: limits.maxNameLength) } ?? m.organization
        m.expertise = try p.expertise.map { l throws(DomainError) in try Self.tags(l, "expertise", limits: limits) } ?? m.expertise
        m.bio = try p.bio.map { s throws(DomainError) in try Self.text(s, "bio", limit: limits.maxTextLength) } ?? m.bio
        m.listed = u.listed ?? m.listed
        if Self.identity(m.name, m.organization) != Self.identity(old.name, old.organization),
            identityTaken(m.name, m.organization, in: community, by: m.id)
        {
            throw .invalidField("name", "another member of this community has this name and organization")
        }
        if m.name != old.name || m.organization != old.organization || m.expertise != old.expertise || m.bio != old.bio { m.profileEditedAt = at }
        var effects = m == old ? [] : commitCommunity(.membersSet([m]), to: community.id, at: at)
        let now = communities[community.id]!
        effects.append(.reply(.ack(["community": .string(now.id), "me": now.meValue(now.members[m.id]!)]), ref: ref, to: c))
        return effects
    }

    /// `community.directory` (F|M): listed members only, for facilitators too (the export is their full view).
    func communityDirectory(_ cred: Community.Credentials, _ q: Command.CommunityDirectoryQuery, ref: Value?, from c: ConnectionID)
        throws(DomainError) -> [Effect]
    {
        let community = try accessed(cred).community
        // A tag longer than any stored one can match nothing, and each one is searched in every tag and highlight.
        let tag = try q.tag.map { t throws(DomainError) in try Self.text(t, "tag", limit: limits.maxTagLength) }
        var need: BacklogNeed?
        if let id = q.need {
            guard let n = community.backlog[id] else { throw DomainError("need_not_found", "the community's backlog has no need \(id)") }
            need = n
        }
        let all = community.directory(tag: tag, need: need)
        let page = all.dropFirst(q.offset).prefix(q.limit)
        let entries: [Value] = page.map { e in
            let m = e.member
            return [
                "member": Value(m.id), "name": .string(m.name), "organization": .string(m.organization), "expertise": Value(m.expertise),
                "bio": .string(m.bio), "highlights": Value(m.highlights), "matches": Value(e.matches),
            ]
        }
        return [.reply(.ack(["community": .string(community.id), "total": Value(all.count), "entries": .array(entries)]), ref: ref, to: c)]
    }

    /// `community.groups` (F): the whole list of standing groups; ids given are kept, missing groups are deleted.
    mutating func setStandingGroups(_ cred: Community.Credentials, _ specs: [Command.StandingGroupSpec], ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let community = try facilitated(cred)
        if specs.count > limits.maxGroupsPerRoom { throw .tooLarge("groups", limit: limits.maxGroupsPerRoom) }
        var next = community.nextGroupID
        var kept = Set<Int>()
        var placed: [Int: Int] = [:]
        var list: [StandingGroup] = []
        for (i, s) in specs.enumerated() {
            let field = "groups[\(i)]"
            let id: Int
            if let g = s.group {
                guard community.groups.contains(where: { $0.id == g }) else { throw DomainError("group_not_found", "the community has no standing group \(g)") }
                guard kept.insert(g).inserted else { throw .invalidField(field + ".group", "repeats group \(g)") }
                id = g
            } else {
                id = next
                next += 1
            }
            let name = try Self.text(s.name, field + ".name", limit: limits.maxTitleLength, required: true)
            let description = try Self.text(s.description, field + ".description", limit: limits.maxTextLength)
            // Repeats dropped through a set: a linear `contains` made 1,000 focus ids in 200 groups 10^8 comparisons.
            var focus: [Int] = []
            var inFocus = Set<Int>()
            for n in s.focus where inFocus.insert(n).inserted {
                guard community.backlog[n] != nil else { throw DomainError("need_not_found", "\(field).focus: the backlog has no need \(n)") }
                focus.append(n)
            }
            var members: [Int] = []
            for m in s.members {
                guard community.members[m] != nil else { throw DomainError("member_not_found", "\(field).members: no member of this community has id \(m)") }
                if let other = placed[m] {
                    if other == i { continue }
                    throw .invalidField(field + ".members", "member \(m) is also in groups[\(other)]; a member is in at most one standing group")
                }
                placed[m] = i
                members.append(m)
            }
            list.append(StandingGroup(id: id, name: name, description: description, focus: focus, members: members))
        }
        var effects = commitCommunity(.groupsSet(list), to: community.id, at: at)
        effects.append(.reply(.ack(["community": .string(community.id), "groups": .array(list.map { Value($0.id) })]), ref: ref, to: c))
        return effects
    }

    /// `community.view` (F|M): the community home page in one reply. Members get their own profile (`me`);
    /// facilitators also get the roster (no keys).
    func communityView(_ cred: Community.Credentials, ref: Value?, from c: ConnectionID) throws(DomainError) -> [Effect] {
        let (community, me) = try accessed(cred)
        var body: Value.Object = [
            "community": .string(community.id), "name": .string(community.name), "role": me == nil ? "facilitator" : "member",
        ]
        if let me { body["me"] = community.meValue(me) }
        body["memberCount"] = Value(community.members.count)
        body["listedCount"] = Value(community.members.values.lazy.filter(\.listed).count)
        var sessions: [Value] = []
        var current: String?
        for s in community.sessions {
            var o: Value.Object = ["room": .string(s.room), "openedAt": .int(s.openedAt)]
            if let room = rooms[s.room] {
                o["title"] = .string(room.title)
                if let t = room.closedAt { o["closedAt"] = .int(t) }
                o["open"] = .bool(room.closedAt == nil)
                // A closed session's attendance is final and was counted at its close (no walk over its members).
                let attendance = room.closedAt != nil ? s.attendance : nil
                o["members"] = Value(attendance ?? room.members.values.lazy.filter { $0.role == .member }.count)
                if room.closedAt == nil { current = s.room }
            } else {
                // Archived: what the index and the last harvest remember (a member cannot join it with their key).
                let a = archived[s.room]
                o["title"] = .string(a?.title ?? "")
                if let t = a?.closedAt { o["closedAt"] = .int(t) }
                o["open"] = false
                o["members"] = Value(s.attendance ?? 0)
            }
            sessions.append(.object(o))
        }
        body["sessions"] = .array(sessions)
        if let current { body["current"] = .string(current) }
        let worked = community.openBacklog
        let done = community.backlog.keys.sorted().compactMap { id in community.backlog[id].flatMap { $0.status == .addressed ? $0 : nil } }
        body["backlog"] = .array((worked + done).map(\.exportValue))
        body["groups"] = .array(
            community.groups.map { g in
                [
                    "group": Value(g.id), "name": .string(g.name), "description": .string(g.description), "focus": .array(g.focus.map { Value($0) }),
                    "members": .array(g.members.map { ["member": Value($0), "name": .string(community.members[$0]?.name ?? "")] }),
                ]
            })
        body["pairsMet"] = Value(community.met.count)
        if me == nil { body["members"] = .array(community.members.keys.sorted().map { community.members[$0]!.rosterValue }) }
        return [.reply(.ack(body), ref: ref, to: c)]
    }
}

extension Community {
    /// A member's own view of their community profile.
    func meValue(_ m: CommunityMember) -> Value {
        var o: Value.Object = [
            "member": Value(m.id), "name": .string(m.name), "organization": .string(m.organization), "expertise": Value(m.expertise),
            "bio": .string(m.bio), "highlights": Value(m.highlights), "listed": .bool(m.listed), "group": .string(m.group),
        ]
        if let g = standingGroup(of: m.id) { o["standingGroup"] = Value(g.id) }
        return .object(o)
    }
}
