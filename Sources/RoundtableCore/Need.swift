/// A need a member's organization has, as submitted and later edited, merged or removed.
public struct Need: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        case active
        case merged(into: Int)
        case removed
    }

    public var id: Int
    public var text: String
    public var tags: [String]
    /// Who submitted it; never shown to other members (only the organization, if the room says so).
    public var submitter: MemberID?
    public var organization: String
    public var createdAt: Millis
    public var status: Status = .active
    /// Needs merged into this one, so a facilitator can see what collapsed.
    public var mergedFrom: [Int] = []
    /// The open-text poll this need came from, if any.
    public var fromPoll: Int?

    public init(
        id: Int, text: String, tags: [String], submitter: MemberID?, organization: String, createdAt: Millis,
        fromPoll: Int? = nil
    ) {
        self.id = id
        self.text = text
        self.tags = tags
        self.submitter = submitter
        self.organization = organization
        self.createdAt = createdAt
        self.fromPoll = fromPoll
    }

    public var isActive: Bool { status == .active }

    /// The need as members see it: no submitter, organization only if the room shows it.
    public func publicValue(showOrganization: Bool) -> Value {
        var o: Value.Object = [
            "id": Value(id), "text": .string(text), "tags": Value(tags), "createdAt": .int(createdAt),
        ]
        if showOrganization && !organization.isEmpty { o["organization"] = .string(organization) }
        if !mergedFrom.isEmpty { o["mergedFrom"] = .array(mergedFrom.map { Value($0) }) }
        if let fromPoll { o["fromPoll"] = Value(fromPoll) }
        return .object(o)
    }

    var journalValue: Value {
        var o: Value.Object = [
            "id": Value(id), "text": .string(text), "tags": Value(tags), "organization": .string(organization),
            "createdAt": .int(createdAt),
        ]
        if let submitter { o["submitter"] = Value(submitter) }
        if let fromPoll { o["fromPoll"] = Value(fromPoll) }
        return .object(o)
    }

    init(journal v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.intValue, let text = v["text"]?.stringValue, let at = v["createdAt"]?.intValue else {
            throw OpDecodingError("need: missing field")
        }
        self.init(
            id: Int(id), text: text, tags: v["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            submitter: v["submitter"]?.intValue.map { Int($0) }, organization: v["organization"]?.stringValue ?? "",
            createdAt: at, fromPoll: v["fromPoll"]?.intValue.map { Int($0) })
    }
}

/// Who can see a poll's results, and when. Facilitators always see live results.
public enum ResultsVisibility: String, Sendable, Hashable, CaseIterable {
    /// Everyone, as votes come in.
    case live
    /// Everyone once the poll closes.
    case afterClose = "after-close"
    /// Each member once they have answered, everyone once the poll closes.
    case afterVote = "after-vote"
    /// Facilitators only, until the facilitator reveals them (`poll.reveal`).
    case facilitator
}

/// A poll's life: prepared, collecting ballots, done.
public enum PollState: String, Sendable, Hashable {
    case draft, open, closed
}

/// A poll as defined by its facilitator; the mutable parts (state, ballots, tally) live in `Poll`.
public struct PollDefinition: Sendable, Hashable {
    public var question: String
    public var kind: PollKind
    /// Explicit option labels; empty when `overNeeds`.
    public var labels: [String]
    /// Options are the room's active needs (taken when the poll opens; merges follow through).
    public var overNeeds: Bool
    /// Fixed at creation: can never be turned off.
    public var anonymous: Bool
    public var visibility: ResultsVisibility
    public var maxChoices: Int?
    public var scaleMin: Int
    public var scaleMax: Int
    public var budget: Int
    public var method: RankingMethod?

    public init(
        question: String, kind: PollKind, labels: [String] = [], overNeeds: Bool = false, anonymous: Bool = true,
        visibility: ResultsVisibility = .live, maxChoices: Int? = nil, scaleMin: Int = 1, scaleMax: Int = 5,
        budget: Int = 100, method: RankingMethod? = nil
    ) {
        self.question = question
        self.kind = kind
        self.labels = labels
        self.overNeeds = overNeeds
        self.anonymous = anonymous
        self.visibility = visibility
        self.maxChoices = maxChoices
        self.scaleMin = scaleMin
        self.scaleMax = scaleMax
        self.budget = budget
        self.method = method
    }

    public var value: Value {
        var o: Value.Object = [
            "question": .string(question), "kind": .string(kind.rawValue), "anonymous": .bool(anonymous),
            "visibility": .string(visibility.rawValue), "overNeeds": .bool(overNeeds),
        ]
        if !overNeeds && kind != .open { o["options"] = Value(labels) }
        switch kind {
        case .multi: if let maxChoices { o["maxChoices"] = Value(maxChoices) }
        case .rating:
            o["scaleMin"] = Value(scaleMin)
            o["scaleMax"] = Value(scaleMax)
        case .points: o["budget"] = Value(budget)
        default: break
        }
        o["method"] = .string((method ?? kind.defaultMethod).rawValue)
        return .object(o)
    }

    public init(value v: Value) throws(OpDecodingError) {
        guard let q = v["question"]?.stringValue, let kind = v["kind"]?.stringValue.flatMap(PollKind.init(rawValue:)) else {
            throw OpDecodingError("poll: missing question or kind")
        }
        self.init(
            question: q, kind: kind, labels: v["options"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            overNeeds: v["overNeeds"]?.boolValue ?? false, anonymous: v["anonymous"]?.boolValue ?? true,
            visibility: v["visibility"]?.stringValue.flatMap(ResultsVisibility.init(rawValue:)) ?? .live,
            maxChoices: v["maxChoices"]?.intValue.map { Int($0) }, scaleMin: Int(v["scaleMin"]?.intValue ?? 1),
            scaleMax: Int(v["scaleMax"]?.intValue ?? 5), budget: Int(v["budget"]?.intValue ?? 100),
            method: v["method"]?.stringValue.flatMap(RankingMethod.init(rawValue:)))
    }
}
