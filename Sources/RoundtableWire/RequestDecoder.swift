import RoundtableCore

/// A decoded client frame: the command and the `ref` to echo.
public struct Request: Sendable {
    public var ref: Value?
    public var type: String
    public var command: Command
}

/// A frame that could not become a request: the error to reply with, and the `ref` if one was readable.
public struct RejectedFrame: Error, Sendable {
    public var ref: Value?
    public var error: DomainError
}

/// Turns one text frame into a `Request`. Knows JSON shapes and types, not rooms or limits of a room.
public enum RequestDecoder {
    /// Nesting deeper than this is refused before it can cost anything: no request needs more than 4.
    public static let maxDepth = 8
    /// Arrays in requests (tags, options, ballots) are capped here; tighter room limits apply later.
    public static let maxArray = 1_000

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(RejectedFrame) -> Request {
        let value: Value
        do {
            value = try JSON.parse(bytes, maxDepth: maxDepth)
        } catch {
            throw RejectedFrame(ref: nil, error: DomainError("bad_json", "not valid JSON: \(error)"))
        }
        guard case .object(let object) = value else {
            throw RejectedFrame(ref: nil, error: DomainError("bad_json", "a request must be a JSON object"))
        }
        let ref = object["ref"]
        if let ref, !Self.isValidRef(ref) {
            throw RejectedFrame(ref: nil, error: .invalidField("ref", "must be a string of at most 64 characters or an integer"))
        }
        guard let typeValue = object["type"] else {
            throw RejectedFrame(ref: ref, error: .invalidField("type", "is required"))
        }
        guard let type = typeValue.stringValue else {
            throw RejectedFrame(ref: ref, error: .invalidField("type", "must be a string"))
        }
        do {
            return Request(ref: ref, type: type, command: try command(type, Fields(object: object)))
        } catch {
            throw RejectedFrame(ref: ref, error: error)
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(RejectedFrame) -> Request {
        let result: Result<Request, RejectedFrame> = bytes.withUnsafeBytes { raw in
            do throws(RejectedFrame) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func isValidRef(_ v: Value) -> Bool {
        switch v {
        case .int: true
        case .string(let s): s.utf8.count <= 64
        default: false
        }
    }

    static func command(_ type: String, _ f: Fields) throws(DomainError) -> Command {
        switch type {
        case "room.create":
            return .createRoom(
                .init(
                    title: try f.string("title"), name: try f.string("name"),
                    organization: try f.optionalString("organization") ?? "", settings: try settings(f),
                    createToken: try f.optionalString("createToken")))
        case "room.join":
            let roleName = try f.optionalString("role") ?? "member"
            guard let role = Role(rawValue: roleName) else {
                throw .invalidField("role", "must be member, observer or facilitator")
            }
            if role == .facilitator, try f.optionalString("facilitatorKey") == nil {
                throw .invalidField("role", "facilitator needs facilitatorKey")
            }
            let since = try f.optionalInt("since")
            if let since, since < 0 { throw .invalidField("since", "must not be negative") }
            return .join(
                .init(
                    code: try f.string("room"), name: try f.optionalString("name"),
                    organization: try f.optionalString("organization"), role: role,
                    facilitatorKey: try f.optionalString("facilitatorKey"), token: try f.optionalString("token"),
                    since: since.map(UInt64.init)))
        case "room.leave":
            return .leave
        case "room.rotateKey":
            return .rotateKey
        case "member.update":
            return .updateMember(
                .init(
                    name: try f.optionalString("name"), organization: try f.optionalString("organization"),
                    expertise: try f.optionalStrings("expertise", maxCount: maxArray), bio: try f.optionalString("bio")))
        case "member.remove":
            return .removeMember(try f.memberID("member"))
        case "need.submit":
            return .submitNeed(text: try f.string("text"), tags: try f.optionalStrings("tags", maxCount: maxArray) ?? [])
        case "need.edit":
            return .editNeed(try f.id("need"), text: try f.optionalString("text"), tags: try f.optionalStrings("tags", maxCount: maxArray))
        case "need.merge":
            guard let from = try f.optionalArray("from", maxCount: maxArray) else { throw .invalidField("from", "is required") }
            var ids: [Int] = []
            for v in from {
                guard let i = v.intValue, i > 0, i < Int64(Int32.max) else { throw .invalidField("from", "must be an array of need ids") }
                ids.append(Int(i))
            }
            return .mergeNeeds(into: try f.id("into"), from: ids)
        case "need.remove":
            return .removeNeed(try f.id("need"))
        case "poll.create":
            return .createPoll(try pollDefinition(f, prefix: ""), openNow: try f.optionalBool("open") ?? false)
        case "poll.import":
            // Either {"polls": [...]} or a whole activity file {"activity": {"polls": [...]}}.
            var source = f
            if let activity = try f.optionalObject("activity") { source = Fields(object: activity) }
            guard let list = try source.optionalArray("polls", maxCount: 200) else { throw .invalidField("polls", "is required") }
            var defs: [PollDefinition] = []
            for (i, v) in list.enumerated() {
                guard let o = v.objectValue else { throw .invalidField("polls[\(i)]", "must be an object") }
                defs.append(try pollDefinition(Fields(object: o), prefix: "polls[\(i)]."))
            }
            return .importPolls(defs)
        case "poll.open":
            return .openPoll(try f.id("poll"))
        case "poll.close":
            return .closePoll(try f.id("poll"))
        case "vote.cast":
            var ballot = f.object
            ballot["type"] = nil
            ballot["ref"] = nil
            return .castVote(poll: try f.id("poll"), ballot: ballot)
        case "vote.retract":
            return .retractVote(poll: try f.id("poll"))
        default:
            throw DomainError("unknown_type", "unknown request type \"\(type.prefix(64))\"")
        }
    }

    static func pollDefinition(_ f: Fields, prefix: String) throws(DomainError) -> PollDefinition {
        func named(_ e: DomainError) -> DomainError { DomainError(e.code, prefix + e.message) }
        do throws(DomainError) {
            let kindName = try f.string("kind")
            guard let kind = PollKind(rawValue: kindName) else {
                throw DomainError.invalidField("kind", "must be one of single, multi, rating, ranking, points, open")
            }
            var method: RankingMethod?
            if let m = try f.optionalString("method") {
                guard let parsed = RankingMethod(rawValue: m) else {
                    throw DomainError.invalidField("method", "must be one of count, points, mean-rating, borda, schulze")
                }
                method = parsed
            }
            var visibility = ResultsVisibility.live
            if let v = try f.optionalString("visibility") {
                guard let parsed = ResultsVisibility(rawValue: v) else {
                    throw DomainError.invalidField("visibility", "must be live, after-close or facilitator")
                }
                visibility = parsed
            }
            func small(_ key: String) throws(DomainError) -> Int? {
                guard let i = try f.optionalInt(key) else { return nil }
                guard abs(i) <= 1_000_000 else { throw DomainError.invalidField(key, "is out of range") }
                return Int(i)
            }
            return PollDefinition(
                question: try f.string("question"), kind: kind, labels: try f.optionalStrings("options", maxCount: maxArray) ?? [],
                overNeeds: try f.optionalBool("overNeeds") ?? false, anonymous: try f.optionalBool("anonymous") ?? true,
                visibility: visibility, maxChoices: try small("maxChoices"), scaleMin: try small("scaleMin") ?? 1,
                scaleMax: try small("scaleMax") ?? 5, budget: try small("budget") ?? 100, method: method)
        } catch {
            throw named(error)
        }
    }

    static func settings(_ f: Fields) throws(DomainError) -> RoomSettings {
        var s = RoomSettings()
        guard let o = try f.optionalObject("settings") else { return s }
        let sf = Fields(object: o)
        if let b = try sf.optionalBool("showNeedOrganization") { s.showNeedOrganization = b }
        if let b = try sf.optionalBool("openAnswersBecomeNeeds") { s.openAnswersBecomeNeeds = b }
        return s
    }
}
