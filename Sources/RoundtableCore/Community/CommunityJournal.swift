/// The one place community ops and community snapshots are written and read back.
extension CommunityOp {
    /// Journal op names all start with `community.`: `JournalOp` routes on that prefix.
    static let prefix = "community."

    public var value: Value {
        switch self {
        case .created(let name, let hash):
            ["op": "community.created", "name": .string(name), "keyHash": .string(hash)]
        case .membersSet(let list):
            ["op": "community.membersSet", "members": .array(list.map(\.value))]
        case .facilitatorKeyReissued(let hash):
            ["op": "community.keyReissued", "keyHash": .string(hash)]
        case .sessionOpened(let room, let needs):
            ["op": "community.sessionOpened", "room": .string(room), "needs": Self.needMap(needs)]
        case .harvested(let h):
            ["op": "community.harvested", "harvest": h.value]
        case .needStatusSet(let id, let status):
            ["op": "community.needStatus", "need": Value(id), "status": status.value]
        }
    }

    public init(value v: Value) throws(OpDecodingError) {
        let kind = v["op"]?.stringValue ?? ""
        switch kind {
        case "community.created":
            guard let name = v["name"]?.stringValue, let hash = v["keyHash"]?.stringValue else { throw OpDecodingError("\(kind): missing field") }
            self = .created(name: name, facilitatorKeyHash: hash)
        case "community.membersSet":
            var list: [CommunityMember] = []
            for m in v["members"]?.arrayValue ?? [] { list.append(try CommunityMember(value: m)) }
            self = .membersSet(list)
        case "community.keyReissued":
            guard let hash = v["keyHash"]?.stringValue else { throw OpDecodingError("\(kind): missing keyHash") }
            self = .facilitatorKeyReissued(hash: hash)
        case "community.sessionOpened":
            guard let room = v["room"]?.stringValue else { throw OpDecodingError("\(kind): missing room") }
            self = .sessionOpened(room: room, needs: Self.needMap(v["needs"]))
        case "community.harvested":
            guard let h = v["harvest"] else { throw OpDecodingError("\(kind): missing harvest") }
            self = .harvested(try Harvest(value: h))
        case "community.needStatus":
            guard let id = v["need"]?.intValue, let s = v["status"], let status = BacklogStatus(value: s) else {
                throw OpDecodingError("\(kind): missing need or status")
            }
            self = .needStatusSet(need: Int(id), status)
        default:
            throw OpDecodingError("unknown op \(kind)")
        }
    }

    /// `[[roomNeed, backlogNeed], …]`, sorted, so the same map always writes the same bytes.
    static func needMap(_ m: [Int: Int]) -> Value { .array(m.keys.sorted().map { [Value($0), Value(m[$0]!)] }) }

    static func needMap(_ v: Value?) -> [Int: Int] {
        var out: [Int: Int] = [:]
        for e in v?.arrayValue ?? [] {
            if let a = e.arrayValue, a.count == 2, let r = a[0].intValue, let b = a[1].intValue { out[Int(r)] = Int(b) }
        }
        return out
    }
}

extension BacklogStatus {
    var value: Value {
        if case .merged(let into) = self { return ["status": "merged", "into": Value(into)] }
        return ["status": .string(name)]
    }

    init?(value v: Value) {
        switch v["status"]?.stringValue {
        case "open": self = .open
        case "addressed": self = .addressed
        case "merged":
            guard let into = v["into"]?.intValue else { return nil }
            self = .merged(into: Int(into))
        default: return nil
        }
    }
}

extension CommunityMember {
    var value: Value {
        [
            "id": Value(id), "name": .string(name), "organization": .string(organization), "expertise": Value(expertise),
            "keyHash": .string(keyHash), "group": .string(group),
        ]
    }

    init(value v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.intValue, let name = v["name"]?.stringValue, let hash = v["keyHash"]?.stringValue else {
            throw OpDecodingError("community member: missing field")
        }
        self.init(
            id: Int(id), name: name, organization: v["organization"]?.stringValue ?? "",
            expertise: v["expertise"]?.arrayValue?.compactMap(\.stringValue) ?? [], keyHash: hash, group: v["group"]?.stringValue ?? "")
    }
}

extension Harvest {
    var value: Value {
        [
            "room": .string(room),
            "needs": .array(
                needs.map { n in
                    var o: Value.Object = ["roomNeed": Value(n.roomNeed), "need": Value(n.need), "text": .string(n.text), "tags": Value(n.tags)]
                    if let m = n.mergedInto { o["mergedInto"] = Value(m) }
                    if let r = n.rank { o["rank"] = Value(r) }
                    if let s = n.score { o["score"] = .double(s) }
                    return .object(o)
                }),
            "profiles": .array(
                profiles.map { ["id": Value($0.id), "name": .string($0.name), "organization": .string($0.organization), "expertise": Value($0.expertise)] }),
            "pairs": .array(pairs.map { [Value($0.a), Value($0.b)] }),
        ]
    }

