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
    /// Ops applied so far: the journal's `seq` for community records.
    public internal(set) var seq: UInt64 = 0
    /// Derived: member by the hash of their personal key.
    private var memberByKey: [String: Int] = [:]

    public init(id: String) { self.id = id }

    public func member(withKeyHash hash: String) -> CommunityMember? { memberByKey[hash].flatMap { members[$0] } }

    public func session(_ room: String) -> CommunitySession? { sessions.first { $0.room == room } }

    /// Open backlog needs in the order a new session lists them: best last rank first, then never ranked, by id.
    public var openBacklog: [BacklogNeed] {
        backlog.values.filter { $0.status == .open }.sorted { x, y in
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
        case .needStatusSet(let id, let status):
            backlog[id]?.status = status
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
            members[p.id] = m
        }
        met.formUnion(h.pairs)
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

    public init(id: Int, name: String, organization: String, expertise: [String], keyHash: String, group: String = "") {
        self.id = id
        self.name = name
        self.organization = organization
        self.expertise = expertise
        self.keyHash = keyHash
        self.group = group
    }
}

public struct CommunitySession: Sendable, Hashable {
    public var room: String
    public var openedAt: Millis
    /// Room need id → backlog need id: the backlog items the room started with, and what a harvest added.
    public var needs: [Int: Int]
    /// When the room's needs and pairs were last carried into the community.
    public var harvestedAt: Millis?

    public init(room: String, openedAt: Millis, needs: [Int: Int], harvestedAt: Millis? = nil) {
        self.room = room
        self.openedAt = openedAt
        self.needs = needs
        self.harvestedAt = harvestedAt
    }
}

public enum BacklogStatus: Sendable, Hashable {
    case open
    case addressed
    case merged(into: Int)

    public var name: String {
        switch self {
        case .open: "open"
        case .addressed: "addressed"
        case .merged: "merged"
        }
    }
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
    }
    public var room: String
    public var needs: [NeedItem] = []
    public var profiles: [Profile] = []
    /// New pairs of community member ids (met before: left out).
    public var pairs: [PairKey] = []
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
    case needStatusSet(need: Int, BacklogStatus)
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
