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
        default:
            throw DomainError("unknown_type", "unknown request type \"\(type.prefix(64))\"")
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
