/// Rooms and membership: create, join (new or resumed), leave, update, remove, key rotation.
extension Coordinator {
    mutating func createRoom(_ r: Command.CreateRoom, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        if bindings[c] != nil { throw DomainError("already_joined", "this connection is already in a room; leave first") }
        if rooms.count >= limits.maxRooms { throw DomainError("too_many_rooms", "the server holds its maximum of \(limits.maxRooms) rooms") }
        let title = try Self.text(r.title, "title", limit: limits.maxTitleLength, required: true)
        let name = try Self.text(r.name, "name", limit: limits.maxNameLength, required: true)
        let org = try Self.text(r.organization, "organization", limit: limits.maxNameLength)
        let community = try r.community.map { cred throws(DomainError) in try communityForNewRoom(cred) }

        let code = newRoomCode()
        let key = randomSecret(from: &entropy)
        let token = randomSecret(from: &entropy)
        rooms[code] = Room(code: code)
        runtime[code] = RoomRuntime(bufferLimit: limits.resumeBufferEvents)

        var settings = r.settings
        settings.presenceEventsUpTo = limits.presenceEventsUpTo
        settings.community = community
        var effects = commit(.created(title: title, facilitatorKeyHash: hasher.digest(key), settings: settings), in: code, at: at)
        if let p = r.passcode {
            let pass = try Self.text(p, "passcode", limit: limits.maxNameLength, required: true)
            effects += commit(.passcodeSet(hash: hasher.digest(pass)), in: code, at: at)
        }
        let member = Member(
            id: 1, name: name, organization: org, role: .facilitator, tokenHash: hasher.digest(token), joinedAt: at)
        effects += commit(.joined(member), in: code, at: at)
        if let community { effects += openSession(code, of: community, at: at) }
        runtime[code]?.joinedSeq[member.id] = rooms[code]!.seq
        bind(c, to: member.id, in: code)
        var ack: Value.Object = [
            "room": .string(code), "member": Value(member.id), "role": "facilitator", "facilitatorKey": .string(key), "token": .string(token),
        ]
        if let community {
            ack["community"] = .string(community)
            ack["backlogNeeds"] = Value(rooms[code]!.needs.count)
        }
        effects.append(.reply(.ack(ack), ref: ref, to: c))
        effects.append(.send(sentState(code, for: member.id), ref: nil, to: [c]))
        return effects
    }

