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
        case .needStatusSet(let id, let status, let owner):
            owner.map { ["op": "community.needStatus", "need": Value(id), "status": status.value, "owner": Value($0)] }
                ?? ["op": "community.needStatus", "need": Value(id), "status": status.value]
        case .groupsSet(let list):
            ["op": "community.groups", "groups": .array(list.map(\.value))]
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
            self = .needStatusSet(need: Int(id), status, owner: v["owner"]?.intValue.map { Int($0) })
        case "community.groups":
            var list: [StandingGroup] = []
            for g in v["groups"]?.arrayValue ?? [] { list.append(try StandingGroup(value: g)) }
            self = .groupsSet(list)
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
        case "in_progress": self = .inProgress
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
        var o: Value.Object = [
            "id": Value(id), "name": .string(name), "organization": .string(organization), "expertise": Value(expertise),
            "keyHash": .string(keyHash), "group": .string(group),
        ]
        // Only what differs from a fresh member: rosters of thousands are written whole on every import.
        if !bio.isEmpty { o["bio"] = .string(bio) }
        if !highlights.isEmpty { o["highlights"] = Value(highlights) }
        if !listed { o["listed"] = false }
        if profileEditedAt != 0 { o["profileEditedAt"] = .int(profileEditedAt) }
        return .object(o)
    }

    init(value v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.intValue, let name = v["name"]?.stringValue, let hash = v["keyHash"]?.stringValue else {
            throw OpDecodingError("community member: missing field")
        }
        self.init(
            id: Int(id), name: name, organization: v["organization"]?.stringValue ?? "",
            expertise: v["expertise"]?.arrayValue?.compactMap(\.stringValue) ?? [], keyHash: hash, group: v["group"]?.stringValue ?? "")
        bio = v["bio"]?.stringValue ?? ""
        highlights = v["highlights"]?.arrayValue?.compactMap(\.stringValue) ?? []
        listed = v["listed"]?.boolValue ?? true
        profileEditedAt = v["profileEditedAt"]?.intValue ?? 0
    }
}

extension StandingGroup {
    var value: Value {
        [
            "id": Value(id), "name": .string(name), "description": .string(description), "focus": .array(focus.map { Value($0) }),
            "members": .array(members.map { Value($0) }),
        ]
    }

    init(value v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.intValue, let name = v["name"]?.stringValue else { throw OpDecodingError("standing group: missing id or name") }
        self.init(
            id: Int(id), name: name, description: v["description"]?.stringValue ?? "",
            focus: v["focus"]?.arrayValue?.compactMap { $0.intValue.map { Int($0) } } ?? [],
            members: v["members"]?.arrayValue?.compactMap { $0.intValue.map { Int($0) } } ?? [])
    }
}

extension Harvest {
    var value: Value {
        var out: Value.Object = [
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
                profiles.map {
                    [
                        "id": Value($0.id), "name": .string($0.name), "organization": .string($0.organization), "expertise": Value($0.expertise),
                        "bio": .string($0.bio), "editedAt": .int($0.editedAt),
                    ]
                }),
            "pairs": .array(pairs.map { [Value($0.a), Value($0.b)] }),
            "highlights": .array(highlights.keys.sorted().map { ["member": Value($0), "highlights": Value(highlights[$0]!)] }),
            "standing": .array(standing.keys.sorted().map { ["member": Value($0), "group": standing[$0]!.map { Value($0) } ?? .null] }),
        ]
        if let attendance { out["attendance"] = Value(attendance) }
        return .object(out)
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
                    expertise: p["expertise"]?.arrayValue?.compactMap(\.stringValue) ?? [], bio: p["bio"]?.stringValue ?? "",
                    editedAt: p["editedAt"]?.intValue ?? 0))
        }
        for e in v["highlights"]?.arrayValue ?? [] {
            if let id = e["member"]?.intValue { highlights[Int(id)] = e["highlights"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        }
        for e in v["standing"]?.arrayValue ?? [] {
            // `.some(nil)` is "in no standing group"; assigning nil would drop the key.
            if let id = e["member"]?.intValue { standing[Int(id)] = .some(e["group"]?.intValue.map { Int($0) }) }
        }
        attendance = v["attendance"]?.intValue.map { Int($0) }
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
                    if let n = s.attendance { o["attendance"] = Value(n) }
                    return .object(o)
                }),
            "backlog": .array(
                backlog.keys.sorted().map { id in
                    let n = backlog[id]!
                    var o: Value.Object = [
                        "id": Value(id), "text": .string(n.text), "tags": Value(n.tags), "status": n.status.value, "createdAt": .int(n.createdAt),
                        "firstRoom": .string(n.firstRoom),
                        "rankings": .array(n.rankings.map { ["room": .string($0.room), "rank": Value($0.rank), "score": .double($0.score)] }),
                    ]
                    if let owner = n.owner { o["owner"] = Value(owner) }
                    return .object(o)
                }),
            "met": .array(met.sorted { ($0.a, $0.b) < ($1.a, $1.b) }.map { [Value($0.a), Value($0.b)] }),
            "groups": .array(groups.map(\.value)), "nextGroupID": Value(nextGroupID),
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
                    room: room, openedAt: s["openedAt"]?.intValue ?? 0, needs: CommunityOp.needMap(s["needs"]), harvestedAt: s["harvestedAt"]?.intValue,
                    attendance: s["attendance"]?.intValue.map { Int($0) }))
        }
        for n in v["backlog"]?.arrayValue ?? [] {
            guard let nid = n["id"]?.intValue, let text = n["text"]?.stringValue, let status = n["status"].flatMap(BacklogStatus.init(value:)) else {
                throw OpDecodingError("community snapshot: backlog need without id, text or status")
            }
            var need = BacklogNeed(
                id: Int(nid), text: text, tags: n["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [], createdAt: n["createdAt"]?.intValue ?? 0,
                firstRoom: n["firstRoom"]?.stringValue ?? "")
            need.status = status
            need.owner = n["owner"]?.intValue.map { Int($0) }
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
        for g in v["groups"]?.arrayValue ?? [] { groups.append(try StandingGroup(value: g)) }
        nextGroupID = max(Int(v["nextGroupID"]?.intValue ?? 1), (groups.map(\.id).max() ?? 0) + 1)
        self.seq = UInt64(seq)
    }
}
