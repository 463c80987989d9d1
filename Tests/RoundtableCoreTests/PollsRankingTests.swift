import Testing

@testable import RoundtableCore

/// The worked examples of docs/RANKING.md, number for number.
@Suite struct PollsRankingTests {
    func close(_ a: Double, _ b: Double, _ eps: Double = 1e-6) -> Bool { abs(a - b) <= eps }

    func tally(_ rules: PollRules, _ ballots: [Ballot]) -> PollTally {
        var t = PollTally(rules: rules)
        for b in ballots { #expect(t.add(b) == nil, "\(b)") }
        return t
    }

    @Test func countWithWilsonIntervals() {
        let ballots: [Ballot] = Array(repeating: .single(1), count: 6) + Array(repeating: .single(2), count: 3) + [.single(3)]
        let r = tally(PollRules(kind: .single, options: [1, 2, 3, 4]), ballots).results()
        #expect(r.method == .count)
        #expect(r.ballots == 10)
        #expect(r.options.map(\.option) == [1, 2, 3, 4])
        #expect(r.options.map(\.score) == [6, 3, 1, 0])
        #expect(r.options.map(\.rank) == [1, 2, 3, 4])
        #expect(r.options.map(\.support) == [6, 3, 1, 0])
        let a = r.options[0], b = r.options[1], d = r.options[3]
        #expect(close(a.low, 3.126695, 1e-5) && close(a.high, 8.318224, 1e-5))
        #expect(close(b.low, 1.077893, 1e-5) && close(b.high, 6.032268, 1e-5))
        #expect(d.low == 0 && close(d.high, 2.775402, 1e-5), "nobody chose it, yet 10 ballots cannot rule out a few supporters")
    }

    @Test func multiCountsEveryChoice() {
        let r = tally(
            PollRules(kind: .multi, options: [1, 2, 3], maxChoices: 2),
            [
                .multi([1, 2]), .multi([2]), .multi([3, 2]),
            ]
        ).results()
        #expect(r.options.map(\.option) == [2, 1, 3])
        #expect(r.options.map(\.score) == [3, 1, 1])
        #expect(r.options.map(\.tied) == [false, true, true])
        #expect(close(r.options[0].high, 3) && r.options[0].low < 3)
    }

    @Test func pointsTotalsAndIntervals() {
        let r = tally(
            PollRules(kind: .points, options: [1, 2, 3], budget: 10),
            [
                .points([1: 6, 2: 4]), .points([1: 10]), .points([2: 5, 3: 5]),
            ]
        ).results()
        #expect(r.options.map(\.option) == [1, 2, 3])
        #expect(r.options.map(\.score) == [16, 9, 5])
        #expect(r.options.map(\.support) == [2, 2, 1])
        // Option 1 gave [6, 10, 0]: s² = 76/3, half-width 1.96·√76 = 17.087, clamped to [0, 30].
        #expect(r.options[0].low == 0 && r.options[0].high == 30)
        #expect(close(r.options[1].low, 0.018152, 1e-5) && close(r.options[1].high, 17.981848, 1e-5))
        #expect(r.options[2].low == 0 && close(r.options[2].high, 14.8))
    }

    @Test func shrunkMeanRating() {
        let ballots: [Ballot] =
            [.rating([1: 5])]
            + Array(repeating: .rating([2: 4, 3: 2]), count: 40)
        let r = tally(PollRules(kind: .rating, options: [1, 2, 3], ratingPriorWeight: 5), ballots).results()
        #expect(r.method == .meanRating)
        #expect(r.minimumScore == 1)
        // m = 245/81; option 1: (5 + 5m)/6, option 2: (160 + 5m)/45, option 3: (80 + 5m)/45.
        #expect(r.options.map(\.option) == [2, 1, 3], "one 5-star rating does not beat forty 4-star ratings")
        let byId = Dictionary(uniqueKeysWithValues: r.options.map { ($0.option, $0) })
        #expect(close(byId[1]!.score, 3.353909))
        #expect(close(byId[2]!.score, 3.891632))
        #expect(close(byId[3]!.score, 2.113855))
        #expect(close(byId[1]!.low, 2.605642, 1e-5) && close(byId[1]!.high, 4.102177, 1e-5))
        #expect(close(byId[2]!.low, 3.791863, 1e-5) && close(byId[2]!.high, 3.991401, 1e-5))
        #expect(byId[1]!.support == 1 && byId[2]!.support == 40)
    }

    @Test func ratingWithoutPriorIsPlainMeanAndUnratedFallsToPriorMean() {
        let r = tally(
            PollRules(kind: .rating, options: [1, 2, 3], ratingPriorWeight: 0),
            [
                .rating([1: 5]), .rating([1: 3, 2: 2]),
            ]
        ).results()
        // An option nobody rated is taken to be average, here above the poorly rated option 2.
        #expect(r.options.map(\.option) == [1, 3, 2])
        #expect(r.result(for: 1)!.score == 4)
        #expect(r.result(for: 2)!.score == 2)
        // No ratings and no prior: the poll's mean stands in, with the whole scale as interval.
        #expect(close(r.result(for: 3)!.score, 10.0 / 3))
        #expect(r.result(for: 3)!.low == 1 && r.result(for: 3)!.high == 5)
        let empty = PollTally(rules: PollRules(kind: .rating, options: [1])).results()
        #expect(empty.options[0].score == 3, "before any rating the prior mean is the scale's midpoint")
    }

    @Test func bordaWithPartialRankings() {
        let r = tally(
            PollRules(kind: .ranking, options: [1, 2, 3, 4]),
            [
                .ranking([1, 2, 3, 4]), .ranking([2, 1]), .ranking([3]),
            ]
        ).results()
        #expect(r.method == .borda)
        #expect(r.options.map(\.option) == [1, 2, 3, 4])
        #expect(r.options.map(\.score) == [6, 6, 4.5, 1.5])
        #expect(r.options.map(\.score).reduce(0, +) == 18, "every ballot hands out N(N−1)/2 = 6")
        #expect(r.options.map(\.tied) == [true, true, false, false])
        #expect(r.options.map(\.support) == [2, 2, 2, 1])
        #expect(close(r.options[0].low, 2.605180, 1e-5) && r.options[0].high == 9)
        #expect(close(r.options[2].low, 0.009076, 1e-5) && close(r.options[2].high, 8.990924, 1e-5))
        #expect(r.options[3].low == 0 && close(r.options[3].high, 3.197410, 1e-5))
    }

    @Test func bordaRankingAllButOneEqualsRankingAll() {
        let rules = PollRules(kind: .ranking, options: [1, 2, 3])
        #expect(
            tally(rules, [.ranking([3, 1])]).results().options.map(\.score)
                == tally(rules, [.ranking([3, 1, 2])]).results().options.map(\.score))
    }

