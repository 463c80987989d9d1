import Testing

@testable import RoundtableCore

@Suite struct PollsValidationTests {
    typealias Reason = BallotViolation.Reason
    let options: [OptionID] = [10, 20, 30, 40]

    func reason(_ ballot: Ballot, _ rules: PollRules) -> Reason? { rules.validate(ballot)?.reason }

    @Test func wrongKindIsRefusedForEveryPair() {
        let samples: [Ballot] = [.single(10), .multi([10]), .rating([10: 3]), .ranking([10]), .points([10: 1]), .open("x")]
        for kind in PollKind.allCases {
            let rules = PollRules(kind: kind, options: options)
            for b in samples {
                if b.kind == kind {
                    #expect(reason(b, rules) == nil, "\(b) on \(kind)")
                } else {
                    #expect(reason(b, rules) == .wrongKind, "\(b) on \(kind)")
                }
            }
        }
    }

    /// The order RANKING.md documents, case by case: unknown options are reported before any other rule
    /// about options, across the whole ballot (issue 16: the doc predicted rating-out-of-scale here).
    @Test func documentedCheckingOrder() {
        let rating = PollRules(kind: .rating, options: [1, 2, 3], scaleMin: 1, scaleMax: 5)
        #expect(reason(.rating([2: 99, 9: 3]), rating) == .unknownOption)
        #expect(rating.validate(.rating([2: 99, 9: 3]))?.option == 9)
        #expect(reason(.rating([3: 0, 2: 99]), rating) == .ratingOutOfScale)
        #expect(rating.validate(.rating([3: 0, 2: 99]))?.option == 2, "ascending id")
        let multi = PollRules(kind: .multi, options: [1, 2, 3], maxChoices: 1)
        #expect(reason(.multi([1, 1, 9]), multi) == .unknownOption)
        #expect(reason(.multi([1, 1, 2]), multi) == .duplicateOption, "before too-many-choices")
        let ranking = PollRules(kind: .ranking, options: [1, 2, 3])
        #expect(reason(.ranking([1, 1, 9]), ranking) == .unknownOption)
        let points = PollRules(kind: .points, options: [1, 2, 3], budget: 10)
        #expect(reason(.points([1: -1, 9: 0]), points) == .unknownOption)
        #expect(reason(.points([1: 20, 2: -1]), points) == .negativePoints, "before over-budget")
        #expect(reason(.points([1: 0, 2: 11]), points) == .overBudget)
    }

    @Test func single() {
        let rules = PollRules(kind: .single, options: options)
        #expect(reason(.single(20), rules) == nil)
        let v = rules.validate(.single(99))
        #expect(v?.reason == .unknownOption)
        #expect(v?.option == 99)
        #expect(v?.message.isEmpty == false)
    }

    @Test func multi() {
        let rules = PollRules(kind: .multi, options: options, maxChoices: 2)
        #expect(reason(.multi([10]), rules) == nil)
        #expect(reason(.multi([40, 10]), rules) == nil)
        #expect(reason(.multi([]), rules) == .noChoices)
        #expect(reason(.multi([10, 20, 30]), rules) == .tooManyChoices)
        #expect(reason(.multi([10, 10]), rules) == .duplicateOption)
        #expect(reason(.multi([10, 77]), rules) == .unknownOption)
        // No limit: every option at once is fine.
        #expect(reason(.multi(options), PollRules(kind: .multi, options: options)) == nil)
    }

    @Test func rating() {
        let rules = PollRules(kind: .rating, options: options, scaleMin: 1, scaleMax: 5)
        #expect(reason(.rating([10: 1, 20: 5]), rules) == nil)
        #expect(reason(.rating([:]), rules) == .noRatings)
        #expect(reason(.rating([10: 0]), rules) == .ratingOutOfScale)
        #expect(reason(.rating([10: 6]), rules) == .ratingOutOfScale)
        #expect(rules.validate(.rating([10: 3, 30: 9]))?.option == 30)
        #expect(reason(.rating([11: 3]), rules) == .unknownOption)
        let signed = PollRules(kind: .rating, options: options, scaleMin: -2, scaleMax: 2)
        #expect(reason(.rating([10: -2]), signed) == nil)
        #expect(reason(.rating([10: -3]), signed) == .ratingOutOfScale)
    }

    @Test func ranking() {
        let rules = PollRules(kind: .ranking, options: options)
        #expect(reason(.ranking([30, 10, 40, 20]), rules) == nil)
        #expect(reason(.ranking([30]), rules) == nil, "a prefix is a valid ranking")
        #expect(reason(.ranking([]), rules) == .emptyRanking)
        #expect(reason(.ranking([30, 10, 30]), rules) == .duplicateOption)
        #expect(reason(.ranking([30, 5]), rules) == .unknownOption)
    }

