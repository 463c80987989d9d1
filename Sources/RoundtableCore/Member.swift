/// A member as the room remembers them. Presence is not here: it is runtime, owned by the coordinator.
public struct Member: Sendable, Hashable {
    public var id: MemberID
    public var name: String
    public var organization: String
    public var role: Role
    public var expertise: [String]
    public var bio: String
    /// SHA-256 of the member's resume token; the token itself is only ever in the join reply.
    public var tokenHash: String
    public var joinedAt: Millis
    /// Set when the member leaves or is removed: their token stops working, their ballots stay.
    public var departed: Bool = false
    /// Highlights partners wrote about this member in interviews and the member accepted.
    public var highlights: [String] = []
    /// The member's id in the community the room was opened from, when they joined with their community key.
    public var communityMember: Int?

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
        var o: Value.Object = [
            "id": Value(id), "name": .string(name), "organization": .string(organization),
            "role": .string(role.rawValue), "expertise": Value(expertise), "bio": .string(bio), "online": .bool(online),
            "highlights": Value(highlights),
        ]
        if let communityMember { o["communityMember"] = Value(communityMember) }
        return .object(o)
    }
}
