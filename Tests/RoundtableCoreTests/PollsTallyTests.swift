import RoundtableTestSupport
import Testing

@testable import RoundtableCore

@Suite struct PollsTallyTests {
    @Test(arguments: PollKind.allCases)
    func incrementalEqualsFromScratch(kind: PollKind) {
        var rng = SplitMix64(seed: 7 &+ UInt64(PollKind.allCases.firstIndex(of: kind)!))
        for _ in 0..<30 {
            let rules = PollsGen.rules(kind, &rng)
            var tally = PollTally(rules: rules)
            var live: [Ballot] = []
            for _ in 0..<60 {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<5:
                    let b = PollsGen.ballot(rules, &rng)
                    #expect(tally.add(b) == nil)
                    live.append(b)
                case 5..<8 where !live.isEmpty:
                    let b = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                    #expect(tally.remove(b) == nil)
                case _ where !live.isEmpty:
                    let i = Int.random(in: 0..<live.count, using: &rng)
                    let b = PollsGen.ballot(rules, &rng)
                    #expect(tally.replace(live[i], with: b) == nil)
                    live[i] = b
                default:
                    break
                }
            }
            let scratch = PollTally(rules: rules, ballots: live.shuffled(using: &rng))
            #expect(tally == scratch)
            #expect(tally.results() == scratch.results())
            #expect(tally.ballots == live.count)
        }
    }

    @Test func removingEverythingRestoresTheEmptyTally() {
        var rng = SplitMix64(seed: 11)
        for kind in PollKind.allCases {
            let rules = PollsGen.rules(kind, &rng)
            let ballots = PollsGen.ballots(rules, 40, &rng)
            var t = PollTally(rules: rules, ballots: ballots)
            for b in ballots.shuffled(using: &rng) { t.remove(b) }
            #expect(t == PollTally(rules: rules))
        }
    }

    @Test func replaceEqualsRetractThenCast() {
        var rng = SplitMix64(seed: 3)
        for kind in PollKind.allCases {
            for _ in 0..<20 {
                let rules = PollsGen.rules(kind, &rng)
                let base = PollsGen.ballots(rules, 10, &rng)
                let old = base[3], new = PollsGen.ballot(rules, &rng)
                var replaced = PollTally(rules: rules, ballots: base)
                var manual = replaced
                #expect(replaced.replace(old, with: new) == nil)
                manual.remove(old)
                manual.add(new)
                #expect(replaced == manual)
            }
        }
    }

    @Test func refusedReplacementKeepsTheOldBallot() {
        var t = PollTally(rules: PollRules(kind: .single, options: [1, 2]), ballots: [Ballot.single(1)])
        let before = t
        #expect(t.replace(.single(1), with: .single(9))?.reason == .unknownOption)
        #expect(t == before)
    }

    @Test(arguments: PollKind.allCases)
    func totalsEqualTheSumOfBallots(kind: PollKind) {
        var rng = SplitMix64(seed: 5 &+ UInt64(PollKind.allCases.firstIndex(of: kind)!))
        for _ in 0..<20 {
            var rules = PollsGen.rules(kind, &rng)
            if kind == .rating { rules.ratingPriorWeight = 0 }
            let ballots = PollsGen.ballots(rules, Int.random(in: 1...40, using: &rng), &rng)
            let r = PollTally(rules: rules, ballots: ballots).results()
            #expect(r.ballots == ballots.count)
            let n = Double(rules.options.count)
            let total = r.options.map(\.score).reduce(0, +)
            switch kind {
            case .single:
                #expect(total == Double(ballots.count))
            case .multi:
                #expect(total == Double(ballots.map(\.touchedOptions.count).reduce(0, +)))
            case .points:
                let given = ballots.map { if case .points(let p) = $0 { p.values.reduce(0, +) } else { 0 } }
                #expect(total == Double(given.reduce(0, +)))
            case .ranking where rules.method == .borda:
                #expect(total == Double(ballots.count) * n * (n - 1) / 2)
            case .rating:
                // Without a prior each rated option's score is its plain mean, so score × support = its sum.
                var sums: [OptionID: Int] = [:]
                for case .rating(let rs) in ballots { for (o, v) in rs { sums[o, default: 0] += v } }
                for o in r.options where o.support > 0 {
                    #expect(abs(o.score * Double(o.support) - Double(sums[o.option]!)) < 1e-9)
                }
            case .open:
                #expect(r.answers.map(\.count).reduce(0, +) == ballots.count)
            case .ranking:
                break
            }
            let supports = ballots.flatMap(\.touchedOptions)
            for o in r.options { #expect(o.support == supports.count { $0 == o.option }) }
            for o in r.options { #expect(o.low <= o.score && o.score <= o.high) }
            #expect(kind == .open || r.options.map(\.rank) == Array(1...Int(n)))
        }
    }

    @Test func mergeRemapsEachKind() {
        let m: Set<OptionID> = [2, 3]
        #expect(Ballot.single(3).remapped(merging: m, into: 9) == .single(9))
        #expect(Ballot.single(1).remapped(merging: m, into: 9) == .single(1))
        #expect(Ballot.multi([1, 3, 4, 2]).remapped(merging: m, into: 9) == .multi([1, 9, 4]))
        #expect(Ballot.rating([1: 2, 2: 3, 3: 5]).remapped(merging: m, into: 9) == .rating([1: 2, 9: 5]))
        #expect(Ballot.ranking([4, 3, 1, 2]).remapped(merging: m, into: 9) == .ranking([4, 9, 1]))
        #expect(Ballot.points([1: 1, 2: 4, 3: 5]).remapped(merging: m, into: 9) == .points([1: 1, 9: 9]))
        #expect(Ballot.open("x").remapped(merging: m, into: 9) == .open("x"))
        // Merging into an existing option that is itself rated keeps the highest rating.
        #expect(Ballot.rating([1: 4, 2: 3]).remapped(merging: [2], into: 1) == .rating([1: 4]))
        let rules = PollRules(kind: .ranking, options: [1, 2, 3, 4]).merging(m, into: 9)
        #expect(rules.options == [1, 9, 4])
        #expect(PollRules(kind: .ranking, options: [1, 2, 3]).merging([3], into: 1).options == [1, 2])
    }

    @Test(arguments: PollKind.allCases)
    func mergeKeepsBallotsValidAndTallyConsistent(kind: PollKind) {
        var rng = SplitMix64(seed: 17 &+ UInt64(PollKind.allCases.firstIndex(of: kind)!))
        for _ in 0..<40 {
            let rules = PollsGen.rules(kind, &rng)
            let ballots = PollsGen.ballots(rules, 25, &rng)
            var tally = PollTally(rules: rules, ballots: ballots)
            let merged = kind == .open ? [1] : Array(rules.options.shuffled(using: &rng).prefix(Int.random(in: 1...2, using: &rng)))
            // The target is a new id, one of the merged or another existing option.
            let target = [5000, merged[0], rules.options.randomElement(using: &rng) ?? 5000].randomElement(using: &rng)!
            let remapped = tally.mergeOptions(merged, into: target, ballots: ballots)
            #expect(remapped.count == ballots.count)
            #expect(tally.rules.check() == nil)
            for b in remapped { #expect(tally.rules.validate(b) == nil, "\(b) under \(tally.rules)") }
            #expect(tally == PollTally(rules: tally.rules, ballots: remapped))
            #expect(tally.ballots == ballots.count)
            if kind != .open {
                #expect(tally.rules.options.contains(target))
                #expect(Set(tally.rules.options) == Set(rules.options).subtracting(merged).union([target]))
            }
            if kind == .points || kind == .single {
                // Points are summed and choices renamed, so the merged option's score is the sum of the parts.
                let before = PollTally(rules: rules, ballots: ballots).results()
                let parts = Set(merged).union(rules.options.contains(target) ? [target] : [])
                let expected = before.options.filter { parts.contains($0.option) }.map(\.score).reduce(0, +)
                #expect(tally.results().result(for: target)!.score == expected)
            }
        }
    }

    @Test(arguments: PollKind.allCases)
    func removingAnOptionKeepsSurvivorsValid(kind: PollKind) {
        var rng = SplitMix64(seed: 23 &+ UInt64(PollKind.allCases.firstIndex(of: kind)!))
        for _ in 0..<40 {
            let rules = PollsGen.rules(kind, &rng)
            let ballots = PollsGen.ballots(rules, 25, &rng)
            let gone = rules.options.randomElement(using: &rng) ?? 1
            var tally = PollTally(rules: rules, ballots: ballots)
            let reduced = tally.removeOption(gone, ballots: ballots)
            #expect(reduced.count == ballots.count)
            #expect(!tally.rules.options.contains(gone))
            let survivors = reduced.compactMap { $0 }
            for b in survivors {
                #expect(tally.rules.validate(b) == nil)
                #expect(!b.touchedOptions.contains(gone))
            }
            for (b, r) in zip(ballots, reduced) where r == nil {
                // Only ballots whose whole weight sat on the removed option disappear.
                #expect(Set(b.touchedOptions) == [gone])
            }
            #expect(tally == PollTally(rules: tally.rules, ballots: survivors))
        }
    }

    @Test func removeOptionExamples() {
        #expect(Ballot.single(2).removing(2) == nil)
        #expect(Ballot.multi([1, 2]).removing(2) == .multi([1]))
        #expect(Ballot.ranking([3, 2, 1]).removing(2) == .ranking([3, 1]))
        #expect(Ballot.rating([2: 5]).removing(2) == nil)
        #expect(Ballot.points([1: 0, 2: 5]).removing(2) == nil)
        #expect(Ballot.points([1: 3, 2: 5]).removing(2) == .points([1: 3]))
        var t = PollTally(rules: PollRules(kind: .ranking, options: [1, 2, 3]), ballots: [Ballot.ranking([2, 3, 1])])
        _ = t.removeOption(2, ballots: [.ranking([2, 3, 1])])
        // Two options left: the ballot ranks 3 above 1, so Borda gives 3 one point and 1 none.
        #expect(t.results().options.map(\.option) == [3, 1])
        #expect(t.results().options.map(\.score) == [1, 0])
    }

    @Test func tenThousandBallotsFromTheIncrementalTally() {
        var rng = SplitMix64(seed: 10_000)
        let options = Array(1...20)
        let rules = PollRules(kind: .ranking, options: options, method: .schulze)
        var tally = PollTally(rules: rules)
        // Members lean toward low ids so the ranking has a clear shape to recover.
        var cast: [Ballot] = []
        for _ in 0..<10_000 {
            let order = options.sorted { a, b in
                Double(a) + Double.random(in: 0...12, using: &rng) < Double(b) + Double.random(in: 0...12, using: &rng)
            }
            let b = Ballot.ranking(Array(order.prefix(Int.random(in: 1...20, using: &rng))))
            #expect(tally.add(b) == nil)
            cast.append(b)
        }
        for b in cast.prefix(500) { tally.remove(b) }
        let schulze = tally.results()
        let borda = tally.results(using: .borda)
        #expect(schulze.ballots == 9_500)
        #expect(schulze.options.first?.option == 1)
        #expect(schulze.options.last?.option == 20)
        #expect(borda.options.map(\.score).reduce(0, +) == 9_500 * 190)
        #expect(borda.options.first?.option == 1)
        // With thousands of ballots the best and worst are clearly separated under both methods.
        #expect(schulze.options.first!.low > schulze.options.last!.high)
        #expect(borda.options.first!.low > borda.options.last!.high)
        #expect(tally == PollTally(rules: rules, ballots: cast.dropFirst(500)))
    }
}
