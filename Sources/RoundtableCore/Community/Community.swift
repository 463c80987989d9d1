/// A community of practice: the roster, the needs backlog and who has met whom, carried from one session
/// (room) to the next. A value like `Room`: changed only by `CommunityOp`s, so replay rebuilds it exactly.
public struct Community: Sendable, Hashable {
    public let id: String
    public internal(set) var name: String = ""
    public internal(set) var createdAt: Millis = 0
    public internal(set) var facilitatorKeyHash: String = ""
    public internal(set) var members: [Int: CommunityMember] = [:]
    public internal(set) var nextMemberID = 1
    /// Room codes of the sessions opened from this community, in opening order.
    public internal(set) var sessions: [CommunitySession] = []
    public internal(set) var backlog: [Int: BacklogNeed] = [:]
    public internal(set) var nextNeedID = 1
    /// Pairs of community member ids that met in an interview of an earlier session.
    public internal(set) var met: Set<PairKey> = []
    /// Standing groups (action teams), in the facilitator's order.
    public internal(set) var groups: [StandingGroup] = []
    public internal(set) var nextGroupID = 1
    /// Ops applied so far: the journal's `seq` for community records.
    public internal(set) var seq: UInt64 = 0
    /// Derived: member by the hash of their personal key.
    private var memberByKey: [String: Int] = [:]

    public init(id: String) { self.id = id }

    public func member(withKeyHash hash: String) -> CommunityMember? { memberByKey[hash].flatMap { members[$0] } }

    public func session(_ room: String) -> CommunitySession? { sessions.first { $0.room == room } }

    /// The standing group a member is in (at most one).
    public func standingGroup(of member: Int) -> StandingGroup? { groups.first { $0.members.contains(member) } }

    /// Backlog needs still being worked on (open or in progress), in the order a new session lists them: best
    /// last rank first, then never ranked, by id.
    public var openBacklog: [BacklogNeed] {
        backlog.values.filter(\.status.isWorkedOn).sorted { x, y in
            switch (x.lastRank, y.lastRank) {
            case (let a?, let b?): a != b ? a < b : x.id < y.id
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): x.id < y.id
            }
        }
    }

    mutating func apply(_ op: CommunityOp, at: Millis) {
        seq += 1
        switch op {
        case .created(let name, let keyHash):
            self.name = name
            createdAt = at
            facilitatorKeyHash = keyHash
        case .membersSet(let list):
            for m in list { put(m) }
        case .facilitatorKeyReissued(let hash):
            facilitatorKeyHash = hash
        case .sessionOpened(let room, let needs):
            sessions.append(CommunitySession(room: room, openedAt: at, needs: needs))
        case .harvested(let h):
            applyHarvest(h, at: at)
        case .needStatusSet(let id, let status, let owner):
            backlog[id]?.status = status
            backlog[id]?.owner = owner
        case .groupsSet(let list):
            groups = list
            nextGroupID = max(nextGroupID, (list.map(\.id).max() ?? 0) + 1)
            // A need owned by a group that is gone has no owner any more.
            let ids = Set(list.map(\.id))
            for (id, n) in backlog where n.owner.map({ !ids.contains($0) }) ?? false { backlog[id]?.owner = nil }
        }
    }

    mutating func put(_ m: CommunityMember) {
        if let old = members[m.id], memberByKey[old.keyHash] == m.id { memberByKey[old.keyHash] = nil }
        members[m.id] = m
        memberByKey[m.keyHash] = m.id
        nextMemberID = max(nextMemberID, m.id + 1)
    }

    private mutating func applyHarvest(_ h: Harvest, at: Millis) {
        guard let s = sessions.firstIndex(where: { $0.room == h.room }) else { return }
        for item in h.needs {
            sessions[s].needs[item.roomNeed] = item.need
            var n = backlog[item.need] ?? BacklogNeed(id: item.need, text: item.text, tags: item.tags, createdAt: at, firstRoom: h.room)
            n.text = item.text
            n.tags = item.tags
            if let into = item.mergedInto { n.status = .merged(into: into) }
            if let rank = item.rank {
                n.rankings.removeAll { $0.room == h.room }
                n.rankings.append(BacklogRanking(room: h.room, rank: rank, score: item.score ?? 0))
            }
            backlog[item.need] = n
            nextNeedID = max(nextNeedID, item.need + 1)
        }
        for p in h.profiles {
            guard var m = members[p.id] else { continue }
            m.name = p.name
            m.organization = p.organization
            m.expertise = p.expertise
            m.bio = p.bio
            m.profileEditedAt = p.editedAt
            members[p.id] = m
        }
        for (id, list) in h.highlights { members[id]?.highlights = list }
        for member in h.standing.keys.sorted() {
            let target = h.standing[member]!
            for i in groups.indices { groups[i].members.removeAll { $0 == member } }
            if let target, let i = groups.firstIndex(where: { $0.id == target }) { groups[i].members.append(member) }
        }
        met.formUnion(h.pairs)
        if let n = h.attendance { sessions[s].attendance = n }
        sessions[s].harvestedAt = at
    }

    /// `met`, translated to the member ids of one room (pairs with someone not in the room are left out).
    public func history(in room: Room) -> Set<PairKey> {
        var local: [Int: MemberID] = [:]
        for m in room.members.values where !m.departed { if let cm = m.communityMember { local[cm] = m.id } }
        guard local.count > 1 else { return [] }
        var out = Set<PairKey>()
        // Whichever side is smaller drives the walk: a community of thousands rarely has them all in one room.
        if met.count <= local.count * local.count {
            for p in met { if let x = local[p.a], let y = local[p.b] { out.insert(PairKey(x, y)) } }
        } else {
            let ids = local.keys.sorted()
            for (i, x) in ids.enumerated() {
                for y in ids[(i + 1)...] where met.contains(PairKey(x, y)) { out.insert(PairKey(local[x]!, local[y]!)) }
            }
        }
        return out
    }
}

