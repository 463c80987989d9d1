/// A poll in a room: definition, life cycle, ballots by voter, and the running tally.
public struct Poll: Sendable, Hashable {
    public var id: Int
    public var definition: PollDefinition
    public var state: PollState = .draft
    public var createdAt: Millis
    public var openedAt: Millis?
    public var closedAt: Millis?
    /// The facilitator showed the results to members (`poll.reveal`), whatever the poll's visibility.
    public var revealed = false
    /// Option ids: 1...n for explicit labels, need ids for polls over needs.
    public var options: [OptionID]
    /// Ballots by voter key: `m<id>` for named polls, a per-poll pseudonym for anonymous ones.
    public var ballots: [String: Ballot] = [:]
    public var tally: PollTally
    /// The key that turns member ids into this poll's pseudonyms. Exists only while an anonymous poll
    /// is open, and never in the journal or a snapshot: the server keeps it in its own file under
    /// `keys/` and deletes it at close, after which nothing can link a ballot to a member.
    public var voterKey: String? {
        didSet { if voterKey != oldValue { pseudonyms = [:] } }
    }
    /// Pseudonyms already derived from `voterKey` (a SHA-256 each, ~6 % of a vote's CPU in the vote-storm
    /// profile). Same lifetime and secrecy as the key: memory only, emptied whenever the key changes or goes.
    var pseudonyms: [MemberID: String] = [:]

    public init(id: Int, definition: PollDefinition, options: [OptionID], createdAt: Millis) {
        self.id = id
        self.definition = definition
        self.options = options
        self.createdAt = createdAt
        self.tally = PollTally(rules: Self.rules(definition, options))
    }

    static func rules(_ d: PollDefinition, _ options: [OptionID]) -> PollRules {
        PollRules(
            kind: d.kind, options: d.kind == .open ? [] : options, maxChoices: d.maxChoices, scaleMin: d.scaleMin,
            scaleMax: d.scaleMax, budget: d.budget, method: d.method)
    }

    public var rules: PollRules { tally.rules }

    /// Replaces the option set (a draft over needs opening) and recounts.
    mutating func setOptions(_ ids: [OptionID]) {
        options = ids
        tally = PollTally(rules: Self.rules(definition, ids), ballots: ballots.values)
    }

    mutating func cast(_ ballot: Ballot, by voter: String) {
        // One hash of the voter key: store first, then count (the tally does not look at `ballots`).
        if let old = ballots.updateValue(ballot, forKey: voter) {
            tally.replace(old, with: ballot)
        } else {
            tally.add(ballot)
        }
    }

    mutating func retract(_ voter: String) {
        guard let old = ballots.removeValue(forKey: voter) else { return }
        tally.remove(old)
    }

    /// Need merges follow through: ballots for the merged needs now count for the target.
    mutating func mergeOptions(_ from: [OptionID], into target: OptionID) {
        guard options.contains(where: { from.contains($0) }) else { return }
        let voters = Array(ballots.keys)
        let remapped = tally.mergeOptions(from, into: target, ballots: voters.map { ballots[$0]! })
        for (v, b) in zip(voters, remapped) { ballots[v] = b }
        options = tally.rules.options
    }

    mutating func removeOption(_ option: OptionID) {
        guard options.contains(option) else { return }
        let voters = Array(ballots.keys)
        let reduced = tally.removeOption(option, ballots: voters.map { ballots[$0]! })
        for (v, b) in zip(voters, reduced) { ballots[v] = b }
        options = tally.rules.options
    }
}

extension Ballot {
    /// The ballot as JSON, in the same shape `vote.cast` takes it.
    public var value: Value.Object {
        switch self {
        case .single(let o): ["option": Value(o)]
        case .multi(let os): ["options": .array(os.map { Value($0) })]
        case .ranking(let os): ["ranking": .array(os.map { Value($0) })]
        case .rating(let m): ["ratings": .object(Self.mapValue(m))]
        case .points(let m): ["points": .object(Self.mapValue(m))]
        case .open(let t): ["text": .string(t)]
        }
    }

    private static func mapValue(_ m: [OptionID: Int]) -> Value.Object {
        Value.Object(m.sorted { $0.key < $1.key }.map { (String($0.key), Value($0.value)) })
    }

    /// Reads a ballot of the given kind from request or journal fields; the message names the field at fault.
    public init(kind: PollKind, fields o: Value.Object, maxAnswerBytes: Int = 4_000) throws(DomainError) {
        func id(_ v: Value, _ field: String) throws(DomainError) -> OptionID {
            guard let i = v.intValue, i >= 0, i < Int64(Int32.max) else { throw .invalidField(field, "must hold option ids") }
            return Int(i)
        }
        func ids(_ field: String) throws(DomainError) -> [OptionID] {
            guard let a = o[field]?.arrayValue else { throw .invalidField(field, "must be an array of option ids") }
            var out: [OptionID] = []
            out.reserveCapacity(a.count)
            for v in a { out.append(try id(v, field)) }
            return out
        }
        func map(_ field: String) throws(DomainError) -> [OptionID: Int] {
            guard let m = o[field]?.objectValue else {
                throw .invalidField(field, "must be an object from option id to an integer")
            }
            var out: [OptionID: Int] = [:]
            for (k, v) in m {
                guard let key = Int(k), key >= 0 else { throw .invalidField(field, "keys must be option ids") }
                guard let n = v.intValue, abs(n) <= 1_000_000_000 else { throw .invalidField(field, "values must be integers") }
                out[key] = Int(n)
            }
            return out
        }
        switch kind {
        case .single:
            guard let v = o["option"] else { throw .invalidField("option", "is required for a single-choice poll") }
            self = .single(try id(v, "option"))
        case .multi: self = .multi(try ids("options"))
        case .ranking: self = .ranking(try ids("ranking"))
        case .rating: self = .rating(try map("ratings"))
        case .points: self = .points(try map("points"))
        case .open:
            guard let t = o["text"]?.stringValue else { throw .invalidField("text", "is required for an open poll") }
            if t.utf8.count > maxAnswerBytes { throw .tooLarge("text", limit: maxAnswerBytes) }
            self = .open(t)
        }
    }
}