    @Test func schulzeCycleResolvedByStrongestPaths() {
        let rules = PollRules(kind: .ranking, options: [1, 2, 3], method: .schulze)
        let ballots: [Ballot] =
            Array(repeating: .ranking([1, 2, 3]), count: 4)
            + Array(repeating: .ranking([2, 3, 1]), count: 3)
            + Array(repeating: .ranking([3, 1, 2]), count: 2)
        let t = tally(rules, ballots)
        let r = t.results()
        #expect(r.method == .schulze)
        #expect(r.options.map(\.option) == [1, 2, 3])
        #expect(r.options.map(\.score) == [2, 1, 0])
        // Margins 3, 5 and 1 are all under 1.96·√9 = 5.88: nine ballots cannot separate anyone.
        #expect(r.options.allSatisfy { $0.low == 0 && $0.high == 2 })
        // Borda on the same ballots ties 1 and 2 at 10 points.
        #expect(t.results(using: .borda).options.map(\.score) == [10, 10, 7])
    }

    @Test func schulzeClearWinsNarrowTheInterval() {
        let rules = PollRules(kind: .ranking, options: [1, 2, 3], method: .schulze)
        let r = tally(rules, Array(repeating: .ranking([1, 2, 3]), count: 9)).results()
        #expect(r.options.map(\.score) == [2, 1, 0])
        #expect(r.options.map(\.low) == [2, 1, 0])
        #expect(r.options.map(\.high) == [2, 1, 0])
    }

    @Test func schulzeUnrankedAreNotCompared() {
        let rules = PollRules(kind: .ranking, options: [1, 2, 3, 4], method: .schulze)
        let t = tally(rules, [.ranking([2]), .ranking([2]), .ranking([3, 4])])
        let n = 4
        // Option 2 (slot 1) beats everyone twice; 3 beats 4 and the rest once; 1 is never above anyone.
        #expect(t.pairwise[1 * n + 0] == 2 && t.pairwise[1 * n + 2] == 2 && t.pairwise[1 * n + 3] == 2)
        #expect(t.pairwise[2 * n + 1] == 1 && t.pairwise[2 * n + 3] == 1 && t.pairwise[3 * n + 0] == 1)
        #expect(t.pairwise[0 * n + 3] == 0, "two unranked options are not compared")
        let r = t.results()
        #expect(r.options.map(\.option) == [2, 3, 4, 1])
        #expect(r.options.map(\.score) == [3, 2, 1, 0])
    }

    @Test func inapplicableMethodFallsBackToDefault() {
        let t = tally(PollRules(kind: .single, options: [1, 2]), [.single(2)])
        #expect(t.results(using: .schulze).method == .count)
        #expect(t.results(using: .schulze).options.first?.option == 2)
    }

    @Test func tieBreakBySupportThenId() {
        // Points: 3 and 1 both total 6, but 3 had two supporters; 2 and 4 total 4 with one each.
        let r = tally(
            PollRules(kind: .points, options: [4, 3, 2, 1], budget: 10),
            [
                .points([3: 3, 2: 4]), .points([3: 3, 4: 4]), .points([1: 6]),
            ]
        ).results()
        #expect(r.options.map(\.option) == [3, 1, 2, 4])
        #expect(r.options.map(\.rank) == [1, 2, 3, 4])
        #expect(r.options.map(\.tied) == [true, true, true, true])
    }

    @Test func openAnswersAreCountedWithoutAuthors() {
        let r = tally(
            PollRules(kind: .open),
            [
                .open("Mentoring"), .open(" Mentoring\n"), .open("Funding"), .open("Admin help"), .open("Funding"),
                .open("Mentoring"),
            ]
        ).results()
        #expect(r.ballots == 6)
        #expect(r.options.isEmpty)
        #expect(
            r.answers == [
                AnswerCount(text: "Mentoring", count: 3), AnswerCount(text: "Funding", count: 2),
                AnswerCount(text: "Admin help", count: 1),
            ])
    }

    @Test func intervalsAlwaysSurroundScore() {
        let t = tally(PollRules(kind: .single, options: [1, 2]), [.single(1)])
        for o in t.results().options { #expect(o.low <= o.score && o.score <= o.high) }
        let empty = PollTally(rules: PollRules(kind: .points, options: [1, 2])).results()
        #expect(empty.options.allSatisfy { $0.score == 0 && $0.low == 0 && $0.high == 0 })
    }
}