public struct CommunityMember: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var organization: String
    public var expertise: [String]
    /// SHA-256 of the member's personal key; the key itself is only in the import or reissue reply.
    public var keyHash: String
    /// Group the roster pre-assigned (free text from the import; empty: none).
    public var group: String
    public var bio: String = ""
    /// Interview highlights the member accepted in sessions, newest last (at most `maxHighlightsPerMember`).
    public var highlights: [String] = []
    /// In the directory (the member may leave it; the roster export still lists them for facilitators).
    public var listed = true
    /// When the profile was last changed at community level (`community.profile`, an import that changed it)
    /// or by a harvested session edit: a session's older edit of the same profile must not overwrite it.
    public var profileEditedAt: Millis = 0

    public init(id: Int, name: String, organization: String, expertise: [String], keyHash: String, group: String = "") {
        self.id = id
        self.name = name
        self.organization = organization
        self.expertise = expertise
        self.keyHash = keyHash
        self.group = group
    }
}

/// An action team that persists across sessions: its members and the backlog needs it works on.
public struct StandingGroup: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var description: String
    /// Backlog need ids.
    public var focus: [Int]
    /// Community member ids, in joining order.
    public var members: [Int]

    public init(id: Int, name: String, description: String = "", focus: [Int] = [], members: [Int] = []) {
        self.id = id
        self.name = name
        self.description = description
        self.focus = focus
        self.members = members
    }
}

public struct CommunitySession: Sendable, Hashable {
    public var room: String
    public var openedAt: Millis
    /// Room need id → backlog need id: the backlog items the room started with, and what a harvest added.
    public var needs: [Int: Int]
    /// When the room's needs and pairs were last carried into the community.
    public var harvestedAt: Millis?
    /// Members (member role) who joined the session, as of its last harvest: what an archived session still tells.
    public var attendance: Int?

    public init(room: String, openedAt: Millis, needs: [Int: Int], harvestedAt: Millis? = nil, attendance: Int? = nil) {
        self.room = room
        self.openedAt = openedAt
        self.needs = needs
        self.harvestedAt = harvestedAt
        self.attendance = attendance
    }
}

