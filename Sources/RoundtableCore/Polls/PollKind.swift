/// A stable option identifier.
///
/// Ids, not indexes: options of a poll over the room's needs are need ids, and needs get merged and
/// removed while ballots are live, so positions would silently shift under existing ballots.
public typealias OptionID = Int

/// What a ballot of a poll looks like.
public enum PollKind: String, Sendable, Hashable, CaseIterable {
    /// Exactly one option.
    case single
    /// One to `maxChoices` distinct options.
    case multi
    /// An integer rating in `scaleMin...scaleMax` for one or more options.
    case rating
    /// A strict order of some or all options, best first.
    case ranking
    /// A split of a point budget over the options.
    case points
    /// A free-text answer.
    case open

    /// The method used when the poll's rules do not name one.
    public var defaultMethod: RankingMethod {
        switch self {
        case .single, .multi, .open: .count
        case .rating: .meanRating
        case .ranking: .borda
        case .points: .points
        }
    }

    /// Every method that can rank this kind of ballot; the default comes first.
    public var methods: [RankingMethod] {
        [defaultMethod] + RankingMethod.allCases.filter { $0 != defaultMethod && $0.applies(to: self) }
    }
}

/// How a tally turns ballots into ordered option scores. Exact definitions are on `PollTally.results(using:)`
/// and in `docs/RANKING.md`.
public enum RankingMethod: String, Sendable, Hashable, CaseIterable {
    /// Ballots that chose the option (open polls: ballots per distinct answer).
    case count
    /// Total points given to the option.
    case points
    /// Mean rating shrunk toward the poll's overall mean rating.
    case meanRating = "mean-rating"
    /// Borda count; options left out of a partial ranking share the remaining points.
    case borda
    /// Schulze (beatpath) method over pairwise margins; the score is the number of options beaten.
    case schulze

    /// Whether this method can rank ballots of `kind`.
    public func applies(to kind: PollKind) -> Bool {
        switch (self, kind) {
        case (.count, .single), (.count, .multi), (.count, .open),
            (.points, .points), (.meanRating, .rating),
            (.borda, .ranking), (.schulze, .ranking):
            true
        default:
            false
        }
    }
}

/// The rules a poll's ballots must follow and how they are ranked.
///
/// Fields that do not concern the poll's kind are ignored (e.g. `budget` for a rating poll).
public struct PollRules: Sendable, Hashable {
    /// Upper bound on `options.count`: the Schulze tally keeps an options² matrix and ranks in options³.
    public static let maxOptions = 500
    /// Upper bound on `budget` and on `|scaleMin|`, `|scaleMax|`, so that sums of squares over any
    /// realistic number of ballots stay far from `Int` overflow.
    public static let maxMagnitude = 1_000_000

    /// The shape of the poll's ballots.
    public var kind: PollKind
    /// The options, in the order they were offered (for a poll over needs: need ids).
    public var options: [OptionID]
    /// Multi polls: most options a ballot may choose; `nil` means any number of them.
    public var maxChoices: Int?
    /// Rating polls: lowest allowed rating.
    public var scaleMin: Int
    /// Rating polls: highest allowed rating.
    public var scaleMax: Int
    /// Points polls: most points a ballot may give in total.
    public var budget: Int
    /// Open polls: longest answer, in characters (grapheme clusters) after trimming surrounding whitespace.
    public var maxAnswerLength: Int
    /// How results are ordered; must apply to `kind` (see `check()`).
    public var method: RankingMethod
    /// Rating polls: how many pseudo-ratings at the poll's overall mean each option starts with.
    public var ratingPriorWeight: Double

    /// Rules with the usual defaults: a 1–5 scale, 100 points, 280-character answers, the kind's
    /// default method, and a rating prior weight of 5.
    public init(
        kind: PollKind,
        options: [OptionID] = [],
        maxChoices: Int? = nil,
        scaleMin: Int = 1,
        scaleMax: Int = 5,
        budget: Int = 100,
        maxAnswerLength: Int = 280,
        method: RankingMethod? = nil,
        ratingPriorWeight: Double = 5
    ) {
        self.kind = kind
        self.options = options
        self.maxChoices = maxChoices
        self.scaleMin = scaleMin
        self.scaleMax = scaleMax
        self.budget = budget
        self.maxAnswerLength = maxAnswerLength
        self.method = method ?? kind.defaultMethod
        self.ratingPriorWeight = ratingPriorWeight
    }

    /// The first problem that would make these rules unusable, or `nil` when a tally can use them.
    ///
    /// Checked when a poll is created; the tally itself assumes rules that pass.
    public func check() -> PollRulesViolation? {
        func fail(_ r: PollRulesViolation.Reason, _ m: String) -> PollRulesViolation { .init(reason: r, message: m) }
        if !method.applies(to: kind) {
            return fail(.methodNotForKind, "A \(kind.rawValue) poll cannot be ranked by \(method.rawValue).")
        }
        if kind != .open {
            if options.isEmpty { return fail(.noOptions, "The poll needs at least one option.") }
            if options.count > Self.maxOptions {
                return fail(.tooManyOptions, "A poll can have at most \(Self.maxOptions) options.")
            }
            if Set(options).count != options.count { return fail(.duplicateOption, "An option is listed twice.") }
        }
        switch kind {
        case .multi:
            if let m = maxChoices, m < 1 { return fail(.invalidMaxChoices, "Allow at least one choice.") }
        case .rating:
            if scaleMin >= scaleMax || abs(scaleMin) > Self.maxMagnitude || abs(scaleMax) > Self.maxMagnitude {
                return fail(.invalidScale, "The rating scale must run from a lower to a higher number.")
            }
            if !ratingPriorWeight.isFinite || ratingPriorWeight < 0 {
                return fail(.invalidPriorWeight, "The rating prior weight must be a finite number ≥ 0.")
            }
        case .points:
            if budget < 1 || budget > Self.maxMagnitude {
                return fail(.invalidBudget, "The point budget must be between 1 and \(Self.maxMagnitude).")
            }
        case .open:
            if maxAnswerLength < 1 { return fail(.invalidAnswerLength, "Allow answers of at least one character.") }
        case .single, .ranking:
            break
        }
        return nil
    }

    /// These rules after merging the `merged` options into `target`: merged options disappear and
    /// `target` takes the place of the first of them if it was not an option already.
    public func merging(_ merged: Set<OptionID>, into target: OptionID) -> PollRules {
        var copy = self
        var out: [OptionID] = []
        var placed = false
        for o in options {
            if o == target || merged.contains(o) {
                if !placed { out.append(target); placed = true }
            } else {
                out.append(o)
            }
        }
        copy.options = out
        return copy
    }

    /// These rules without `option`.
    public func removing(_ option: OptionID) -> PollRules {
        var copy = self
        copy.options.removeAll { $0 == option }
        return copy
    }
}

/// Why a poll's rules are unusable.
public struct PollRulesViolation: Error, Sendable, Hashable {
    /// A stable, machine-readable reason.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case methodNotForKind = "method-not-for-kind"
        case noOptions = "no-options"
        case tooManyOptions = "too-many-options"
        case duplicateOption = "duplicate-option"
        case invalidMaxChoices = "invalid-max-choices"
        case invalidScale = "invalid-scale"
        case invalidPriorWeight = "invalid-prior-weight"
        case invalidBudget = "invalid-budget"
        case invalidAnswerLength = "invalid-answer-length"
    }

    /// What is wrong.
    public var reason: Reason
    /// A sentence for the facilitator.
    public var message: String
}
