/// A state change of one room, as decided by the coordinator and kept in the journal.
///
/// Ops are facts, not requests: validation happened before one was built, so applying an op never
/// fails. That is what makes replay after a crash reproduce the room exactly, seq numbers included.
public enum RoomOp: Sendable, Hashable {
    case created(title: String, facilitatorKeyHash: String, settings: RoomSettings)
    case joined(Member)
    case presence(MemberID, online: Bool)
    case updated(MemberID, name: String, organization: String, expertise: [String], bio: String)
    case departed(MemberID, removed: Bool)
    case keyRotated(facilitatorKeyHash: String)
    /// The room's passcode (hashed), or nil to open the room to anyone with its code.
    case passcodeSet(hash: String?)
    case needAdded(Need)
    case needEdited(Int, text: String, tags: [String])
    case needsMerged(into: Int, from: [Int])
    case needRemoved(Int)
    case pollCreated(id: Int, PollDefinition, options: [OptionID])
    case pollOpened(id: Int, options: [OptionID])
    case pollClosed(id: Int)
    case voteCast(poll: Int, voter: String, Ballot)
    case voteRetracted(poll: Int, voter: String)
    case interview(InterviewOp)
    case groups(GroupOp)
    /// Agenda, running step, wall view, result reveals, standing announcement.
    case show(ShowOp)
    /// The facilitator ended the session; open polls, interviews and timers were closed by ops before it.
    case closed
}

/// Room settings chosen at creation.
public struct RoomSettings: Sendable, Hashable {
    /// Whether needs show the submitter's organization. Names are never shown.
    public var showNeedOrganization = true
    /// Whether answers to open-text polls become candidate needs.
    public var openAnswersBecomeNeeds = true
    /// Above this many members, joins and presence changes of members are not room events (a launch event
    /// of thousands would cost O(members²) messages): everyone gets a coalesced `room.presence` count and
    /// facilitators get each change as a notice. Fixed at creation so replay makes the same choice.
    public var presenceEventsUpTo = Int.max
    /// The community this room is a session of (set by the coordinator from `room.create`'s `community`).
    public var community: String?

    public init() {}

    public var value: Value {
        var o: Value.Object = ["showNeedOrganization": .bool(showNeedOrganization), "openAnswersBecomeNeeds": .bool(openAnswersBecomeNeeds)]
        if presenceEventsUpTo != Int.max { o["presenceEventsUpTo"] = Value(presenceEventsUpTo) }
        if let community { o["community"] = .string(community) }
        return .object(o)
    }

    public init(value: Value?) {
        self.init()
        if let b = value?["showNeedOrganization"]?.boolValue { showNeedOrganization = b }
        if let b = value?["openAnswersBecomeNeeds"]?.boolValue { openAnswersBecomeNeeds = b }
        if let n = value?["presenceEventsUpTo"]?.intValue { presenceEventsUpTo = Int(n) }
        community = value?["community"]?.stringValue
    }
}

/// Errors decoding a journaled op: a record that passed its checksum but does not parse is a bug
/// or a version mismatch, and recovery reports it rather than guessing.
public struct OpDecodingError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

extension Member {
    var journalValue: Value {
        var o: Value.Object = [
            "id": Value(id), "name": .string(name), "organization": .string(organization), "role": .string(role.rawValue),
            "expertise": Value(expertise), "bio": .string(bio), "tokenHash": .string(tokenHash), "joinedAt": .int(joinedAt),
            "departed": .bool(departed), "highlights": Value(highlights),
        ]
        if let communityMember { o["communityMember"] = Value(communityMember) }
        return .object(o)
    }

    init(journal v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.intValue, let name = v["name"]?.stringValue, let org = v["organization"]?.stringValue,
            let role = v["role"]?.stringValue.flatMap(Role.init(rawValue:)), let hash = v["tokenHash"]?.stringValue,
            let at = v["joinedAt"]?.intValue
        else { throw OpDecodingError("member: missing field") }
        self.init(
            id: Int(id), name: name, organization: org, role: role,
            expertise: v["expertise"]?.arrayValue?.compactMap(\.stringValue) ?? [], bio: v["bio"]?.stringValue ?? "",
            tokenHash: hash, joinedAt: at)
        departed = v["departed"]?.boolValue ?? false
        highlights = v["highlights"]?.arrayValue?.compactMap(\.stringValue) ?? []
        communityMember = v["communityMember"]?.intValue.map { Int($0) }
    }
}

extension RoomOp {
    /// The op as a JSON-shaped value for the journal.
    public var value: Value {
        switch self {
        case .created(let title, let hash, let settings):
            ["op": "created", "title": .string(title), "keyHash": .string(hash), "settings": settings.value]
        case .joined(let m):
            ["op": "joined", "member": m.journalValue]
        case .presence(let id, let online):
            ["op": "presence", "member": Value(id), "online": .bool(online)]
        case .updated(let id, let name, let org, let expertise, let bio):
            [
                "op": "updated", "member": Value(id), "name": .string(name), "organization": .string(org),
                "expertise": Value(expertise), "bio": .string(bio),
            ]
        case .departed(let id, let removed):
            ["op": "departed", "member": Value(id), "removed": .bool(removed)]
        case .keyRotated(let hash):
            ["op": "keyRotated", "keyHash": .string(hash)]
        case .passcodeSet(let hash):
            ["op": "passcodeSet", "hash": Value(hash)]
        case .needAdded(let n):
            ["op": "needAdded", "need": n.journalValue]
        case .needEdited(let id, let text, let tags):
            ["op": "needEdited", "need": Value(id), "text": .string(text), "tags": Value(tags)]
        case .needsMerged(let into, let from):
            ["op": "needsMerged", "into": Value(into), "from": .array(from.map { Value($0) })]
        case .needRemoved(let id):
            ["op": "needRemoved", "need": Value(id)]
        case .pollCreated(let id, let def, let options):
            ["op": "pollCreated", "poll": Value(id), "definition": def.value, "options": .array(options.map { Value($0) })]
        case .pollOpened(let id, let options):
            ["op": "pollOpened", "poll": Value(id), "options": .array(options.map { Value($0) })]
        case .pollClosed(let id):
            ["op": "pollClosed", "poll": Value(id)]
        case .voteCast(let poll, let voter, let ballot):
            ["op": "voteCast", "poll": Value(poll), "voter": .string(voter), "ballot": .object(ballot.value)]
        case .voteRetracted(let poll, let voter):
            ["op": "voteRetracted", "poll": Value(poll), "voter": .string(voter)]
        case .closed: ["op": "closed"]
        case .interview(let op): op.value
        case .groups(let op): op.value
        case .show(let op): op.value
        }
    }