    @Test func points() {
        let rules = PollRules(kind: .points, options: options, budget: 10)
        #expect(reason(.points([10: 10]), rules) == nil)
        #expect(reason(.points([10: 4, 20: 0, 30: 6]), rules) == nil)
        #expect(reason(.points([10: 3]), rules) == nil, "spending less than the budget is fine")
        #expect(reason(.points([10: -1, 20: 5]), rules) == .negativePoints)
        #expect(reason(.points([10: 6, 20: 5]), rules) == .overBudget)
        #expect(reason(.points([10: Int.max, 20: Int.max]), rules) == .overBudget)
        #expect(reason(.points([10: 0, 20: 0]), rules) == .noPoints)
        #expect(reason(.points([:]), rules) == .noPoints)
        #expect(reason(.points([12: 1]), rules) == .unknownOption)
    }

    @Test func open() {
        let rules = PollRules(kind: .open, maxAnswerLength: 5)
        #expect(reason(.open("hello"), rules) == nil)
        #expect(reason(.open("  hello \n"), rules) == nil, "surrounding whitespace does not count")
        #expect(reason(.open("héllo"), rules) == nil, "length is in characters")
        #expect(reason(.open(""), rules) == .emptyAnswer)
        #expect(reason(.open(" \t\n "), rules) == .emptyAnswer)
        #expect(reason(.open("hello!"), rules) == .answerTooLong)
    }

    @Test func reasonsAreStable() {
        #expect(
            Reason.allCases.map(\.rawValue) == [
                "wrong-kind", "unknown-option", "duplicate-option", "no-choices", "too-many-choices", "no-ratings",
                "rating-out-of-scale", "empty-ranking", "negative-points", "over-budget", "no-points",
                "empty-answer", "answer-too-long",
            ])
    }

    @Test func ballotSideSpellingAgrees() {
        let rules = PollRules(kind: .single, options: options)
        #expect(Ballot.single(1).validate(against: rules) == rules.validate(.single(1)))
    }

    @Test func rulesCheck() {
        typealias R = PollRulesViolation.Reason
        #expect(PollRules(kind: .ranking, options: options, method: .schulze).check() == nil)
        #expect(PollRules(kind: .open).check() == nil)
        #expect(PollRules(kind: .rating, options: options, method: .borda).check()?.reason == R.methodNotForKind)
        #expect(PollRules(kind: .single, options: []).check()?.reason == R.noOptions)
        #expect(PollRules(kind: .single, options: [1, 1]).check()?.reason == R.duplicateOption)
        #expect(PollRules(kind: .single, options: Array(0...PollRules.maxOptions)).check()?.reason == R.tooManyOptions)
        #expect(PollRules(kind: .multi, options: options, maxChoices: 0).check()?.reason == R.invalidMaxChoices)
        #expect(PollRules(kind: .rating, options: options, scaleMin: 3, scaleMax: 3).check()?.reason == R.invalidScale)
        #expect(PollRules(kind: .rating, options: options, ratingPriorWeight: -1).check()?.reason == R.invalidPriorWeight)
        #expect(PollRules(kind: .points, options: options, budget: 0).check()?.reason == R.invalidBudget)
        #expect(PollRules(kind: .open, maxAnswerLength: 0).check()?.reason == R.invalidAnswerLength)
    }

    @Test func defaultMethods() {
        #expect(PollKind.single.defaultMethod == .count)
        #expect(PollKind.multi.defaultMethod == .count)
        #expect(PollKind.open.defaultMethod == .count)
        #expect(PollKind.rating.defaultMethod == .meanRating)
        #expect(PollKind.ranking.defaultMethod == .borda)
        #expect(PollKind.points.defaultMethod == .points)
        #expect(PollKind.ranking.methods == [.borda, .schulze])
        #expect(RankingMethod.meanRating.rawValue == "mean-rating")
        #expect(PollRules(kind: .ranking, options: options).method == .borda)
    }

    @Test func refusedBallotLeavesTallyUnchanged() {
        var tally = PollTally(rules: PollRules(kind: .points, options: options, budget: 10))
        let before = tally
        #expect(tally.add(.points([10: 11]))?.reason == .overBudget)
        #expect(tally.add(.single(10))?.reason == .wrongKind)
        #expect(tally == before)
        #expect(tally.ballots == 0)
    }
}