public enum BacklogStatus: Sendable, Hashable {
    case open
    case inProgress
    case addressed
    case merged(into: Int)

    public var name: String {
        switch self {
        case .open: "open"
        case .inProgress: "in_progress"
        case .addressed: "addressed"
        case .merged: "merged"
        }
    }

    /// Open and in-progress needs are still being worked on: they open every new session.
    public var isWorkedOn: Bool { self == .open || self == .inProgress }
}

public struct BacklogRanking: Sendable, Hashable {
    public var room: String
    public var rank: Int
    public var score: Double
}

public struct BacklogNeed: Sendable, Hashable {
    public var id: Int
    public var text: String
    public var tags: [String]
    public var status: BacklogStatus = .open
    /// The standing group that took the need on.
    public var owner: Int?
    public var createdAt: Millis
    /// The session the need was first submitted in.
    public var firstRoom: String
    /// Its rank in each session that polled it, oldest first.
    public var rankings: [BacklogRanking] = []

    public var lastRank: Int? { rankings.last?.rank }

    public init(id: Int, text: String, tags: [String], createdAt: Millis, firstRoom: String) {
        self.id = id
        self.text = text
        self.tags = tags
        self.createdAt = createdAt
        self.firstRoom = firstRoom
    }
}

/// What one session taught the community, decided by the coordinator and journaled whole.
public struct Harvest: Sendable, Hashable {
    public struct NeedItem: Sendable, Hashable {
        public var roomNeed: Int
        public var need: Int
        public var text: String
        public var tags: [String]
        /// Set when the facilitator merged this need into another in the session.
        public var mergedInto: Int?
        /// The session's ranking, when a poll over needs ranked it.
        public var rank: Int?
        public var score: Double?
    }
    public struct Profile: Sendable, Hashable {
        public var id: Int
        public var name: String
        public var organization: String
        public var expertise: [String]
        public var bio: String = ""
        /// When the member last edited their profile in the session.
        public var editedAt: Millis = 0
    }
    public var room: String
    public var needs: [NeedItem] = []
    /// Profiles the members edited in the session after their last change at community level.
    public var profiles: [Profile] = []
    /// Member id → their whole highlight list once the session's newly accepted highlights are added (trimmed).
    public var highlights: [Int: [String]] = [:]
    /// Member id → the standing group the session's self-selection put them in (nil: none), for attending members.
    public var standing: [Int: Int?] = [:]
    /// New pairs of community member ids (met before: left out).
    public var pairs: [PairKey] = []
    /// Members (member role) who joined the session.
    public var attendance: Int?
}

/// A state change of one community. Like `RoomOp`, a fact: applying it never fails.
public enum CommunityOp: Sendable, Hashable {
    case created(name: String, facilitatorKeyHash: String)
    /// Members added or changed (import, key reissue), whole.
    case membersSet([CommunityMember])
    case facilitatorKeyReissued(hash: String)
    /// A room opened from the community, with the backlog needs it starts with (room need → backlog need).
    case sessionOpened(room: String, needs: [Int: Int])
    case harvested(Harvest)
    /// A need's status and owner standing group (nil: none), both as they are after the change.
    case needStatusSet(need: Int, BacklogStatus, owner: Int?)
    /// The standing groups, whole (owners of needs pointing at a group that is gone are cleared).
    case groupsSet([StandingGroup])
}

/// Every community on the node.
public struct Communities: Sendable, Hashable {
    public internal(set) var byID: [String: Community] = [:]

    public init() {}

    public subscript(id: String) -> Community? { byID[id] }
    public var count: Int { byID.count }

    mutating func apply(_ op: CommunityOp, to id: String, at: Millis) {
        if case .created = op, byID[id] == nil { byID[id] = Community(id: id) }
        byID[id]?.apply(op, at: at)
    }

    /// The community a room was opened from.
    public func community(of room: Room) -> Community? { room.settings.community.flatMap { byID[$0] } }
}
