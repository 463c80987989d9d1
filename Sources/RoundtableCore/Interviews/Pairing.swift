// Pairing members for appreciative interviews, round after round.
//
// The rules, in priority order (a lower rule never outweighs a higher one):
// 1. Everyone is in exactly one group: pairs, plus one trio when the count is odd. Never alone,
//    except a single candidate, who cannot be paired at all.
// 2. No pair that already met in an earlier round (`history`) while a fresh arrangement exists.
// 3. The strategy's wish: members of different organizations (`crossOrganization`), or a member's
//    interests meeting the partner's expertise (`needExpertise`). `random` has no wish.
//
// The cost of an arrangement is the lexicographic pair (repeats, unmet wishes), each counted over
// member pairs inside groups (a trio counts its three pairs): rule 2 before rule 3, in every round,
// also when some repeats cannot be avoided.
//
// Rooms of up to `Pairing.exactLimit` members get an exact search (`PairingExact`): the result has
// the least cost of all arrangements. Larger rooms get a heuristic (`PairingEngine`): a seeded greedy
// pass, then exchanges of single members between groups and augmenting paths, each taken only if it
// strictly lowers the cost; rooms up to `restartLimit` that end imperfect are retried from a few more
// seeded orders. Both are deterministic for one input and seed.

/// How the facilitator wants members to meet.
public enum PairingStrategy: String, Sendable, Hashable, CaseIterable {
    /// Anyone with anyone; only repeats are avoided.
    case random
    /// Members of different organizations meet; a same-organization pair only when unavoidable.
    case crossOrganization = "cross-organization"
    /// Members meet someone whose expertise answers one of their needs, as often as possible.
    case needExpertise = "need-expertise"
}

/// Which search `Pairing.pair` uses.
public enum PairingSearch: Sendable, Hashable {
    /// Exact up to `Pairing.exactLimit` members, the heuristic beyond.
    case automatic
    /// Always the exact search, whatever the size: its time grows about as 1.6^n (n^2 more per
    /// state for odd counts), so beyond `exactLimit` it is for measurements, not for the server.
    case exact
    /// Always the heuristic.
    case heuristic
}

/// An unordered pair of members, stored smallest id first so `PairKey(1, 2) == PairKey(2, 1)`.
public struct PairKey: Sendable, Hashable {
    /// The smaller id.
    public let a: MemberID
    /// The larger id (equal to `a` only if built from one id twice, which pairing never does).
    public let b: MemberID

    /// The pair of `x` and `y`, in either order.
    public init(_ x: MemberID, _ y: MemberID) {
        (a, b) = x <= y ? (x, y) : (y, x)
    }
}

/// What pairing needs to know about one member.
public struct PairingCandidate: Sendable, Hashable {
    /// The member; unique within one call.
    public var id: MemberID
    /// Compared exactly (the caller normalizes case and spacing). Empty means "none": such a member
    /// is never in a same-organization pair.
    public var organization: String
    /// Tags of the needs the member submitted or voted for.
    public var interests: Set<String>
    /// Tags the member can speak to.
    public var expertise: Set<String>

    /// A candidate; organization and tags default to none.
    public init(id: MemberID, organization: String = "", interests: Set<String> = [], expertise: Set<String> = []) {
        self.id = id
        self.organization = organization
        self.interests = interests
        self.expertise = expertise
    }
}

/// One round's groups and how well they meet the rules.
///
/// Every count is over member pairs inside groups: a pair counts once, a trio counts its three pairs.
public struct PairingResult: Sendable, Hashable {
    /// Pairs, plus exactly one trio when the number of candidates is odd. Each group is sorted by id,
    /// and groups by their first id, so equal results compare equal.
    public var groups: [[MemberID]]
    /// Members left without a group: only ever the single candidate of a one-member room.
    public var unpaired: [MemberID]
    /// Pairs that already met in an earlier round.
    public var repeatedPairs: Int
    /// Pairs from the same non-empty organization (counted for every strategy, unmet only for
    /// `crossOrganization`).
    public var sameOrganizationPairs: Int
    /// Pairs where one member's interests meet the other's expertise (counted for every strategy).
    public var expertiseMatches: Int
    /// Soft constraints not met:
    /// - every repeated pair;
    /// - `crossOrganization`: every same-organization pair;
    /// - `needExpertise`: every pair without a match in which a member is *stranded*. A member is
    ///   stranded when nobody in their own group matches them, yet some other member who is also
    ///   without a match in their own group would match them and has not met them before. Swapping
    ///   those two members into one group would add a match, so a stranded member is an opportunity
    ///   the arrangement missed; a member whose every possible match is already well placed is not.
    ///
    /// Zero does not prove a global optimum for `needExpertise`, but it does mean no such exchange
    /// is left.
    public var unmetConstraints: Int
    /// Whether the exact search made the groups: then no arrangement has fewer repeats, nor as few
    /// repeats and fewer unmet wishes. False when the heuristic made them (or nobody was paired).
    public var exact: Bool

    /// A result with the given groups and counts (everything empty or zero by default).
    public init(
        groups: [[MemberID]] = [], unpaired: [MemberID] = [], repeatedPairs: Int = 0,
        sameOrganizationPairs: Int = 0, expertiseMatches: Int = 0, unmetConstraints: Int = 0, exact: Bool = false
    ) {
        self.exact = exact
        self.groups = groups
        self.unpaired = unpaired
        self.repeatedPairs = repeatedPairs
        self.sameOrganizationPairs = sameOrganizationPairs
        self.expertiseMatches = expertiseMatches
        self.unmetConstraints = unmetConstraints
    }
}

