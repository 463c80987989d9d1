import Testing

@testable import RoundtableCore

@Suite struct PollsNeedsRankingTests {
    func close(_ a: Double, _ b: Double, _ eps: Double = 1e-6) -> Bool { abs(a - b) <= eps }

    /// The docs/RANKING.md example: a single-choice poll over needs 1, 2, 3 (and 7, since removed) and a
    /// rating poll over needs 2, 3, 4; need 5 is in no poll.
    func example() -> [RankedNeed] {
        let single = PollTally(
            rules: PollRules(kind: .single, options: [1, 2, 3, 7]),
            ballots: Array(repeating: Ballot.single(1), count: 6) + Array(repeating: .single(2), count: 3) + [.single(3)]
        ).results()
        let rating = PollTally(
            rules: PollRules(kind: .rating, options: [2, 3, 4], ratingPriorWeight: 0),
            ballots: Array(repeating: Ballot.rating([2: 4, 3: 3, 4: 2]), count: 2)
        ).results()
        return NeedsRanking.rank([single, rating], needs: [5, 4, 3, 2, 1])
    }

    @Test func workedExample() {
        let ranked = example()
        #expect(ranked.map(\.need) == [1, 2, 3, 4, 5])
        #expect(ranked.map(\.rank) == [1, 2, 3, 4, 5])
        #expect(ranked.map(\.polls) == [1, 2, 2, 1, 0])
        #expect(ranked.map(\.support) == [6, 5, 3, 2, 0])
        #expect(close(ranked[0].score, 1) && close(ranked[0].low, 0.521116) && close(ranked[0].high, 1.386371))
        #expect(close(ranked[1].score, 0.75) && close(ranked[1].low, 0.589824) && close(ranked[1].high, 1.002689))
        #expect(close(ranked[2].score, 5.0 / 12) && close(ranked[2].low, 0.348230) && close(ranked[2].high, 0.670130))
        #expect(close(ranked[3].score, 1.0 / 3))
        #expect(ranked[4].score == 0 && ranked[4].low == 0 && ranked[4].high == 0)
    }

    @Test func uncoveredNeedsRankLastById() {
        let poll = PollTally(rules: PollRules(kind: .single, options: [9]), ballots: [Ballot.single(9)]).results()
        let ranked = NeedsRanking.rank([poll], needs: [30, 9, 10, 20, 10])
        #expect(ranked.map(\.need) == [9, 10, 20, 30], "repeated ids are ranked once")
        #expect(ranked.map(\.polls) == [1, 0, 0, 0])
    }

    @Test func emptyOpenAndFlatPollsDoNotCover() {
        let empty = PollTally(rules: PollRules(kind: .single, options: [1, 2])).results()
        let open = PollTally(rules: PollRules(kind: .open), ballots: [Ballot.open("x")]).results()
        // One Schulze ballot ranking nothing above anything cannot exist, but a Borda poll over one option
        // gives it 0 points: the poll does not discriminate, so it says nothing.
        let flat = PollTally(rules: PollRules(kind: .ranking, options: [2]), ballots: [Ballot.ranking([2])]).results()
        let ranked = NeedsRanking.rank([empty, open, flat], needs: [2, 1])
        #expect(ranked.map(\.need) == [1, 2])
        #expect(ranked.allSatisfy { $0.polls == 0 })
    }

    @Test func ratingPollsNormalizeFromTheScaleMinimum() {
        let rating = PollTally(
            rules: PollRules(kind: .rating, options: [1, 2], scaleMin: 1, scaleMax: 5, ratingPriorWeight: 0),
            ballots: [Ballot.rating([1: 5, 2: 1])]
        ).results()
        let ranked = NeedsRanking.rank([rating], needs: [1, 2])
        #expect(ranked.map(\.score) == [1, 0], "the lowest rating maps to 0, not to 1/5")
    }

    @Test func tiesBreakBySupportThenId() {
        let a = PollTally(rules: PollRules(kind: .single, options: [1, 2]), ballots: [Ballot.single(1), .single(2)]).results()
        let b = PollTally(rules: PollRules(kind: .single, options: [3, 2]), ballots: [Ballot.single(3), .single(2)]).results()
        let ranked = NeedsRanking.rank([a, b], needs: [3, 1, 2])
        // All score 1; need 2 has two supporters over two polls, 1 and 3 one each.
        #expect(ranked.map(\.need) == [2, 1, 3])
        #expect(ranked.map(\.tied) == [true, true, true])
    }
}