    mutating func join(_ j: Command.Join, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        if bindings[c] != nil { throw DomainError("already_joined", "this connection is already in a room; leave first") }
        let code = Crockford.normalize(j.code)
        guard rooms[code] != nil else { return try reopenRequest(j, code: code, ref: ref, from: c) }

        if let token = j.token {
            guard let m = rooms[code]!.member(withTokenHash: hasher.digest(token)) else {
                throw DomainError("bad_credentials", "this resume token is not valid in this room")
            }
            return resume(m, in: code, since: j.since, ref: ref, from: c, at: at)
        }

        // Read what we need without keeping a copy of the room alive across the commit (copy-on-write).
        var role = j.role
        var communityMember: CommunityMember?
        if let key = j.facilitatorKey {
            let digest = hasher.digest(key)
            let roomKey = constantTimeEquals(digest, rooms[code]!.facilitatorKeyHash)
            // A community's facilitator key opens every session of that community: the facilitator on another
            // device, or a co-facilitator, gets in from the community page without the room's own key.
            let community = rooms[code]!.settings.community.flatMap { communities[$0] }
            let communityKey = community.map { constantTimeEquals(digest, $0.facilitatorKeyHash) } ?? false
            guard roomKey || communityKey else {
                throw DomainError("bad_credentials", "this facilitator key is not valid in this room")
            }
            role = .facilitator
        } else if role == .facilitator {
            throw DomainError("bad_credentials", "joining as facilitator needs the facilitator key")
        } else if rooms[code]!.closedAt != nil {
            // A closed session takes no newcomers; its members come back with their token.
            throw DomainError.roomClosed
        } else if let ck = j.communityKey {
            // The personal key stands in for the passcode, and always names the same person in this community.
            guard let id = rooms[code]!.settings.community else { throw DomainError.notCommunityRoom }
            guard let cm = communities[id]?.member(withKeyHash: hasher.digest(ck)) else {
                throw DomainError("bad_credentials", "this community key is not valid in this room's community")
            }
            if let known = rooms[code]!.member(communityMember: cm.id) { return resume(known, in: code, since: j.since, ref: ref, from: c, at: at) }
            communityMember = cm
        } else if rooms[code]!.settings.community != nil {
            throw DomainError.communityKeyRequired
        } else if let need = rooms[code]!.passcodeHash {
            // New members need the passcode too; a resume token or the facilitator key stands in for it.
            guard let given = j.passcode, constantTimeEquals(hasher.digest(given), need) else {
                throw DomainError("bad_credentials", "this room needs its passcode (passcode)")
            }
        }
        if rooms[code]!.currentMemberCount >= limits.maxMembersPerRoom {
            throw DomainError("room_full", "this room already has its maximum of \(limits.maxMembersPerRoom) members")
        }
        let token = randomSecret(from: &entropy)
        var member: Member
        if let cm = communityMember {
            // The community's profile comes along; edits made in the session go back to it (`harvest`).
            member = Member(
                id: rooms[code]!.nextMemberID, name: cm.name, organization: cm.organization, role: role, expertise: cm.expertise, bio: cm.bio,
                tokenHash: hasher.digest(token), joinedAt: at)
            member.highlights = cm.highlights
            member.communityMember = cm.id
        } else {
            let name = try Self.text(j.name ?? "", "name", limit: limits.maxNameLength, required: true)
            let org = try Self.text(j.organization ?? "", "organization", limit: limits.maxNameLength)
            member = Member(
                id: rooms[code]!.nextMemberID, name: name, organization: org, role: role, tokenHash: hasher.digest(token), joinedAt: at)
        }

        var effects = commit(.joined(member), in: code, at: at)
        effects += standingPlacement(member, in: code, at: at)
        runtime[code]?.joinedSeq[member.id] = rooms[code]!.seq
        bind(c, to: member.id, in: code)
        effects += interviewArrival(member.id, in: code, at: at)
        var ack: Value.Object = ["room": .string(code), "member": Value(member.id), "role": .string(role.rawValue), "token": .string(token)]
        if let cm = member.communityMember { ack["communityMember"] = Value(cm) }
        effects.append(.reply(.ack(ack), ref: ref, to: c))
        effects.append(.send(sentState(code, for: member.id), ref: nil, to: [c]))
        return effects
    }

    /// A known member comes back, possibly in a second tab: missed events if the buffer has them, else the state.
    private mutating func resume(_ m: Member, in code: String, since: UInt64?, ref: Value?, from c: ConnectionID, at: Millis)
        -> [Effect]
    {
        let seqBefore = rooms[code]!.seq
        let missed = since.flatMap { runtime[code]?.replay(for: m.id, after: $0, current: seqBefore) }
        let first = bind(c, to: m.id, in: code)
        var effects: [Effect] = []
        if first { effects += commit(.presence(m.id, online: true), in: code, at: at, excluding: c) }
        let body: Value.Object = [
            "room": .string(code), "member": Value(m.id), "role": .string(m.role.rawValue),
            "resumed": missed != nil ? "events" : "state",
        ]
        effects.append(.reply(.ack(body), ref: ref, to: c))
        if let missed {
            // Missed events first, then our own presence change, so the stream stays gap-free for this client.
            let current = rooms[code]?.seq ?? seqBefore
            let all = missed + (first ? (runtime[code]?.events(after: seqBefore, current: current) ?? []) : [])
            for e in all { effects.append(.broadcast(e, to: [c])) }
            // Results and the ranking are notices, not buffered events: the next flush brings them up to date.
            runtime[code]?.catchUp.insert(c)
            dirtyRooms.insert(code)
        } else {
            effects.append(.send(sentState(code, for: m.id), ref: nil, to: [c]))
        }
        if first { effects += interviewArrival(m.id, in: code, at: at) }
        return effects
    }