/// Seeded pairing for interview rounds, plus the small choices needed between rounds.
public enum Pairing {
    /// Groups `candidates` into pairs (and one trio if their count is odd).
    ///
    /// Deterministic: the same candidates (in any order), strategy, history and seed give the same
    /// result; a different seed generally gives different groups. Candidates are identified by `id`;
    /// if an id appears twice, the first occurrence is used.
    ///
    /// - Parameters:
    ///   - history: pairs that met in earlier rounds (a trio contributes its three pairs).
    ///   - seed: the only source of randomness.
    ///   - search: exact up to `exactLimit` members by default (see `PairingSearch`).
    public static func pair(
        _ candidates: [PairingCandidate], strategy: PairingStrategy, history: Set<PairKey>, seed: UInt64,
        search: PairingSearch = .automatic
    ) -> PairingResult {
        // Sort by id first so the caller's order cannot change the outcome; then let the seed
        // decide the order every later tie-break follows.
        // Indices rather than the candidates themselves: sorting and shuffling then moves integers,
        // not structs holding strings and sets.
        let sorted = candidates.indices.sorted { (candidates[$0].id, $0) < (candidates[$1].id, $1) }
        var order = sorted.indices.compactMap { k in
            k > 0 && candidates[sorted[k]].id == candidates[sorted[k - 1]].id ? nil : sorted[k]
        }
        if order.count < 2 { return PairingResult(unpaired: order.map { candidates[$0].id }) }
        var rng = SeededEntropy(seed: seed)
        func shuffle() {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                let j = Int(rng.next().multipliedFullWidth(by: UInt64(i + 1)).high)
                order.swapAt(i, j)
            }
        }
        if search == .exact || (search == .automatic && order.count <= exactLimit) {
            shuffle()
            let room = PairingRoom(candidates, order, strategy: strategy, history: history)
            // The heuristic's cost bounds the search (and never changes its answer, see `PairingExact`).
            var heuristic = PairingEngine(room)
            heuristic.greedy()
            heuristic.improve()
            var exact = PairingExact(room)
            var result = PairingEngine(room, groups: exact.solve(upperBound: heuristic.totalCost)).result()
            result.exact = true
            return result
        }
        var best: PairingEngine?
        // Multi-start: the search is local, so an imperfect arrangement in a small room is retried
        // from a few other seeded orders (cheap there; in large rooms the search has room enough to
        // escape on its own, and restarts would multiply the cost). The best attempt wins.
        for attempt in 0..<(order.count <= restartLimit ? 4 : 1) {
            shuffle()
            var engine = PairingEngine(PairingRoom(candidates, order, strategy: strategy, history: history))
            engine.greedy()
            engine.improve()
            if attempt == 0 || engine.totalCost < best!.totalCost { best = engine }
            if best!.totalCost == 0 { break }
        }
        return best!.result()
    }

    /// Rooms up to this size get the exact search (see `PairingExact` and docs/bench/pairing.md for
    /// its time at this size); larger ones the heuristic.
    public static let exactLimit = 24

    /// Rooms up to this size get restarts when the first attempt is not perfect.
    static let restartLimit = 256

    /// The best waiting member for a late joiner to interview, as an index into `waiting`, or nil if
    /// nobody else is waiting. "Best" follows the same priorities as `pair` (fresh first, then the
    /// strategy's wish); ties go to the earliest index, so the caller's order (e.g. waiting time) decides.
    public static func bestPartner(
        for member: PairingCandidate, among waiting: [PairingCandidate], strategy: PairingStrategy,
        history: Set<PairKey>
    ) -> Int? {
        var best: (index: Int, cost: Int)?
        for (i, other) in waiting.enumerated() where other.id != member.id {
            let c = cost(member, other, strategy: strategy, history: history)
            if best == nil || c < best!.cost { best = (i, c) }
            if c == 0 { break } // nothing beats a fresh pair that meets the wish
        }
        return best?.index
    }

    /// The pair a leftover member should join to make the round's trio, as an index into `pairs`, or
    /// nil if there is no pair. Only groups of exactly two that do not already contain `member` are
    /// considered. The cost of joining is the cost of the two new pairs; ties go to the earliest index.
    public static func bestTrioHost(
        for member: PairingCandidate, among pairs: [[PairingCandidate]], strategy: PairingStrategy,
        history: Set<PairKey>
    ) -> Int? {
        var best: (index: Int, cost: Int)?
        for (i, group) in pairs.enumerated() where group.count == 2 && !group.contains(where: { $0.id == member.id }) {
            let c = group.reduce(0) { $0 + cost(member, $1, strategy: strategy, history: history) }
            if best == nil || c < best!.cost { best = (i, c) }
            if c == 0 { break }
        }
        return best?.index
    }

    /// The cost of putting two members together: `PairingRoom.repeatCost` for a repeat, plus one if
    /// the strategy's wish is unmet. The engine uses the same definition on interned data.
    static func cost(_ x: PairingCandidate, _ y: PairingCandidate, strategy: PairingStrategy, history: Set<PairKey>) -> Int {
        var c = history.contains(PairKey(x.id, y.id)) ? PairingRoom.repeatCost : 0
        switch strategy {
        case .random: break
        case .crossOrganization:
            if !x.organization.isEmpty && x.organization == y.organization { c += 1 }
        case .needExpertise:
            if x.interests.isDisjoint(with: y.expertise) && y.interests.isDisjoint(with: x.expertise) { c += 1 }
        }
        return c
    }
}
