/// A member as the room remembers them. Presence is not here: it is runtime, owned by the coordinator.
public struct Member: Sendable, Hashable {
    // Field order keeps the stride at 112 bytes: the one-byte `role` and `departed` sit in the tail of
    // `communityMember` instead of padding out whole words. A room's member table of 100 (256 buckets)
    // then stays in jemalloc's 32 KiB class; in declaration order (128 bytes) it took 40 KiB, +82 bytes per
    // member (BENCHMARKS.md, "Idle memory after the node machine").
    public var id: MemberID
    public var name: String
    public var organization: String
    public var expertise: [String]
    public var bio: String
    /// SHA-256 of the member's resume token; the token itself is only ever in the join reply.
    public var tokenHash: String
    public var joinedAt: Millis
    /// Highlights partners wrote about this member in interviews and the member accepted.
    public var highlights: [String] = []
    /// The member's id in the community the room was opened from, when they joined with their community key.
    public var communityMember: Int?
    public var role: Role
    /// Set when the member leaves or is removed: their token stops working, their ballots stay.
    public var departed: Bool = false

    public init(
        id: MemberID, name: String, organization: String, role: Role, expertise: [String] = [], bio: String = "",
        tokenHash: String, joinedAt: Millis
    ) {
        self.id = id
        self.name = name
        self.organization = organization
        self.role = role
        self.expertise = expertise
        self.bio = bio
        self.tokenHash = tokenHash
        self.joinedAt = joinedAt
    }

    /// The public profile every member of the room may see.
    public func profile(online: Bool) -> Value {
        // Distinct keys: appended unchecked (a literal checks each key against the ones before it, and every
        // joiner's room.state builds up to stateMembersLimit of these).
        var o = Value.Object(distinctPairs: [
            ("id", Value(id)), ("name", .string(name)), ("organization", .string(organization)),
            ("role", .string(role.rawValue)), ("expertise", Value(expertise)), ("bio", .string(bio)), ("online", .bool(online)),
            ("highlights", Value(highlights)),
        ])
        if let communityMember { o.appendUnchecked("communityMember", Value(communityMember)) }
        return .object(o)
    }
}
