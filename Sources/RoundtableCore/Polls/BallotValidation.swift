/// Why a ballot was refused.
public struct BallotViolation: Error, Sendable, Hashable {
    /// A stable, machine-readable reason; clients switch on the raw value.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The ballot answers another kind of poll.
        case wrongKind = "wrong-kind"
        /// An option that is not (or no longer) in the poll.
        case unknownOption = "unknown-option"
        /// The same option twice in a multi choice or a ranking.
        case duplicateOption = "duplicate-option"
        /// A multi ballot with no option chosen.
        case noChoices = "no-choices"
        /// A multi ballot with more than `maxChoices` options.
        case tooManyChoices = "too-many-choices"
        /// A rating ballot that rates nothing.
        case noRatings = "no-ratings"
        /// A rating outside `scaleMin...scaleMax`.
        case ratingOutOfScale = "rating-out-of-scale"
        /// A ranking with no option.
        case emptyRanking = "empty-ranking"
        /// Fewer than zero points on an option.
        case negativePoints = "negative-points"
        /// More points in total than the budget.
        case overBudget = "over-budget"
        /// No option got any point.
        case noPoints = "no-points"
        /// An open answer that is empty or only whitespace.
        case emptyAnswer = "empty-answer"
        /// An open answer longer than `maxAnswerLength`.
        case answerTooLong = "answer-too-long"
    }

    /// What is wrong.
    public var reason: Reason
    /// A sentence for the member who cast the ballot.
    public var message: String
    /// The offending option, when one option is to blame.
    public var option: OptionID?

    /// A violation; `option` names the offending option when there is one.
    public init(reason: Reason, message: String, option: OptionID? = nil) {
        self.reason = reason
        self.message = message
        self.option = option
    }
}

extension Ballot {
    /// The first rule this ballot breaks, or `nil` if `rules` accept it. Same as `rules.validate(self)`.
    public func validate(against rules: PollRules) -> BallotViolation? { rules.validate(self) }
}

extension PollRules {
    /// The first rule `ballot` breaks, or `nil` if it is acceptable.
    ///
    /// Deterministic: options are checked in ballot order (dictionaries in ascending id order), so the same
    /// ballot always gets the same answer.
    public func validate(_ ballot: Ballot) -> BallotViolation? {
        guard ballot.kind == kind else {
            return .init(reason: .wrongKind, message: "This poll takes \(kind.rawValue) ballots, not \(ballot.kind.rawValue).")
        }
        // Runs once per vote: for the usual handful of options a linear scan is cheaper than hashing every
        // option into a fresh Set (two Sets per vote were ~5 % of server CPU in a vote storm). Same answers.
        let small = options.count <= 32
        let known = small ? [] : Set(options)
        func unknown(_ os: some Sequence<OptionID>) -> BallotViolation? {
            guard let o = os.first(where: { small ? !options.contains($0) : !known.contains($0) }) else { return nil }
            return .init(reason: .unknownOption, message: "Option \(o) is not in this poll.", option: o)
        }
        func duplicate(_ os: [OptionID]) -> BallotViolation? {
            let repeated: OptionID?
            if os.count <= 32 {
                repeated = os.indices.first(where: { i in os[..<i].contains(os[i]) }).map { os[$0] }
            } else {
                var seen = Set<OptionID>()
                repeated = os.first(where: { !seen.insert($0).inserted })
            }
            guard let o = repeated else { return nil }
            return .init(reason: .duplicateOption, message: "Option \(o) appears more than once.", option: o)
        }

        switch ballot {
        case .single(let o):
            return unknown([o])

        case .multi(let os):
            if os.isEmpty { return .init(reason: .noChoices, message: "Choose at least one option.") }
            if let v = unknown(os) ?? duplicate(os) { return v }
            if let m = maxChoices, os.count > m {
                return .init(reason: .tooManyChoices, message: "Choose at most \(m) options.")
            }
            return nil

        case .rating(let r):
            if r.isEmpty { return .init(reason: .noRatings, message: "Rate at least one option.") }
            let ids = r.keys.sorted()
            if let v = unknown(ids) { return v }
            if let o = ids.first(where: { !(scaleMin...scaleMax).contains(r[$0]!) }) {
                return .init(
                    reason: .ratingOutOfScale,
                    message: "Ratings go from \(scaleMin) to \(scaleMax); option \(o) got \(r[o]!).",
                    option: o
                )
            }
            return nil

        case .ranking(let os):
            if os.isEmpty { return .init(reason: .emptyRanking, message: "Rank at least one option.") }
            return unknown(os) ?? duplicate(os)

        case .points(let p):
            let ids = p.keys.sorted()
            if let v = unknown(ids) { return v }
            if let o = ids.first(where: { p[$0]! < 0 }) {
                return .init(reason: .negativePoints, message: "Option \(o) cannot get negative points.", option: o)
            }
            var total = 0
            for o in ids {
                // A hostile ballot may send Int.max; overflowing is just another way of being over budget.
                let (sum, overflow) = total.addingReportingOverflow(p[o]!)
                if overflow || sum > budget {
                    return .init(reason: .overBudget, message: "Give at most \(budget) points in total.")
                }
                total = sum
            }
            if total == 0 { return .init(reason: .noPoints, message: "Give at least one point.") }
            return nil

        case .open(let text):
            let answer = PollText.normalized(text)
            if answer.isEmpty { return .init(reason: .emptyAnswer, message: "Write an answer.") }
            if answer.count > maxAnswerLength {
                return .init(reason: .answerTooLong, message: "Answers are at most \(maxAnswerLength) characters.")
            }
            return nil
        }
    }
}

/// How open answers are compared and measured.
enum PollText {
    /// The answer without surrounding whitespace: "Mentoring " and "Mentoring" are the same answer.
    static func normalized(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }
}
