/// The phases of one interview round, driven by server-side timers.
public enum InterviewPhase: String, Sendable, Hashable {
    /// The first asker interviews their partner.
    case firstTurn = "first-turn"
    /// Roles swap.
    case secondTurn = "second-turn"
    /// Pairs report back what they learned.
    case report
    /// The round is over; the facilitator starts the next or ends the session.
    case done

    var next: InterviewPhase {
        switch self {
        case .firstTurn: .secondTurn
        case .secondTurn: .report
        case .report, .done: .done
        }
    }
}

/// Settings of an appreciative-interview session, chosen by the facilitator at `interviews.start`.
public struct InterviewSettings: Sendable, Hashable {
    public var strategy: PairingStrategy = .random
    public var turnMs: Millis = 5 * 60_000
    public var reportMs: Millis = 3 * 60_000
    public var prompts: [String] = []
    /// e.g. `https://meet.example.org/{room}-{round}-{pair}`.
    public var linkTemplate: String?
    /// Only members of this group take part; nil = every present member.
    public var group: Int?
    /// A late joiner waits this long for another late joiner before joining a trio.
    public var lateJoinGraceMs: Millis = 60_000
    /// A partner offline this long is reported gone (`interview.partner-left`).
    public var partnerGraceMs: Millis = 60_000

    public init() {}

    var value: Value {
        var o: Value.Object = [
            "strategy": .string(strategy.rawValue), "turnSeconds": .int(turnMs / 1000), "reportSeconds": .int(reportMs / 1000),
            "prompts": Value(prompts), "lateJoinGraceSeconds": .int(lateJoinGraceMs / 1000),
            "partnerGraceSeconds": .int(partnerGraceMs / 1000),
        ]
        if let linkTemplate { o["linkTemplate"] = .string(linkTemplate) }
        if let group { o["group"] = Value(group) }
        return .object(o)
    }

    init(value v: Value) {
        self.init()
        if let s = v["strategy"]?.stringValue.flatMap(PairingStrategy.init(rawValue:)) { strategy = s }
        if let t = v["turnSeconds"]?.intValue { turnMs = t * 1000 }
        if let t = v["reportSeconds"]?.intValue { reportMs = t * 1000 }
        prompts = v["prompts"]?.arrayValue?.compactMap(\.stringValue) ?? []
        linkTemplate = v["linkTemplate"]?.stringValue
        group = v["group"]?.intValue.map { Int($0) }
        if let t = v["lateJoinGraceSeconds"]?.intValue { lateJoinGraceMs = t * 1000 }
        if let t = v["partnerGraceSeconds"]?.intValue { partnerGraceMs = t * 1000 }
    }
}

/// One pair (or the trio) of a round.
public struct InterviewPair: Sendable, Hashable {
    public var id: Int
    public var members: [MemberID]
    /// Who asks first; roles swap in the second turn.
    public var firstAsker: MemberID
    public var link: String?

    public init(id: Int, members: [MemberID], firstAsker: MemberID, link: String?) {
        self.id = id
        self.members = members
        self.firstAsker = firstAsker
        self.link = link
    }

    var value: Value {
        var o: Value.Object = ["id": Value(id), "members": .array(members.map { Value($0) }), "firstAsker": Value(firstAsker)]
        if let link { o["link"] = .string(link) }
        return .object(o)
    }

    init?(value v: Value) {
        guard let id = v["id"]?.intValue, let ms = v["members"]?.arrayValue, let first = v["firstAsker"]?.intValue else {
            return nil
        }
        self.init(id: Int(id), members: ms.compactMap { $0.intValue.map { Int($0) } }, firstAsker: Int(first), link: v["link"]?.stringValue)
    }
}

/// A note one member wrote about a partner. Private notes go only to author and partner; shared ones
/// become highlights everyone sees, and expertise on the partner's profile once the partner accepts.
public struct InterviewNote: Sendable, Hashable {
    public var id: Int
    public var author: MemberID
    public var about: MemberID
    public var text: String
    public var shared: Bool
    public var accepted: Bool = false
    public var round: Int
    public var at: Millis

    var value: Value {
        [
            "id": Value(id), "author": Value(author), "about": Value(about), "text": .string(text), "shared": .bool(shared),
            "accepted": .bool(accepted), "round": Value(round), "at": .int(at),
        ]
    }

    init(id: Int, author: MemberID, about: MemberID, text: String, shared: Bool, round: Int, at: Millis) {
        self.id = id
        self.author = author
        self.about = about
        self.text = text
        self.shared = shared
        self.round = round
        self.at = at
    }

    init?(value v: Value) {
        guard let id = v["id"]?.intValue, let author = v["author"]?.intValue, let about = v["about"]?.intValue,
            let text = v["text"]?.stringValue
        else { return nil }
        self.init(
            id: Int(id), author: Int(author), about: Int(about), text: text, shared: v["shared"]?.boolValue ?? false,
            round: Int(v["round"]?.intValue ?? 0), at: v["at"]?.intValue ?? 0)
        accepted = v["accepted"]?.boolValue ?? false
    }
}

/// The interview state of a room.
public struct InterviewSession: Sendable, Hashable {
    public var active = false
    public var settings = InterviewSettings()
    public var round = 0
    public var phase: InterviewPhase = .done
    public var phaseEndsAt: Millis = 0
    public var pairs: [InterviewPair] = []
    /// Every pair of the session so far, so no pair repeats while a fresh one exists.
    public var history: Set<PairKey> = []
    /// Late joiners and members asking for a rematch, with when they started waiting.
    public var waiting: [(member: MemberID, since: Millis)] = []
    public var unmet = 0
    public var nextPairID = 1
    public var notes: [Int: InterviewNote] = [:]
    public var nextNoteID = 1

    public init() {}

    public static func == (a: InterviewSession, b: InterviewSession) -> Bool {
        a.active == b.active && a.settings == b.settings && a.round == b.round && a.phase == b.phase
            && a.phaseEndsAt == b.phaseEndsAt && a.pairs == b.pairs && a.history == b.history
            && a.waiting.map(\.member) == b.waiting.map(\.member) && a.waiting.map(\.since) == b.waiting.map(\.since)
            && a.unmet == b.unmet && a.nextPairID == b.nextPairID && a.notes == b.notes && a.nextNoteID == b.nextNoteID
    }

    public func hash(into h: inout Hasher) {
        h.combine(round)
        h.combine(pairs)
    }

    public func pair(of member: MemberID) -> InterviewPair? {
        pairs.first { $0.members.contains(member) }
    }

    /// Records a pair in the history (every two members of a trio count as a pair).
    mutating func remember(_ members: [MemberID]) {
        for i in 0..<members.count {
            for j in (i + 1)..<members.count { history.insert(PairKey(members[i], members[j])) }
        }
    }
}
