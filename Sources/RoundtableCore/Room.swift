/// One room's durable state: a plain value, so a snapshot is a copy and replay is `apply` in a loop.
///
/// Owned by the coordinator (service thread). Runtime-only facts — which connections belong to whom,
/// the resume buffer — live in `RoomRuntime`.
public struct Room: Sendable {
    public let code: String
    public internal(set) var title: String = ""
    public internal(set) var createdAt: Millis = 0
    public internal(set) var settings = RoomSettings()
    public internal(set) var facilitatorKeyHash: String = ""
    /// SHA-256 of the room passcode new members must give, if the facilitator set one.
    public internal(set) var passcodeHash: String?
    /// Seq of the last event; the next event gets `seq + 1`.
    public internal(set) var seq: UInt64 = 0
    public internal(set) var members: [MemberID: Member] = [:]
    /// Members currently online, as journaled presence says. Reset to empty by recovery.
    public internal(set) var online: Set<MemberID> = []
    private var memberByToken: [String: MemberID] = [:]
    public internal(set) var nextMemberID: MemberID = 1
    public internal(set) var needs: [Int: Need] = [:]
    public internal(set) var nextNeedID = 1
    public internal(set) var polls: [Int: Poll] = [:]
    public internal(set) var nextPollID = 1
    public internal(set) var interviews = InterviewSession()
    public internal(set) var grouping = Grouping()
    /// The agenda, the running step, the wall's view and the standing announcement.
    public internal(set) var show = RunOfShow()
    /// When the facilitator ended the session (`room.close`): results are frozen from then on.
    public internal(set) var closedAt: Millis?
    /// Time of the last applied op (presence included): idle rooms are archived from this.
    public internal(set) var lastActivityAt: Millis = 0
    /// When each member who joined with a community key last edited their profile here (`member.update`): the
    /// harvest carries only such edits, and only when newer than the community's own copy.
    public internal(set) var profileEditedAt: [MemberID: Millis] = [:]
    /// Ops applied since this value was built (not persisted): tells whether a room changed between two
    /// looks, even through ops that make no event (quiet presence in large rooms leaves `seq` alone).
    public private(set) var appliedOps: UInt64 = 0

    public init(code: String) { self.code = code }

    /// Current facilitators and current members who declared expertise: derived indexes, so a join into a
    /// room of thousands does not scan every member for them.
    public private(set) var facilitatorIDs: Set<MemberID> = []
    public private(set) var expertIDs: Set<MemberID> = []
    /// Current observers: with `facilitatorIDs`, tells a connected member's role without copying the `Member` (six
    /// retains and releases), which the results rounds of a large room did twice per member.
    public private(set) var observerIDs: Set<MemberID> = []

    /// Whether a connected member counts in a poll's turnout (role member). Only for members with a connection:
    /// those never departed (leaving and removal detach every connection first).
    public func countsInTurnout(connected id: MemberID) -> Bool { !facilitatorIDs.contains(id) && !observerIDs.contains(id) }

    /// Members who have not left, in joining order. Ids are handed out in order from 1, so walking them
    /// is O(members) with no sort.
    public var currentMembers: [Member] {
        var out: [Member] = []
        out.reserveCapacity(currentMemberCount)
        for id in 1..<max(1, nextMemberID) { if let m = members[id], !m.departed { out.append(m) } }
        return out
    }

    /// Current members among `ids`, in joining order.
    public func currentMembers(among ids: Set<MemberID>) -> [Member] {
        ids.sorted().compactMap { members[$0].flatMap { $0.departed ? nil : $0 } }
    }

    private mutating func index(_ m: Member) {
        if m.role == .facilitator && !m.departed { facilitatorIDs.insert(m.id) } else { facilitatorIDs.remove(m.id) }
        if m.role == .observer && !m.departed { observerIDs.insert(m.id) } else { observerIDs.remove(m.id) }
        if !m.expertise.isEmpty && !m.departed { expertIDs.insert(m.id) } else { expertIDs.remove(m.id) }
        if let cm = m.communityMember {
            if !m.departed { byCommunityMember[cm] = m.id } else if byCommunityMember[cm] == m.id { byCommunityMember[cm] = nil }
        }
    }
    /// Current members by their community member id (community rooms only).
    private var byCommunityMember: [Int: MemberID] = [:]