    mutating func leave(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, m) = try caller(c)
        var effects = commit(.departed(m.id, removed: false), in: room.code, at: at)
        // Every tab of the member leaves with it: their token no longer works.
        for other in runtime[room.code]?.connections[m.id] ?? [] { bindings[other] = nil }
        runtime[room.code]?.connections[m.id] = nil
        runtime[room.code]?.offlineSince[m.id] = at // an interview partner who left is reported after the grace period
        runtime[room.code]?.joinedSeq[m.id] = nil
        effects.append(.reply(.ack(["room": .string(room.code)]), ref: ref, to: c))
        return effects
    }

    mutating func updateMember(_ u: Command.MemberUpdate, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (code, m) = try { () throws(DomainError) -> (String, Member) in
            let w = try caller(c); return (w.room.code, w.member)
        }()
        let name = try u.name.map { s throws(DomainError) in try Self.text(s, "name", limit: limits.maxNameLength, required: true) } ?? m.name
        let org = try u.organization.map { s throws(DomainError) in try Self.text(s, "organization", limit: limits.maxNameLength) } ?? m.organization
        let expertise = try u.expertise.map { l throws(DomainError) in try Self.tags(l, "expertise", limits: limits) } ?? m.expertise
        let bio = try u.bio.map { s throws(DomainError) in try Self.text(s, "bio", limit: limits.maxTextLength) } ?? m.bio
        var effects = commit(.updated(m.id, name: name, organization: org, expertise: expertise, bio: bio), in: code, at: at)
        if expertise != m.expertise { markRankingDirty(code) }
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    mutating func removeMember(_ id: MemberID, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        guard let target = room.members[id], !target.departed else {
            throw DomainError("member_not_found", "no current member has id \(id)")
        }
        var effects = commit(.departed(id, removed: true), in: room.code, at: at)
        let theirs = runtime[room.code]?.connections[id] ?? []
        runtime[room.code]?.connections[id] = nil
        runtime[room.code]?.offlineSince[id] = at
        runtime[room.code]?.joinedSeq[id] = nil
        // The ack first: a facilitator removing themselves must still get their reply before the close.
        effects.append(.reply(.ok, ref: ref, to: c))
        for other in theirs {
            bindings[other] = nil
            effects.append(.close(other, code: 4001, reason: "removed from the room"))
        }
        return effects
    }

    mutating func setPasscode(_ p: String?, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let code = try facilitator(c).room.code
        var hash: String?
        if let p { hash = hasher.digest(try Self.text(p, "passcode", limit: limits.maxNameLength, required: true)) }
        var effects = commit(.passcodeSet(hash: hash), in: code, at: at)
        effects.append(.reply(.ack(["passcodeRequired": .bool(hash != nil)]), ref: ref, to: c))
        return effects
    }

    mutating func rotateKey(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        let key = randomSecret(from: &entropy)
        var effects = commit(.keyRotated(facilitatorKeyHash: hasher.digest(key)), in: room.code, at: at)
        effects.append(.reply(.ack(["facilitatorKey": .string(key)]), ref: ref, to: c))
        return effects
    }

    @discardableResult
    mutating func bind(_ c: ConnectionID, to m: MemberID, in code: String) -> Bool {
        bindings[c] = Binding(room: code, member: m)
        return runtime[code, default: RoomRuntime(bufferLimit: limits.resumeBufferEvents)].attach(c, to: m)
    }

    /// The full state of a room as one member may see it.
    /// A room caches its listed profiles (`ProfileCache`) from this many times `stateMembersLimit` members.
    static let cachedProfilesFactor = 4

    /// What `viewer` sees of the room now, built afresh (for tests and tools; the join paths use `sentState`).
    public func stateNotice(_ code: String, for viewer: MemberID) -> Notice {
        stateNotice(code, for: viewer, listing: nil)
    }

    /// `stateNotice` for sending: in a large room the listed profiles come from the room's cache, so each
    /// joiner's state copies them instead of building and encoding them again.
    mutating func sentState(_ code: String, for viewer: MemberID) -> Notice {
        guard let room = rooms[code], room.currentMemberCount >= Self.cachedProfilesFactor * limits.stateMembersLimit,
            var cache = runtime[code]?.listedProfiles
        else { return stateNotice(code, for: viewer, listing: nil) }
        runtime[code]!.listedProfiles = ProfileCache() // one owner while it is updated: no copy on write
        let encoder = fragmentEncoder
        let notice = stateNotice(code, for: viewer) { cache.onlineProfiles($0, encoder: encoder) }
        runtime[code]!.listedProfiles = cache
        return notice
    }

    private func stateNotice(_ code: String, for viewer: MemberID, listing: (([Member]) -> [Value])?) -> Notice {
        guard let room = rooms[code], let me = room.members[viewer] else {
            return Notice(type: "room.state", body: [:])
        }
        let online = runtime[code]?.connections ?? [:]
        var body: Value.Object = [
            "room": .string(code), "protocol": Value(ProtocolVersion.current), "seq": .int(Int64(room.seq)), "title": .string(room.title),
            "createdAt": .int(room.createdAt), "settings": room.settings.value, "passcodeRequired": .bool(room.passcodeHash != nil),
            "you": me.profile(online: true),
        ]
        if let closedAt = room.closedAt { body["closedAt"] = .int(closedAt) }
        if me.role != .facilitator && room.currentMemberCount > limits.stateMembersLimit {
            // Large rooms: facilitators, yourself, then online members (in joining order); counts tell the rest.
            // Built from the indexes and the online list, so a join into a room of thousands stays cheap.
            let first = room.currentMembers(among: room.facilitatorIDs.union([viewer]))
            // Walking ids upward stops once the list is full: O(stateMembersLimit) when most members are online.
            var rest: [Member] = []
            let want = max(0, limits.stateMembersLimit - first.count)
            var id = 1
            while rest.count < want && id < room.nextMemberID {
                if online[id] != nil, id != viewer, !room.facilitatorIDs.contains(id), let m = room.members[id], !m.departed { rest.append(m) }
                id += 1
            }
            // Cached only where joins are many per listed profile: a room just over the limit would keep a
            // cached profile for nearly every member (+1 KiB per idle member in rooms of 101).
            let listed = listing?(rest) ?? rest.map { $0.profile(online: true) }
            body["members"] = .array(first.map { $0.profile(online: online[$0.id] != nil) } + listed)
            body["membersTruncated"] = true
        } else {
            body["members"] = .array(room.currentMembers.map { $0.profile(online: online[$0.id] != nil) })
        }
        body["memberCount"] = Value(room.currentMemberCount)
        body["onlineCount"] = Value(online.count)
        for (k, v) in needsAndPollsState(room, for: me) { body[k] = v }
        for (k, v) in sessionState(room, for: me) { body[k] = v }
        for (k, v) in showState(room, for: me) { body[k] = v }
        return Notice(type: "room.state", body: body)
    }

    // MARK: Recovery

    /// Re-applies a journaled op during recovery. Produces no effects: nobody is connected yet.
    public mutating func replay(_ entry: JournalEntry) throws(OpDecodingError) {
        let op: RoomOp
        switch try entry.journalOp() {
        case .room(let roomOp): op = roomOp
        case .archived(let archived):
            replayArchived(entry.room, archived)
            return
        case .reopened(let room):
            replayReopened(entry.room, room)
            return
        case .community(let op):
            communities.apply(op, to: entry.room, at: entry.at)
            return
        }
        if case .created = op, rooms[entry.room] == nil {
            rooms[entry.room] = Room(code: entry.room)
        }
        guard rooms.inPlace(entry.room, { $0.apply(op, at: entry.at) }) != nil else {
            throw OpDecodingError("op for unknown room \(entry.room)")
        }
    }

    /// Called once recovery is done: nobody is online until they reconnect.
    public mutating func finishRecovery() {
        for code in rooms.keys { rooms[code]?.resetPresence() }
    }

    /// Installs a room restored from a snapshot.
    public mutating func restore(_ room: Room) {
        rooms[room.code] = room
    }
}
