/// Where things live in a cluster: every id that names something held by one node (a room code, a community
/// id) begins with that node's `cluster.nodePrefix`, so a proxy routes any request that names it to that node
/// from the id alone (docs/SCALING.md). A community and all its sessions share a node: a session is opened on
/// the community's node, which gives the room a code with the same prefix.
extension Coordinator {
    /// A fresh room code: the node prefix, then random characters up to `roomCodeLength`.
    mutating func newRoomCode() -> String {
        let randomPart = limits.roomCodeLength - limits.roomCodePrefix.count
        var code = limits.roomCodePrefix + Crockford.code(randomPart, from: &entropy)
        while rooms[code] != nil || archived[code] != nil { code = limits.roomCodePrefix + Crockford.code(randomPart, from: &entropy) }
        return code
    }

    /// A fresh community id, 10 characters: the node prefix, `C`, then random characters (`C` and 9 on a node
    /// without a prefix). Ten characters keep at least 30 random bits with the longest prefix (three).
    mutating func newCommunityID() -> String {
        let randomPart = Self.communityIDLength - 1 - limits.roomCodePrefix.count
        var id = limits.roomCodePrefix + "C" + Crockford.code(randomPart, from: &entropy)
        while communities[id] != nil { id = limits.roomCodePrefix + "C" + Crockford.code(randomPart, from: &entropy) }
        return id
    }

    static let communityIDLength = 10
}