    /// The current member who joined with this community identity.
    public func member(communityMember cm: Int) -> Member? { byCommunityMember[cm].flatMap { members[$0] } }
    public var currentMemberCount: Int { members.count - departedCount }
    private var departedCount = 0

    public func member(withTokenHash hash: String) -> Member? {
        memberByToken[hash].flatMap { members[$0] }.flatMap { $0.departed ? nil : $0 }
    }

    /// Applies an op and returns the events it produces, numbered from `seq + 1`.
    public mutating func apply(_ op: RoomOp, at: Millis) -> [RoomEvent] {
        lastActivityAt = max(lastActivityAt, at)
        appliedOps &+= 1
        switch op {
        case .created(let title, let hash, let settings):
            self.title = title
            self.createdAt = at
            self.facilitatorKeyHash = hash
            self.settings = settings
            return [event("room.created", at, ["title": .string(title), "settings": settings.value])]
        case .joined(let m):
            members[m.id] = m
            memberByToken[m.tokenHash] = m.id
            nextMemberID = max(nextMemberID, m.id + 1)
            index(m)
            online.insert(m.id)
            if quietPresence(for: m.id) { return [] }
            return [event("member.joined", at, ["member": m.profile(online: true)])]
        case .presence(let id, let isOnline):
            if isOnline { online.insert(id) } else { online.remove(id) }
            if quietPresence(for: id) { return [] }
            return [event("member.presence", at, ["member": Value(id), "online": .bool(isOnline)])]
        case .updated(let id, let name, let org, let expertise, let bio):
            guard var m = members[id] else { return [] }
            m.name = name
            m.organization = org
            m.expertise = expertise
            m.bio = bio
            members[id] = m
            index(m)
            if m.communityMember != nil { profileEditedAt[id] = at }
            return [event("member.updated", at, ["member": m.profile(online: online.contains(id))])]
        case .departed(let id, let removed):
            guard var m = members[id], !m.departed else { return [] }
            m.departed = true
            members[id] = m
            index(m)
            departedCount += 1
            memberByToken[m.tokenHash] = nil
            online.remove(id)
            // A member who is gone frees their group seat (events for the group follow from the member.left).
            for i in grouping.groups.indices { grouping.groups[i].members.removeAll { $0 == id } }
            return [event("member.left", at, ["member": Value(id), "reason": removed ? "removed" : "left"])]
        case .keyRotated(let hash):
            facilitatorKeyHash = hash
            return [event("room.keyRotated", at, [:])]
        case .passcodeSet(let hash):
            passcodeHash = hash
            return [event("room.passcodeChanged", at, ["passcodeRequired": .bool(hash != nil)])]
        case .needAdded, .needEdited, .needsMerged, .needRemoved:
            return applyNeedOp(op, at: at)
        case .pollCreated, .pollOpened, .pollClosed, .voteCast, .voteRetracted:
            return applyPollOp(op, at: at)
        case .closed:
            closedAt = at
            return [event("room.closed", at, ["closedAt": .int(at)])]
        case .interview(let op):
            return applyInterviewOp(op, at: at)
        case .groups(let op):
            if case .announced(let text) = op { show.announcement = StandingAnnouncement(text: text, at: at) }
            return applyGroupOp(op, at: at)
        case .show(let op):
            return applyShowOp(op, at: at)
        }
    }

    /// Whether a join or presence change of this member stays out of the event stream (large rooms).
    public func quietPresence(for id: MemberID) -> Bool {
        currentMemberCount > settings.presenceEventsUpTo && members[id]?.role != .facilitator
    }

    /// Puts back a member read from a snapshot, with the indexes derived from it.
    mutating func restoreMember(_ m: Member) {
        members[m.id] = m
        index(m)
        if m.departed { departedCount += 1 } else { memberByToken[m.tokenHash] = m.id }
        nextMemberID = max(nextMemberID, m.id + 1)
    }

    /// Forgets presence: after a restart nobody is connected yet.
    public mutating func resetPresence() { online.removeAll() }

    mutating func event(_ type: String, _ at: Millis, _ payload: Value.Object) -> RoomEvent {
        seq += 1
        return RoomEvent(room: code, seq: seq, at: at, type: type, payload: payload)
    }
}

extension Value.Object: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Value)...) { self.init(elements) }
}