    public init(value v: Value) throws(OpDecodingError) {
        guard let kind = v["op"]?.stringValue else { throw OpDecodingError("op without a name") }
        func int(_ key: String) throws(OpDecodingError) -> Int {
            guard let i = v[key]?.intValue else { throw OpDecodingError("\(kind): missing \(key)") }
            return Int(i)
        }
        func ints(_ key: String) throws(OpDecodingError) -> [Int] {
            guard let a = v[key]?.arrayValue else { throw OpDecodingError("\(kind): missing \(key)") }
            return a.compactMap { $0.intValue.map { Int($0) } }
        }
        func member() throws(OpDecodingError) -> MemberID {
            guard let id = v["member"]?.intValue else { throw OpDecodingError("\(kind): missing member") }
            return Int(id)
        }
        switch kind {
        case "created":
            guard let title = v["title"]?.stringValue, let hash = v["keyHash"]?.stringValue else {
                throw OpDecodingError("created: missing field")
            }
            self = .created(title: title, facilitatorKeyHash: hash, settings: RoomSettings(value: v["settings"]))
        case "joined":
            guard let m = v["member"] else { throw OpDecodingError("joined: missing member") }
            self = .joined(try Member(journal: m))
        case "presence":
            self = .presence(try member(), online: v["online"]?.boolValue ?? false)
        case "updated":
            self = .updated(
                try member(), name: v["name"]?.stringValue ?? "", organization: v["organization"]?.stringValue ?? "",
                expertise: v["expertise"]?.arrayValue?.compactMap(\.stringValue) ?? [], bio: v["bio"]?.stringValue ?? "")
        case "departed":
            self = .departed(try member(), removed: v["removed"]?.boolValue ?? false)
        case "keyRotated":
            guard let hash = v["keyHash"]?.stringValue else { throw OpDecodingError("keyRotated: missing keyHash") }
            self = .keyRotated(facilitatorKeyHash: hash)
        case "passcodeSet":
            self = .passcodeSet(hash: v["hash"]?.stringValue)
        case "needAdded":
            guard let n = v["need"] else { throw OpDecodingError("needAdded: missing need") }
            self = .needAdded(try Need(journal: n))
        case "needEdited":
            self = .needEdited(
                try int("need"), text: v["text"]?.stringValue ?? "", tags: v["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        case "needsMerged":
            self = .needsMerged(into: try int("into"), from: try ints("from"))
        case "needRemoved":
            self = .needRemoved(try int("need"))
        case "pollCreated":
            guard let d = v["definition"] else { throw OpDecodingError("pollCreated: missing definition") }
            self = .pollCreated(id: try int("poll"), try PollDefinition(value: d), options: try ints("options"))
        case "pollOpened":
            self = .pollOpened(id: try int("poll"), options: try ints("options"))
        case "pollClosed":
            self = .pollClosed(id: try int("poll"))
        case "closed":
            self = .closed
        case "voteCast", "voteRetracted":
            guard let voter = v["voter"]?.stringValue else { throw OpDecodingError("\(kind): missing voter") }
            if kind == "voteRetracted" {
                self = .voteRetracted(poll: try int("poll"), voter: voter)
            } else {
                guard let b = v["ballot"]?.objectValue, let k = v["kind"]?.stringValue.flatMap(PollKind.init(rawValue:)) ?? Self.kindOf(b)
                else { throw OpDecodingError("voteCast: missing ballot") }
                let ballot: Ballot
                do throws(DomainError) { ballot = try Ballot(kind: k, fields: b, maxAnswerBytes: .max) } catch {
                    throw OpDecodingError("voteCast: \(error.message)")
                }
                self = .voteCast(poll: try int("poll"), voter: voter, ballot)
            }
        default:
            if let op = try InterviewOp(value: v) {
                self = .interview(op)
            } else if let op = try GroupOp(value: v) {
                self = .groups(op)
            } else if let op = try ShowOp(value: v) {
                self = .show(op)
            } else {
                throw OpDecodingError("unknown op \(kind)")
            }
        }
    }
}

extension RoomOp {
    /// A journaled ballot's kind follows from its one field.
    static func kindOf(_ b: Value.Object) -> PollKind? {
        if b["option"] != nil { return .single }
        if b["options"] != nil { return .multi }
        if b["ranking"] != nil { return .ranking }
        if b["ratings"] != nil { return .rating }
        if b["points"] != nil { return .points }
        if b["text"] != nil { return .open }
        return nil
    }
}
