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
        // First: the cases are compared in order, and under load nearly every request is a vote.
        case "vote.cast":
            // The ballot reads only its kind's field (`ranking`, `option`, …); the request's other fields
            // stay in the object rather than costing a copy of it per vote.
            return .castVote(poll: try f.id("poll"), ballot: f.object)
        case "room.create":
            return .createRoom(
                .init(
                    title: try f.string("title"), name: try f.string("name"),
                    organization: try f.optionalString("organization") ?? "", settings: try settings(f),
                    createToken: try f.optionalString("createToken"), passcode: try f.optionalString("passcode"),
                    community: try roomCommunity(f)))
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
                    since: since.map(UInt64.init), passcode: try f.optionalString("passcode"),
                    communityKey: try f.optionalString("communityKey")))
        case "room.leave":
            return .leave
        case "room.rotateKey":
            return .rotateKey
        case "room.close":
            return .closeRoom
        case "room.setPasscode":
            return .setPasscode(try f.optionalString("passcode"))
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
        case "vote.retract":
            return .retractVote(poll: try f.id("poll"))
        default:
            return try sessionCommand(type, f)
        }
    }

    /// Interviews, groups, announcements and timers.
    static func sessionCommand(_ type: String, _ f: Fields) throws(DomainError) -> Command {
        switch type {
        case "interviews.start":
            return .startInterviews(try interviewSettings(f))
        case "interviews.next": return .nextInterviewRound
        case "interviews.end": return .endInterviews
        case "interview.note":
            return .interviewNote(about: try f.memberID("about"), text: try f.string("text"), shared: try f.optionalBool("shared") ?? false)
        case "interview.accept": return .acceptHighlight(try f.id("highlight"))
        case "interview.rematch": return .rematch
        case "groups.create":
            let modeName = try f.optionalString("mode") ?? "assigned"
            guard let mode = GroupMode(rawValue: modeName) else { throw .invalidField("mode", "must be assigned or self-select") }
            guard let list = try f.optionalArray("groups", maxCount: maxArray) else { throw .invalidField("groups", "is required") }
            var specs: [Coordinator.GroupSpec] = []
            for (i, v) in list.enumerated() {
                guard let o = v.objectValue else { throw .invalidField("groups[\(i)]", "must be an object") }
                let g = Fields(object: o)
                let cap = try g.optionalInt("capacity")
                if let cap, cap < 1 || cap > 1_000_000 { throw .invalidField("groups[\(i)].capacity", "must be 1...1000000") }
                specs.append(.init(name: try g.string("name"), description: try g.optionalString("description") ?? "", capacity: cap.map { Int($0) }))
            }
            return .createGroups(mode, specs)
        case "groups.assign":
            var explicit: [MemberID: Int]?
            if let map = try f.optionalObject("assignments") {
                var out: [MemberID: Int] = [:]
                for (k, v) in map {
                    guard let m = Int(k), m > 0 else { throw .invalidField("assignments", "keys must be member ids") }
                    guard let g = v.intValue, g > 0, g < Int64(Int32.max) else { throw .invalidField("assignments", "values must be group ids") }
                    out[m] = Int(g)
                }
                explicit = out
            }
            let strategy = try f.optionalString("strategy")
            if explicit == nil && strategy == nil { throw .invalidField("assignments", "or strategy is required") }
            return .assignGroups(explicit: explicit, strategy: strategy)
        case "groups.fromNeeds":
            let count = try f.optionalInt("count") ?? 5
            let cap = try f.optionalInt("capacity")
            guard (1...10_000).contains(count) else { throw .invalidField("count", "must be 1...10000") }
            if let cap, cap < 1 || cap > 1_000_000 { throw .invalidField("capacity", "must be 1...1000000") }
            return .groupsFromNeeds(count: Int(count), capacity: cap.map { Int($0) })
        case "group.join": return .joinGroup(try f.id("group"))
        case "group.leave": return .leaveGroup
        case "groups.save": return .saveGrouping(try f.string("name"))
        case "groups.apply": return .applyGrouping(try f.string("name"))
        case "room.announce":
            return .announce(text: try f.string("text"), group: f.object["group"] == nil ? nil : try f.id("group"))
        case "timer.start":
            let seconds = try f.int("seconds")
            guard (1...86_400).contains(seconds) else { throw .invalidField("seconds", "must be 1...86400") }
            return .startTimer(seconds: Int(seconds), label: try f.optionalString("label") ?? "", group: f.object["group"] == nil ? nil : try f.id("group"))
        case "timer.stop": return .stopTimer(try f.id("timer"))
        case "agenda.set", "agenda.next", "agenda.goto", "wall.show", "poll.reveal", "room.clearAnnouncement":
            return try showCommand(type, f)
        case "call.signal": return .callSignal(to: try f.memberID("to"), try callSignal(f))
        case "call.ice": return .callIce
        case "community.create", "community.import", "community.export", "community.reissueKey", "community.needStatus":
            return try communityCommand(type, f)
        case "community.profile", "community.directory", "community.groups", "community.view":
            return try communityMemberCommand(type, f)
        default:
            throw DomainError("unknown_type", "unknown request type \"\(String(type.unicodeScalars.prefix(64)))\"")
        }
    }

    /// The fields of `interviews.start` (also an agenda interview step's `interviews` object).
    static func interviewSettings(_ f: Fields) throws(DomainError) -> InterviewSettings {
        var s = InterviewSettings()
        if let name = try f.optionalString("strategy") {
            guard let st = PairingStrategy(rawValue: name) else {
                throw .invalidField("strategy", "must be random, cross-organization or need-expertise")
            }
            s.strategy = st
        }
        if let t = try f.optionalInt("turnSeconds") { s.turnMs = clampSeconds(t) }
        if let t = try f.optionalInt("reportSeconds") { s.reportMs = clampSeconds(t) }
        if let t = try f.optionalInt("lateJoinGraceSeconds") { s.lateJoinGraceMs = clampSeconds(t) }
        if let t = try f.optionalInt("partnerGraceSeconds") { s.partnerGraceMs = clampSeconds(t) }
        s.prompts = try f.optionalStrings("prompts", maxCount: maxArray) ?? []
        s.linkTemplate = try f.optionalString("linkTemplate")
        if f.object["group"] != nil { s.group = try f.id("group") }
        return s
    }

    /// `signal` of `call.signal`: only the fields WebRTC needs are kept (the rest is never relayed).
    static func callSignal(_ f: Fields) throws(DomainError) -> CallSignal {
        guard let o = try f.optionalObject("signal") else { throw .invalidField("signal", "is required") }
        let sf = Fields(object: o)
        func named(_ e: DomainError) -> DomainError { DomainError(e.code, "signal." + e.message) }
        do throws(DomainError) {
            guard let kind = CallSignalKind(rawValue: try sf.string("kind")) else {
                throw DomainError.invalidField("kind", "must be offer, answer, candidate, hangup or ready")
            }
            var s = CallSignal(kind: kind)
            if let session = try sf.optionalInt("session") {
                guard (0...CallSignal.maxSession).contains(session) else {
                    throw DomainError.invalidField("session", "must be 0...\(CallSignal.maxSession)")
                }
                s.session = session
            }
            switch kind {
            case .offer, .answer:
                s.sdp = try sf.string("sdp")
            case .candidate:
                guard let c = try sf.optionalObject("candidate") else { throw DomainError.invalidField("candidate", "is required") }
                let cf = Fields(object: c)
                s.candidate = try cf.string("candidate")
                s.sdpMid = try cf.optionalString("sdpMid")
                if let i = try cf.optionalInt("sdpMLineIndex") {
                    guard (0...1_000).contains(i) else { throw DomainError.invalidField("candidate.sdpMLineIndex", "must be 0...1000") }
                    s.sdpMLineIndex = Int(i)
                }
                s.usernameFragment = try cf.optionalString("usernameFragment")
            case .hangup, .ready:
                break
            }
            return s
        } catch {
            throw named(error)
        }
    }

    /// Seconds from a request as milliseconds; out-of-range values are left for the coordinator to refuse.
    static func clampSeconds(_ s: Int64) -> Millis { max(-1, min(s, 1_000_000)) * 1000 }

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
                    throw DomainError.invalidField("visibility", "must be live, after-vote, after-close or facilitator")
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