    init(value v: Value) throws(OpDecodingError) {
        guard let room = v["room"]?.stringValue else { throw OpDecodingError("harvest: missing room") }
        self.init(room: room)
        for n in v["needs"]?.arrayValue ?? [] {
            guard let r = n["roomNeed"]?.intValue, let id = n["need"]?.intValue, let text = n["text"]?.stringValue else {
                throw OpDecodingError("harvest: need without ids or text")
            }
            needs.append(
                NeedItem(
                    roomNeed: Int(r), need: Int(id), text: text, tags: n["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    mergedInto: n["mergedInto"]?.intValue.map { Int($0) }, rank: n["rank"]?.intValue.map { Int($0) }, score: n["score"]?.doubleValue))
        }
        for p in v["profiles"]?.arrayValue ?? [] {
            guard let id = p["id"]?.intValue else { continue }
            profiles.append(
                Profile(
                    id: Int(id), name: p["name"]?.stringValue ?? "", organization: p["organization"]?.stringValue ?? "",
                    expertise: p["expertise"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        for p in v["pairs"]?.arrayValue ?? [] {
            if let a = p.arrayValue, a.count == 2, let x = a[0].intValue, let y = a[1].intValue { pairs.append(PairKey(Int(x), Int(y))) }
        }
    }
}

/// Snapshot shape of a community: its state, not its ops (`seq` included, so journal seqs continue).
extension Community {
    public var snapshotValue: Value {
        [
            "id": .string(id), "name": .string(name), "createdAt": .int(createdAt), "keyHash": .string(facilitatorKeyHash),
            "seq": .int(Int64(seq)), "nextMemberID": Value(nextMemberID), "nextNeedID": Value(nextNeedID),
            "members": .array(members.keys.sorted().map { members[$0]!.value }),
            "sessions": .array(
                sessions.map { s in
                    var o: Value.Object = ["room": .string(s.room), "openedAt": .int(s.openedAt), "needs": CommunityOp.needMap(s.needs)]
                    if let h = s.harvestedAt { o["harvestedAt"] = .int(h) }
                    return .object(o)
                }),
            "backlog": .array(
                backlog.keys.sorted().map { id in
                    let n = backlog[id]!
                    return [
                        "id": Value(id), "text": .string(n.text), "tags": Value(n.tags), "status": n.status.value, "createdAt": .int(n.createdAt),
                        "firstRoom": .string(n.firstRoom),
                        "rankings": .array(n.rankings.map { ["room": .string($0.room), "rank": Value($0.rank), "score": .double($0.score)] }),
                    ]
                }),
            "met": .array(met.sorted { ($0.a, $0.b) < ($1.a, $1.b) }.map { [Value($0.a), Value($0.b)] }),
        ]
    }

    public init(snapshot v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.stringValue, let seq = v["seq"]?.intValue else { throw OpDecodingError("community snapshot: missing id or seq") }
        self.init(id: id)
        name = v["name"]?.stringValue ?? ""
        createdAt = v["createdAt"]?.intValue ?? 0
        facilitatorKeyHash = v["keyHash"]?.stringValue ?? ""
        for m in v["members"]?.arrayValue ?? [] { put(try CommunityMember(value: m)) }
        nextMemberID = max(nextMemberID, Int(v["nextMemberID"]?.intValue ?? 1))
        for s in v["sessions"]?.arrayValue ?? [] {
            guard let room = s["room"]?.stringValue else { throw OpDecodingError("community snapshot: session without room") }
            sessions.append(
                CommunitySession(
                    room: room, openedAt: s["openedAt"]?.intValue ?? 0, needs: CommunityOp.needMap(s["needs"]), harvestedAt: s["harvestedAt"]?.intValue))
        }
        for n in v["backlog"]?.arrayValue ?? [] {
            guard let nid = n["id"]?.intValue, let text = n["text"]?.stringValue, let status = n["status"].flatMap(BacklogStatus.init(value:)) else {
                throw OpDecodingError("community snapshot: backlog need without id, text or status")
            }
            var need = BacklogNeed(
                id: Int(nid), text: text, tags: n["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [], createdAt: n["createdAt"]?.intValue ?? 0,
                firstRoom: n["firstRoom"]?.stringValue ?? "")
            need.status = status
            for r in n["rankings"]?.arrayValue ?? [] {
                if let room = r["room"]?.stringValue, let rank = r["rank"]?.intValue {
                    need.rankings.append(BacklogRanking(room: room, rank: Int(rank), score: r["score"]?.doubleValue ?? 0))
                }
            }
            backlog[need.id] = need
        }
        nextNeedID = max(Int(v["nextNeedID"]?.intValue ?? 1), (backlog.keys.max() ?? 0) + 1)
        for p in v["met"]?.arrayValue ?? [] {
            if let a = p.arrayValue, a.count == 2, let x = a[0].intValue, let y = a[1].intValue { met.insert(PairKey(Int(x), Int(y))) }
        }
        self.seq = UInt64(seq)
    }
}
