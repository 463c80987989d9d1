/// A poll's ranked results at one moment.
public struct PollResults: Sendable, Hashable {
    /// The poll's kind.
    public var kind: PollKind
    /// The method that produced `options`.
    public var method: RankingMethod
    /// Ballots counted.
    public var ballots: Int
    /// The lowest score the method can give (the rating scale's minimum for mean ratings, else 0);
    /// `NeedsRanking` normalizes from here.
    public var minimumScore: Double
    /// Every option of the poll in rank order, including options nobody supported. Empty for open polls.
    public var options: [OptionResult]
    /// Open polls: each distinct answer (surrounding whitespace trimmed) with how many ballots gave it,
    /// most frequent first, then by text. Never who wrote them. Empty for other kinds.
    public var answers: [AnswerCount]

    /// Results as `PollTally.results(using:)` builds them; `options` must already be in rank order.
    public init(
        kind: PollKind,
        method: RankingMethod,
        ballots: Int,
        minimumScore: Double,
        options: [OptionResult],
        answers: [AnswerCount] = []
    ) {
        self.kind = kind
        self.method = method
        self.ballots = ballots
        self.minimumScore = minimumScore
        self.options = options
        self.answers = answers
    }

    /// The result for `option`, if it is in the poll. Linear: results have a handful to a few hundred options.
    public func result(for option: OptionID) -> OptionResult? {
        options.first { $0.option == option }
    }
}

/// One option's place in a poll's results.
public struct OptionResult: Sendable, Hashable {
    /// The option's id.
    public var option: OptionID
    /// The method's score; higher is better. See `PollTally.results(using:)` for each definition.
    public var score: Double
    /// Lower end of the score's uncertainty interval (about 95%); `low ≤ score ≤ high`.
    public var low: Double
    /// Upper end of the score's uncertainty interval. Options whose intervals overlap are not clearly different.
    public var high: Double
    /// 1-based place in a strict order: score descending, then support descending, then option id ascending
    /// (lower id = submitted earlier). Never shared; see `tied`.
    public var rank: Int
    /// Ballots that touched the option: chose, rated or ranked it, or gave it points.
    public var support: Int
    /// Whether another option has exactly the same score, so that only the tie-break separates them.
    public var tied: Bool

    /// An option's result; `PollTally.results(using:)` builds these.
    public init(option: OptionID, score: Double, low: Double, high: Double, rank: Int, support: Int, tied: Bool) {
        self.option = option
        self.score = score
        self.low = low
        self.high = high
        self.rank = rank
        self.support = support
        self.tied = tied
    }
}

/// A distinct open answer and how many ballots gave it.
public struct AnswerCount: Sendable, Hashable {
    /// The answer, surrounding whitespace trimmed.
    public var text: String
    /// Ballots that gave this answer.
    public var count: Int

    /// An answer and its count.
    public init(text: String, count: Int) {
        self.text = text
        self.count = count
    }
}

/// Shared arithmetic for poll and needs rankings.
enum PollMath {
    /// Two-sided 95% normal quantile.
    static let z = 1.96

    /// Unranked score before ordering.
    struct Scored {
        var option: OptionID
        var score: Double
        var low: Double
        var high: Double
        var support: Int
    }

    /// Strict order: score desc, support desc, id asc; `tied` marks exactly equal scores.
    static func order(_ items: [Scored]) -> [OptionResult] {
        let sorted = items.sorted {
            if $0.score != $1.score { return $0.score > $1.score }
            if $0.support != $1.support { return $0.support > $1.support }
            return $0.option < $1.option
        }
        return sorted.enumerated().map { i, s in
            // Equal scores are adjacent once sorted, so neighbours suffice.
            let tied = (i > 0 && sorted[i - 1].score == s.score) || (i + 1 < sorted.count && sorted[i + 1].score == s.score)
            // Rounding can push an interval end a hair past the score it surrounds.
            return OptionResult(
                option: s.option, score: s.score, low: min(s.low, s.score), high: max(s.high, s.score),
                rank: i + 1, support: s.support, tied: tied
            )
        }
    }

    /// Sample variance from exact sums over `n` values, or `nil` below two values. Clamped at 0
    /// because the difference of two large doubles can come out a hair negative.
    static func sampleVariance(sum: Int, squares: Int, n: Int) -> Double? {
        guard n >= 2 else { return nil }
        let s = Double(sum)
        let nn = Double(n)
        return max(0, (Double(squares) - s * s / nn) / (nn - 1))
    }

    /// Wilson score interval for `count` successes in `n` trials, scaled back to counts.
    static func wilson(count: Int, n: Int) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 0) }
        let nn = Double(n)
        let p = Double(count) / nn
        let z2 = z * z
        let denominator = 1 + z2 / nn
        let centre = (p + z2 / (2 * nn)) / denominator
        let half = z / denominator * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        return (max(0, centre - half) * nn, min(1, centre + half) * nn)
    }

    static func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> Double { min(max(x, lo), hi) }
}
