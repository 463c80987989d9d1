import RoundtableTestSupport
import Testing

@testable import RoundtableCore

/// Random valid polls and ballots for the property tests.
enum PollsGen {
    static func options(_ rng: inout SplitMix64, count: ClosedRange<Int> = 2...7) -> [OptionID] {
        var ids = Set<OptionID>()
        let n = Int.random(in: count, using: &rng)
        while ids.count < n { ids.insert(Int.random(in: 1...1000, using: &rng)) }
        // Sorted first: a Set's order may differ between two equal sets even in one process (per-instance
        // hash seeds; ASan's different addresses showed it), which made the "same seed" runs differ.
        return ids.sorted().shuffled(using: &rng)
    }

    static func rules(_ kind: PollKind, _ rng: inout SplitMix64) -> PollRules {
        let opts = options(&rng)
        switch kind {
        case .multi: return PollRules(kind: .multi, options: opts, maxChoices: Int.random(in: 1...opts.count, using: &rng))
        case .rating:
            return PollRules(kind: .rating, options: opts, scaleMin: Int.random(in: -2...1, using: &rng), scaleMax: Int.random(in: 3...7, using: &rng))
        case .points: return PollRules(kind: .points, options: opts, budget: Int.random(in: 1...20, using: &rng))
        case .open: return PollRules(kind: .open, maxAnswerLength: 40)
        case .ranking: return PollRules(kind: .ranking, options: opts, method: Bool.random(using: &rng) ? .borda : .schulze)
        case .single: return PollRules(kind: .single, options: opts)
        }
    }

    static func subset(_ opts: [OptionID], _ rng: inout SplitMix64, max: Int? = nil) -> [OptionID] {
        let k = Int.random(in: 1...Swift.min(max ?? opts.count, opts.count), using: &rng)
        return Array(opts.shuffled(using: &rng).prefix(k))
    }

    static let vocabulary = ["Mentoring", "Funding", "Admin help", "Shared tools", "Peer review"]

    static func ballot(_ rules: PollRules, _ rng: inout SplitMix64) -> Ballot {
        let opts = rules.options
        switch rules.kind {
        case .single:
            return .single(opts.randomElement(using: &rng)!)
        case .multi:
            return .multi(subset(opts, &rng, max: rules.maxChoices))
        case .rating:
            var r: [OptionID: Int] = [:]
            for o in subset(opts, &rng) { r[o] = Int.random(in: rules.scaleMin...rules.scaleMax, using: &rng) }
            return .rating(r)
        case .ranking:
            return .ranking(subset(opts, &rng))
        case .points:
            var p: [OptionID: Int] = [:]
            var left = rules.budget
            for o in subset(opts, &rng) {
                let v = Int.random(in: 0...left, using: &rng)
                p[o] = v
                left -= v
            }
            if left == rules.budget { p[p.keys.min()!] = 1 }
            return .points(p)
        case .open:
            let pad = ["", " ", "\n", "  "]
            return .open(pad.randomElement(using: &rng)! + vocabulary.randomElement(using: &rng)! + pad.randomElement(using: &rng)!)
        }
    }

    static func ballots(_ rules: PollRules, _ count: Int, _ rng: inout SplitMix64) -> [Ballot] {
        (0..<count).map { _ in ballot(rules, &rng) }
    }
}

@Suite struct PollsSupportTests {
    @Test func generatorOnlyMakesValidBallots() {
        var rng = SplitMix64(seed: 1)
        for kind in PollKind.allCases {
            for _ in 0..<50 {
                let rules = PollsGen.rules(kind, &rng)
                #expect(rules.check() == nil)
                for b in PollsGen.ballots(rules, 20, &rng) { #expect(rules.validate(b) == nil, "\(b) vs \(rules)") }
            }
        }
    }

    @Test func generatorIsReproducible() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        let rules = PollsGen.rules(.ranking, &a)
        #expect(rules == PollsGen.rules(.ranking, &b))
        #expect(PollsGen.ballots(rules, 10, &a) == PollsGen.ballots(rules, 10, &b))
    }
}
