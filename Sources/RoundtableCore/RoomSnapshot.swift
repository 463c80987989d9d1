/// A room's full durable state as a JSON-shaped value, for snapshots. Tallies are not stored:
/// they are rebuilt from the ballots, which keeps the format small and the tally code free to change.
extension Room {
    public var snapshotValue: Value {
        var o: Value.Object = [
            "code": .string(code), "title": .string(title), "createdAt": .int(createdAt), "settings": settings.value,
            "keyHash": .string(facilitatorKeyHash), "seq": .int(Int64(seq)), "nextMemberID": Value(nextMemberID),
            "nextNeedID": Value(nextNeedID), "nextPollID": Value(nextPollID),
        ]
        o["members"] = .array(members.keys.sorted().map { members[$0]!.journalValue })
        o["needs"] = .array(
            needs.keys.sorted().map { id in
                let n = needs[id]!
                guard case .object(var v) = n.journalValue else { return .null }
                switch n.status {
                case .active: v["status"] = "active"
                case .removed: v["status"] = "removed"
                case .merged(let into):
                    v["status"] = "merged"
                    v["into"] = Value(into)
                }
                v["mergedFrom"] = .array(n.mergedFrom.map { Value($0) })
                return .object(v)
            })
        o["polls"] = .array(
            polls.keys.sorted().map { id in
                let p = polls[id]!
                var v: Value.Object = [
                    "id": Value(id), "definition": p.definition.value, "state": .string(p.state.rawValue),
                    "createdAt": .int(p.createdAt), "options": .array(p.options.map { Value($0) }),
                ]
                if let t = p.openedAt { v["openedAt"] = .int(t) }
                if let t = p.closedAt { v["closedAt"] = .int(t) }
                if p.revealed { v["revealed"] = true }
                v["ballots"] = .object(
                    Value.Object(p.ballots.keys.sorted().map { ($0, Value.object(p.ballots[$0]!.value)) }))
                return .object(v)
            })
        if let passcodeHash { o["passcodeHash"] = .string(passcodeHash) }
        if let closedAt { o["closedAt"] = .int(closedAt) }
        o["lastActivityAt"] = .int(lastActivityAt)
        if !profileEditedAt.isEmpty {
            o["profileEditedAt"] = .array(profileEditedAt.keys.sorted().map { [Value($0), .int(profileEditedAt[$0]!)] })
        }
        o["interviews"] = interviews.snapshotValue
        o["grouping"] = grouping.snapshotValue
        o["show"] = show.snapshotValue
        return .object(o)
    }

    public init(snapshot v: Value) throws(OpDecodingError) {
        guard let code = v["code"]?.stringValue, let seq = v["seq"]?.intValue else {
            throw OpDecodingError("room snapshot: missing code or seq")
        }
        self.init(code: code)
        title = v["title"]?.stringValue ?? ""
        createdAt = v["createdAt"]?.intValue ?? 0
        settings = RoomSettings(value: v["settings"])
        facilitatorKeyHash = v["keyHash"]?.stringValue ?? ""
        passcodeHash = v["passcodeHash"]?.stringValue
        closedAt = v["closedAt"]?.intValue
        lastActivityAt = v["lastActivityAt"]?.intValue ?? createdAt
        for e in v["profileEditedAt"]?.arrayValue ?? [] {
            if let a = e.arrayValue, a.count == 2, let id = a[0].intValue, let t = a[1].intValue { profileEditedAt[Int(id)] = t }
        }
        self.seq = UInt64(seq)
        for mv in v["members"]?.arrayValue ?? [] {
            let m = try Member(journal: mv)
            restoreMember(m)
        }
        nextMemberID = max(nextMemberID, Int(v["nextMemberID"]?.intValue ?? 1))
        for nv in v["needs"]?.arrayValue ?? [] {
            var n = try Need(journal: nv)
            switch nv["status"]?.stringValue {
            case "removed": n.status = .removed
            case "merged": n.status = .merged(into: Int(nv["into"]?.intValue ?? 0))
            default: n.status = .active
            }
            n.mergedFrom = nv["mergedFrom"]?.arrayValue?.compactMap { $0.intValue.map { Int($0) } } ?? []
            needs[n.id] = n
        }
        nextNeedID = Int(v["nextNeedID"]?.intValue ?? 1)
        for pv in v["polls"]?.arrayValue ?? [] {
            guard let id = pv["id"]?.intValue, let d = pv["definition"] else { throw OpDecodingError("poll snapshot: missing id") }
            let def = try PollDefinition(value: d)
            var p = Poll(
                id: Int(id), definition: def, options: pv["options"]?.arrayValue?.compactMap { $0.intValue.map { Int($0) } } ?? [],
                createdAt: pv["createdAt"]?.intValue ?? 0)
            p.state = pv["state"]?.stringValue.flatMap(PollState.init(rawValue:)) ?? .draft
            p.openedAt = pv["openedAt"]?.intValue
            p.closedAt = pv["closedAt"]?.intValue
            p.revealed = pv["revealed"]?.boolValue ?? false
            var ballots: [String: Ballot] = [:]
            for (voter, bv) in pv["ballots"]?.objectValue ?? Value.Object() {
                guard let b = bv.objectValue else { continue }
                do throws(DomainError) { ballots[voter] = try Ballot(kind: def.kind, fields: b, maxAnswerBytes: .max) } catch {
                    throw OpDecodingError("poll \(id) ballot: \(error.message)")
                }
            }
            p.ballots = ballots
            p.tally = PollTally(rules: Poll.rules(def, p.options), ballots: ballots.values)
            polls[p.id] = p
        }
        nextPollID = Int(v["nextPollID"]?.intValue ?? 1)
        if let iv = v["interviews"] { interviews = InterviewSession(snapshot: iv) }
        if let g = v["grouping"] { grouping = Grouping(snapshot: g) }
        if let s = v["show"] { show = try RunOfShow(snapshot: s) }
    }
}

extension Coordinator {
    /// Every room, for a snapshot. A cheap copy: rooms are values.
    public var snapshotRooms: [String: Room] { rooms }

    /// Snapshot payload: `{"version":1,"rooms":[…]}`.
    public static func snapshotValue(_ rooms: [String: Room], archived: [String: ArchivedRoom], communities: Communities = Communities()) -> Value {
        var o: Value.Object = [
            "version": 1, "rooms": .array(rooms.keys.sorted().map { rooms[$0]!.snapshotValue }),
            "archived": .array(archived.keys.sorted().map { archived[$0]!.value }),
        ]
        // Only when there are any: a node without communities writes the same bytes as before.
        if communities.count > 0 { o["communities"] = .array(communities.byID.keys.sorted().map { communities.byID[$0]!.snapshotValue }) }
        return .object(o)
    }

    public mutating func restore(snapshot v: Value) throws(OpDecodingError) {
        guard v["version"]?.intValue == 1 else { throw OpDecodingError("unknown snapshot version") }
        for rv in v["rooms"]?.arrayValue ?? [] {
            let room = try Room(snapshot: rv)
            rooms[room.code] = room
        }
        for av in v["archived"]?.arrayValue ?? [] {
            let a = try ArchivedRoom(value: av)
            archived[a.code] = a
        }
        for cv in v["communities"]?.arrayValue ?? [] {
            let c = try Community(snapshot: cv)
            communities.byID[c.id] = c
        }
    }
}
