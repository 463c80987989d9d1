import RoundtableTestSupport
import Testing

@testable import RoundtableCore

/// Seeded, bounded property checks of the ranking methods.
@Suite struct PollsPropertyTests {
    func relabel(_ b: Ballot, _ f: [OptionID: OptionID]) -> Ballot {
        switch b {
        case .ranking(let os): .ranking(os.map { f[$0]! })
        default: b
        }
    }

    @Test(arguments: [RankingMethod.borda, .schulze])
    func invariantUnderRelabelling(method: RankingMethod) {
        var rng = SplitMix64(seed: method == .borda ? 101 : 202)
        for _ in 0..<60 {
            var rules = PollsGen.rules(.ranking, &rng)
            rules.method = method
            let ballots = PollsGen.ballots(rules, Int.random(in: 1...30, using: &rng), &rng)
            // New ids in a new order: neither the ids nor the option positions may matter.
            let newIds = PollsGen.options(&rng, count: rules.options.count...rules.options.count)
            let f = Dictionary(uniqueKeysWithValues: zip(rules.options, newIds))
            var relabelled = rules
            relabelled.options = rules.options.map { f[$0]! }.shuffled(using: &rng)
            let a = PollTally(rules: rules, ballots: ballots).results()
            let b = PollTally(rules: relabelled, ballots: ballots.map { relabel($0, f) }).results()
            #expect(a.options.map(\.score) == b.options.map(\.score))
            for o in a.options {
                let m = b.result(for: f[o.option]!)!
                #expect(m.score == o.score && m.low == o.low && m.high == o.high && m.support == o.support)
                // Only the id tie-break may reorder options, and only among exactly equal scores.
                if !o.tied { #expect(m.rank == o.rank) }
            }
        }
    }

    /// Pairwise counts straight from the ballots, independently of the tally's matrix.
    func prefers(_ ballots: [Ballot], _ a: OptionID, _ b: OptionID) -> Int {
        ballots.count { ballot in
            guard case .ranking(let os) = ballot, let pa = os.firstIndex(of: a) else { return false }
            guard let pb = os.firstIndex(of: b) else { return true }
            return pa < pb
        }
    }

    @Test func condorcetWinnerRanksFirstUnderSchulze() {
        var rng = SplitMix64(seed: 303)
        var winners = 0
        for _ in 0..<150 {
            var rules = PollsGen.rules(.ranking, &rng)
            rules.method = .schulze
            let favourite = rules.options.randomElement(using: &rng)!
            // A slight lean toward one option makes Condorcet winners common without making them certain.
            let ballots = (0..<Int.random(in: 1...25, using: &rng)).map { _ -> Ballot in
                let b = PollsGen.ballot(rules, &rng)
                guard Double.random(in: 0..<1, using: &rng) < 0.3, case .ranking(let os) = b else { return b }
                return .ranking([favourite] + os.filter { $0 != favourite })
            }
            let r = PollTally(rules: rules, ballots: ballots).results()
            let condorcet = rules.options.first { c in
                rules.options.allSatisfy { x in x == c || prefers(ballots, c, x) > prefers(ballots, x, c) }
            }
            guard let c = condorcet else { continue }
            winners += 1
            #expect(r.options.first?.option == c)
            #expect(r.options.first?.score == Double(rules.options.count - 1))
            #expect(r.options.first?.tied == false)
        }
        #expect(winners > 50, "the generator should produce enough Condorcet winners to test")
    }

    @Test func schulzeMatrixMatchesBallots() {
        var rng = SplitMix64(seed: 404)
        for _ in 0..<30 {
            let rules = PollsGen.rules(.ranking, &rng)
            let ballots = PollsGen.ballots(rules, 20, &rng)
            let t = PollTally(rules: rules, ballots: ballots)
            let n = rules.options.count
            for (i, a) in rules.options.enumerated() {
                for (j, b) in rules.options.enumerated() where i != j {
                    #expect(t.pairwise[i * n + j] == prefers(ballots, a, b))
                }
            }
        }
    }

    @Test(arguments: PollKind.allCases)
    func resultsAreAStrictOrderWithIntervalsAroundScores(kind: PollKind) {
        var rng = SplitMix64(seed: 505 &+ UInt64(PollKind.allCases.firstIndex(of: kind)!))
        for _ in 0..<30 {
            let rules = PollsGen.rules(kind, &rng)
            let r = PollTally(rules: rules, ballots: PollsGen.ballots(rules, Int.random(in: 0...30, using: &rng), &rng))
                .results()
            for (x, y) in zip(r.options, r.options.dropFirst()) {
                #expect(x.score > y.score || (x.score == y.score && (x.support, y.option) >= (y.support, x.option)))
                #expect((x.score == y.score) == (x.tied && y.tied) || x.score != y.score)
            }
            for o in r.options {
                #expect(o.low <= o.score && o.score <= o.high)
                #expect(o.low.isFinite && o.high.isFinite)
            }
            #expect(Set(r.options.map(\.option)) == Set(rules.options) || kind == .open)
        }
    }
}
