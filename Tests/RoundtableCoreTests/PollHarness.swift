@testable import RoundtableCore

/// Helpers for coordinator tests of needs and polls, on top of `Harness`.
///
/// Conventions: the facilitator is connection 1 (member 1); `pollRoom(members:)` joins members on
/// connections 2, 3, … in order, so a member's id equals its connection id.
/// A deterministic stand-in for SHA-256 (64 hex digits) whose every digit depends on the whole input.
///
/// Poll tests need it: `TestHasher`'s readable `h(…)` keeps the secret in order, and the coordinator's
/// anonymous pseudonym is the first 32 characters of `digest("key:poll:member")`, which with `TestHasher`
/// stops before the member id, so every member of an anonymous poll would share a single ballot.
struct SpreadHasher: SecretHasher {
    func digest(_ secret: String) -> String {
        var out = ""
        for seed: UInt64 in [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4, 0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9] {
            var h = seed
            for b in secret.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            h ^= h >> 33
            h = h &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 33
            let hex = String(h, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }
}

extension Harness {
    /// A harness whose coordinator hashes like the server does (see `SpreadHasher`).
    static func polls(limits: Limits = Limits()) -> Harness {
        var h = Harness(limits: limits)
        h.coordinator = Coordinator(limits: limits, entropy: SeededEntropy(seed: 42), hasher: SpreadHasher())
        return h
    }

    /// A room with a facilitator and `count` members.
    mutating func pollRoom(members count: Int = 3) -> String {
        let (code, _, _) = createRoom()
        for i in 0..<count { join(ConnectionID(2 + i), code, "M\(i)", org: "Org \(i)") }
        return code
    }

    @discardableResult
    mutating func observe(_ c: ConnectionID, _ code: String) -> Value.Object {
        send(c, .join(.init(code: code, name: "Olga", role: .observer)))
    }

    /// Submits a need from connection `c`; returns its id.
    mutating func need(_ c: ConnectionID, _ text: String, tags: [String] = []) -> Int {
        let ack = send(c, .submitNeed(text: text, tags: tags))
        guard let id = ack["need"]?.intValue else { fatalError("need.submit refused: \(ack)") }
        return Int(id)
    }

    /// Creates a poll from the facilitator (connection 1); returns its id.
    mutating func poll(_ def: PollDefinition, open: Bool = true) -> Int {
        let ack = send(1, .createPoll(def, openNow: open))
        guard let id = ack["poll"]?.intValue else { fatalError("poll.create refused: \(ack)") }
        return Int(id)
    }

    @discardableResult
    mutating func vote(_ c: ConnectionID, _ poll: Int, _ ballot: Value.Object) -> Value.Object {
        send(c, .castVote(poll: poll, ballot: ballot))
    }

    /// Lets time pass to `at` and runs what the coordinator flushes.
    @discardableResult
    mutating func tick(at t: Millis) -> [Effect] {
        now = max(now, t)
        let effects = coordinator.tick(at: t)
        run(effects)
        return effects
    }

    /// Ticks far enough after everything so far that any pending update is flushed, then empties every inbox.
    mutating func flushAndDrain() {
        tick(at: now + 10_000)
        inbox = [:]
    }

    /// Bodies of the messages of `type` connection `c` received and has not drained.
    func received(_ c: ConnectionID, _ type: String) -> [Value.Object] {
        (inbox[c] ?? []).filter { $0.type == type }.map(\.body)
    }

    func room(_ code: String) -> Room { coordinator.rooms[code]! }

    func pollOf(_ code: String, _ id: Int) -> Poll { coordinator.rooms[code]!.polls[id]! }
}

/// Ballot fields as `vote.cast` carries them.
enum Cast {
    static func single(_ o: Int) -> Value.Object { ["option": Value(o)] }
    static func multi(_ os: [Int]) -> Value.Object { ["options": .array(os.map { Value($0) })] }
    static func ranking(_ os: [Int]) -> Value.Object { ["ranking": .array(os.map { Value($0) })] }
    static func rating(_ m: [Int: Int]) -> Value.Object { ["ratings": .object(map(m))] }
    static func points(_ m: [Int: Int]) -> Value.Object { ["points": .object(map(m))] }
    static func text(_ s: String) -> Value.Object { ["text": .string(s)] }

    private static func map(_ m: [Int: Int]) -> Value.Object {
        Value.Object(m.sorted { $0.key < $1.key }.map { (String($0.key), Value($0.value)) })
    }
}

extension PollDefinition {
    /// A poll with labelled options a, b, c, … .
    static func labelled(_ kind: PollKind, _ n: Int = 3, _ configure: (inout PollDefinition) -> Void = { _ in }) -> PollDefinition {
        var d = PollDefinition(question: "A \(kind.rawValue) poll", kind: kind, labels: (0..<n).map { String(UnicodeScalar(97 + $0)!) })
        if kind == .open { d.labels = [] }
        configure(&d)
        return d
    }

    /// A poll whose options are the room's needs.
    static func overNeeds(_ kind: PollKind, _ configure: (inout PollDefinition) -> Void = { _ in }) -> PollDefinition {
        var d = PollDefinition(question: "Needs by \(kind.rawValue)", kind: kind, overNeeds: true)
        configure(&d)
        return d
    }
}

extension Poll {
    /// What must survive a replay or a snapshot: everything but the voter key, which lives outside both.
    var durable: DurablePoll {
        DurablePoll(
            id: id, definition: definition.value, state: state, createdAt: createdAt, openedAt: openedAt,
            closedAt: closedAt, options: options, ruleOptions: tally.rules.options, ballots: ballots,
            results: tally.results(), ballotsCounted: tally.ballots,
            refusedBallots: ballots.values.filter { tally.rules.validate($0) != nil }.count)
    }
}

/// A poll's durable content; the definition in its normalized (journal) form.
struct DurablePoll: Hashable {
    var id: Int
    var definition: Value
    var state: PollState
    var createdAt: Millis
    var openedAt: Millis?
    var closedAt: Millis?
    var options: [OptionID]
    var ruleOptions: [OptionID]
    var ballots: [String: Ballot]
    var results: PollResults
    var ballotsCounted: Int
    /// Stored ballots the poll's own rules refuse: always 0 in a consistent poll.
    var refusedBallots: Int
}
