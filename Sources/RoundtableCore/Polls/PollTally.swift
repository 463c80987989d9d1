/// The running totals of one poll, updated ballot by ballot.
///
/// The tally keeps, per option, the count of ballots touching it and the sum and sum of squares of each
/// ballot's contribution to the option's score, all as exact integers (Borda points are kept doubled so
/// that shared half points stay integral). Additive results therefore cost O(options) however many ballots
/// were cast, and adding then removing a ballot restores the tally exactly. Ranking polls also keep the
/// pairwise preference matrix Schulze needs, updated per ballot in O(ranked × options).
///
/// The tally does not remember ballots: the owner stores who cast what, retracts with `remove`, replaces
/// with `replace`, and hands the stored ballots in when options are merged or removed.
public struct PollTally: Sendable, Hashable {
    /// The poll's rules, updated by `mergeOptions` and `removeOption`.
    public private(set) var rules: PollRules
    /// Ballots currently counted.
    public private(set) var ballots: Int = 0

    /// Position of each option in `rules.options`; all per-option arrays use these positions.
    private(set) var slot: [OptionID: Int] = [:]
    /// Ballots touching the option (see `Ballot.touchedOptions`).
    private(set) var support: [Int] = []
    /// Σ of per-ballot contributions: choices, ratings, points, or doubled Borda points.
    private(set) var sum: [Int] = []
    /// Σ of squared per-ballot contributions.
    private(set) var sumOfSquares: [Int] = []
    /// Rating polls: every rating cast, over all options, for the shrinkage prior.
    private(set) var allRatings = 0
    private(set) var allRatingsSum = 0
    private(set) var allRatingsSquares = 0
    /// Ranking polls: `pairwise[i * n + j]` is the number of ballots that rank option i above option j.
    private(set) var pairwise: [Int] = []
    /// Open polls: ballots per normalized answer; zero counts are removed so equal tallies compare equal.
    private(set) var answers: [String: Int] = [:]

    /// An empty tally. `rules` should pass `PollRules.check()`.
    public init(rules: PollRules) {
        self.rules = rules
        reset()
    }

    /// A tally of `ballots`; ballots the rules refuse are skipped.
    public init(rules: PollRules, ballots: some Sequence<Ballot>) {
        self.init(rules: rules)
        for b in ballots { add(b) }
    }

    /// Counts `ballot`, or leaves the tally unchanged and returns why the ballot is refused.
    @discardableResult
    public mutating func add(_ ballot: Ballot) -> BallotViolation? {
        if let v = rules.validate(ballot) { return v }
        apply(ballot, 1)
        return nil
    }

    /// Stops counting `ballot`, which must have been added under the current rules (or be the remapped
    /// form returned by `mergeOptions` / `removeOption`). Refused ballots leave the tally unchanged.
    @discardableResult
    public mutating func remove(_ ballot: Ballot) -> BallotViolation? {
        if let v = rules.validate(ballot) { return v }
        apply(ballot, -1)
        return nil
    }

    /// Replaces a member's `old` ballot with `new`; if `new` is refused nothing changes and the old ballot still counts.
    @discardableResult
    public mutating func replace(_ old: Ballot, with new: Ballot) -> BallotViolation? {
        if let v = rules.validate(new) { return v }
        remove(old)
        apply(new, 1)
        return nil
    }

    /// Merges the options `from` into `target` (need merges), given every ballot currently counted.
    ///
    /// Returns the remapped ballots in the same order (see `Ballot.remapped(merging:into:)`); the owner
    /// stores them in place of the old ones. The tally is rebuilt from them, because ratings (highest wins)
    /// and Schulze's pairwise matrix cannot be remapped from totals alone.
    public mutating func mergeOptions(_ from: [OptionID], into target: OptionID, ballots current: [Ballot]) -> [Ballot] {
        let merged = Set(from)
        let remapped = current.map { $0.remapped(merging: merged, into: target) }
        rebuild(rules: rules.merging(merged, into: target), ballots: remapped)
        return remapped
    }

    /// Removes `option` from the poll (a need was removed), given every ballot currently counted.
    ///
    /// Returns, in the same order, each ballot without the option, or `nil` for ballots with nothing left
    /// to count (see `Ballot.removing(_:)`); the owner drops those. The tally is rebuilt because Borda
    /// points depend on the number of options.
    public mutating func removeOption(_ option: OptionID, ballots current: [Ballot]) -> [Ballot?] {
        let reduced = current.map { $0.removing(option) }
        rebuild(rules: rules.removing(option), ballots: reduced.compactMap { $0 })
        return reduced
    }

    private mutating func rebuild(rules newRules: PollRules, ballots: [Ballot]) {
        rules = newRules
        reset()
        for b in ballots { add(b) }
    }

    private mutating func reset() {
        let n = rules.kind == .open ? 0 : rules.options.count
        ballots = 0
        slot = Dictionary(rules.options.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        support = Array(repeating: 0, count: n)
        sum = Array(repeating: 0, count: n)
        sumOfSquares = Array(repeating: 0, count: n)
        allRatings = 0
        allRatingsSum = 0
        allRatingsSquares = 0
        pairwise = rules.kind == .ranking ? Array(repeating: 0, count: n * n) : []
        answers = [:]
    }

    /// Adds (`delta` 1) or retracts (`delta` −1) a ballot already validated against `rules`.
    private mutating func apply(_ ballot: Ballot, _ delta: Int) {
        ballots += delta
        switch ballot {
        case .single(let o):
            record(slot[o]!, 1, delta)
        case .multi(let os):
            for o in os { record(slot[o]!, 1, delta) }
        case .rating(let r):
            for (o, v) in r {
                record(slot[o]!, v, delta)
                allRatings += delta
                allRatingsSum += delta * v
                allRatingsSquares += delta * v * v
            }
        case .points(let p):
            for (o, v) in p where v > 0 { record(slot[o]!, v, delta) }
        case .ranking(let os):
            applyRanking(os, delta)
        case .open(let text):
            let key = PollText.normalized(text)
            let count = answers[key, default: 0] + delta
            answers[key] = count == 0 ? nil : count
        }
    }

    private mutating func record(_ i: Int, _ value: Int, _ delta: Int, touched: Bool = true) {
        if touched { support[i] += delta }
        sum[i] += delta * value
        sumOfSquares[i] += delta * value * value
    }

    /// Doubled Borda points: position p earns 2(n−1−p); the n−k unranked options share the remaining
    /// (n−k)(n−k−1)/2 points, i.e. (n−k−1)/2 each, doubled n−k−1. Every unranked option is touched in the
    /// sums (its contribution may be non-zero) but not in `support`.
    private mutating func applyRanking(_ ranked: [OptionID], _ delta: Int) {
        let n = rules.options.count
        let k = ranked.count
        // Scratch on the stack: this runs twice per changed ballot, the hottest path of a vote storm.
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: n) { isRanked in
            isRanked.initialize(repeating: false)
            for (p, option) in ranked.enumerated() {
                let i = slot[option]!
                record(i, 2 * (n - 1 - p), delta)
                isRanked[i] = true
                // Option i is preferred to every option not yet seen: those ranked below it and all unranked ones.
                for j in 0..<n where !isRanked[j] { pairwise[i * n + j] += delta }
            }
            let share = n - k - 1
            for j in 0..<n where !isRanked[j] { record(j, share, delta, touched: false) }
        }
    }
}
