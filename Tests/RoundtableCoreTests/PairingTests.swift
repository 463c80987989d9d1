import Foundation
// Public API only, so the benchmark below also builds in release without `-enable-testing`.
import RoundtableCore
import Testing

/// A seeded generator for the tests' own random rooms (independent of the seed given to `pair`).
struct PairingRNG: RandomNumberGenerator {
    var entropy: SeededEntropy
    init(seed: UInt64) { entropy = SeededEntropy(seed: seed) }
    mutating func next() -> UInt64 { entropy.next() }
}

/// An independent model of the rules, written against the candidates' sets, to check results with.
struct PairingModel {
    let byID: [MemberID: PairingCandidate]
    let strategy: PairingStrategy
    let history: Set<PairKey>
    /// Pair verdicts (bit 0: repeat, bit 1: wish unmet; -1: not computed yet), cached because the
    /// exchange check asks for the same pairs many times and debug-build set operations are slow.
    private final class Cache { var index: [MemberID: Int] = [:]; var verdict: [Int8] = [] }
    private let cache = Cache()

    init(_ candidates: [PairingCandidate], _ strategy: PairingStrategy, _ history: Set<PairKey>) {
        byID = Dictionary(candidates.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.strategy = strategy
        self.history = history
        for id in byID.keys.sorted() { cache.index[id] = cache.index.count }
        cache.verdict = [Int8](repeating: -1, count: byID.count * byID.count)
    }

    func isRepeat(_ a: MemberID, _ b: MemberID) -> Bool { history.contains(PairKey(a, b)) }
    func sameOrganization(_ a: MemberID, _ b: MemberID) -> Bool {
        let x = byID[a]!.organization
        return !x.isEmpty && x == byID[b]!.organization
    }
    func matches(_ a: MemberID, _ b: MemberID) -> Bool {
        let x = byID[a]!, y = byID[b]!
        return !x.interests.isDisjoint(with: y.expertise) || !y.interests.isDisjoint(with: x.expertise)
    }
    func wishUnmet(_ a: MemberID, _ b: MemberID) -> Bool {
        switch strategy {
        case .random: false
        case .crossOrganization: sameOrganization(a, b)
        case .needExpertise: !matches(a, b)
        }
    }

    private func verdict(_ a: MemberID, _ b: MemberID) -> Int8 {
        let k = cache.index[a]! * byID.count + cache.index[b]!
        if cache.verdict[k] < 0 { cache.verdict[k] = (isRepeat(a, b) ? 1 : 0) | (wishUnmet(a, b) ? 2 : 0) }
        return cache.verdict[k]
    }

    static func memberPairs(_ group: [MemberID]) -> [(MemberID, MemberID)] {
        var out: [(MemberID, MemberID)] = []
        for i in group.indices { for j in group.indices where j > i { out.append((group[i], group[j])) } }
        return out
    }

    /// (repeats, unmet wishes) of a group: compared lexicographically, repeats first.
    func cost(_ group: [MemberID]) -> (repeats: Int, wishes: Int) {
        var r = 0, w = 0
        for (a, b) in Self.memberPairs(group) {
            let v = verdict(a, b)
            r += Int(v & 1)
            w += Int(v >> 1)
        }
        return (r, w)
    }

    /// Exchanges of one member between two groups that would lower their combined cost, as text.
    /// Empty means the arrangement is a local optimum in the sense the brief asks for.
    func improvingExchanges(_ groups: [[MemberID]], limit: Int = 3) -> [String] {
        let costs = groups.map(cost)
        var found: [String] = []
        for g in groups.indices where costs[g] != (0, 0) {
            for h in groups.indices where h != g {
                let before = (costs[g].repeats + costs[h].repeats, costs[g].wishes + costs[h].wishes)
                for p in groups[g].indices {
                    for q in groups[h].indices {
                        var ng = groups[g], nh = groups[h]
                        (ng[p], nh[q]) = (nh[q], ng[p])
                        let a = cost(ng), b = cost(nh)
                        if (a.repeats + b.repeats, a.wishes + b.wishes) < before {
                            found.append("\(groups[g]) + \(groups[h]) -> \(ng) + \(nh)")
                            if found.count >= limit { return found }
                        }
                    }
                }
            }
        }
        return found
    }
}

/// Random rooms: small organization and tag pools so collisions (same organization, shared tags) are common.
enum PairingGen {
    static func room(_ n: Int, _ rng: inout PairingRNG, organizations: Int? = nil, tags: Int? = nil) -> [PairingCandidate] {
        let orgPool = organizations ?? Int.random(in: 1...6, using: &rng)
        let tagPool = tags ?? Int.random(in: 2...12, using: &rng)
        let firstID = Int.random(in: 1...1_000, using: &rng)
        func someTags(_ rng: inout PairingRNG) -> Set<String> {
            Set((0..<Int.random(in: 0...3, using: &rng)).map { _ in "t\(Int.random(in: 0..<tagPool, using: &rng))" })
        }
        return (0..<n).map { i in
            // One member in ten has no organization, which must never count as "same".
            let org = Int.random(in: 0..<10, using: &rng) == 0 ? "" : "org\(Int.random(in: 0..<orgPool, using: &rng))"
            return PairingCandidate(id: firstID + 3 * i, organization: org, interests: someTags(&rng), expertise: someTags(&rng))
        }
    }

    /// Sizes 2...500, weighted towards small rooms so many rooms fit the time budget.
    static func size(_ rng: inout PairingRNG) -> Int {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<6: Int.random(in: 2...20, using: &rng)
        case 6..<9: Int.random(in: 21...120, using: &rng)
        default: Int.random(in: 121...500, using: &rng)
        }
    }

    static func add(_ result: PairingResult, to history: inout Set<PairKey>) {
        for g in result.groups { for (a, b) in PairingModel.memberPairs(g) { history.insert(PairKey(a, b)) } }
    }

    static func maxDegree(_ history: Set<PairKey>, _ ids: [MemberID]) -> Int {
        var degree: [MemberID: Int] = [:]
        let here = Set(ids)
        for k in history where here.contains(k.a) && here.contains(k.b) {
            degree[k.a, default: 0] += 1
            degree[k.b, default: 0] += 1
        }
        return degree.values.max() ?? 0
    }
}

@Suite struct PairingTests {
    /// Every candidate in exactly one group; pairs only, plus one trio exactly when the count is odd.
    func checkPartition(_ r: PairingResult, _ candidates: [PairingCandidate], _ label: String) {
        let ids = candidates.map(\.id)
        let placed = r.groups.flatMap { $0 }
        #expect(placed.sorted() == ids.sorted(), "\(label): every candidate exactly once")
        #expect(r.unpaired.isEmpty, "\(label)")
        #expect(r.groups.allSatisfy { $0.count == 2 || $0.count == 3 }, "\(label)")
        #expect(r.groups.count { $0.count == 3 } == ids.count % 2, "\(label): one trio iff odd")
    }

    /// The result's counts, recomputed from the groups by the model.
    func checkCounts(_ r: PairingResult, _ model: PairingModel, _ label: String) {
        let pairs = r.groups.flatMap(PairingModel.memberPairs)
        let repeats = pairs.count { model.isRepeat($0.0, $0.1) }
        let same = pairs.count { model.sameOrganization($0.0, $0.1) }
        #expect(r.repeatedPairs == repeats, "\(label)")
        #expect(r.sameOrganizationPairs == same, "\(label)")
        #expect(r.expertiseMatches == pairs.count { model.matches($0.0, $0.1) }, "\(label)")
        switch model.strategy {
        case .random: #expect(r.unmetConstraints == repeats, "\(label)")
        case .crossOrganization: #expect(r.unmetConstraints == repeats + same, "\(label)")
        case .needExpertise: #expect(r.unmetConstraints >= repeats, "\(label)")
        }
    }

    /// Many random rooms, several rounds each: partition, counts, and no improving exchange left
    /// (so no repeat or unmet wish that one swap between two groups could remove without a worse cost).
    @Test(arguments: PairingStrategy.allCases)
    func randomRoomsOverRounds(strategy: PairingStrategy) {
        var rng = PairingRNG(seed: 7 + UInt64(PairingStrategy.allCases.firstIndex(of: strategy)!))
        for roomIndex in 0..<30 {
            let candidates = PairingGen.room(PairingGen.size(&rng), &rng)
            var history = Set<PairKey>()
            for round in 0..<4 {
                let label = "\(strategy) room \(roomIndex) n=\(candidates.count) round \(round)"
                let r = Pairing.pair(candidates, strategy: strategy, history: history, seed: rng.next())
                let model = PairingModel(candidates, strategy, history)
                checkPartition(r, candidates, label)
                checkCounts(r, model, label)
                let better = model.improvingExchanges(r.groups)
                #expect(better.isEmpty, "\(label): \(better)")
                PairingGen.add(r, to: &history)
            }
        }
    }

    /// Round 2 of 10 members: a fresh arrangement obviously exists, so there must be no repeat.
    @Test(arguments: PairingStrategy.allCases)
    func secondRoundOfTenHasNoRepeat(strategy: PairingStrategy) {
        var rng = PairingRNG(seed: 99)
        for _ in 0..<150 {
            let candidates = PairingGen.room(10, &rng)
            let first = Pairing.pair(candidates, strategy: strategy, history: [], seed: rng.next())
            var history = Set<PairKey>()
            PairingGen.add(first, to: &history)
            let second = Pairing.pair(candidates, strategy: strategy, history: history, seed: rng.next())
            #expect(second.repeatedPairs == 0)
        }
    }

    /// While everyone has met at most a quarter of the room, a fresh arrangement exists (each member
    /// has more than half the room left to meet, Dirac's condition), and none may repeat.
    @Test(arguments: PairingStrategy.allCases)
    func noRepeatWhileMostOfTheRoomIsFresh(strategy: PairingStrategy) {
        var rng = PairingRNG(seed: 1234)
        for _ in 0..<25 {
            let n = Int.random(in: 8...200, using: &rng)
            let candidates = PairingGen.room(n, &rng)
            var history = Set<PairKey>()
            var round = 0
            // Eight rounds at most: later rounds of large rooms add time, not coverage.
            while round < 8 && PairingGen.maxDegree(history, candidates.map(\.id)) <= n / 4 {
                let r = Pairing.pair(candidates, strategy: strategy, history: history, seed: rng.next())
                #expect(r.repeatedPairs == 0, "n=\(n) round \(round)")
                PairingGen.add(r, to: &history)
                round += 1
            }
        }
    }

    /// Two organizations of equal size: every pair can cross, also in later rounds while each member
    /// has at least half of the other organization left to meet.
    @Test func twoEqualOrganizationsNeverPairWithin() {
        var rng = PairingRNG(seed: 5)
        for k in 2...60 {
            let candidates = (0..<(2 * k)).map { PairingCandidate(id: $0, organization: $0 % 2 == 0 ? "A" : "B") }
            var history = Set<PairKey>()
            for round in 0..<max(1, k / 2) {
                let r = Pairing.pair(candidates, strategy: .crossOrganization, history: history, seed: rng.next())
                #expect(r.sameOrganizationPairs == 0 && r.repeatedPairs == 0 && r.unmetConstraints == 0, "k=\(k) round \(round)")
                PairingGen.add(r, to: &history)
            }
        }
    }

    /// Without history, same-organization pairs appear only when one organization has more than
    /// half of the room, and then exactly as many as its surplus forces.
    @Test func sameOrganizationPairsOnlyWhenForced() {
        var rng = PairingRNG(seed: 6)
        for _ in 0..<200 {
            let n = Int.random(in: 2...160, using: &rng)
            let orgCount = Int.random(in: 1...5, using: &rng)
            let candidates = (0..<n).map { PairingCandidate(id: $0, organization: "o\(Int.random(in: 0..<orgCount, using: &rng))") }
            let largest = Dictionary(grouping: candidates, by: \.organization).values.map(\.count).max()!
            let others = n - largest
            // Even: the largest organization's surplus, halved. Odd: its best use of the trio is two of
            // its members with one other (one pair within), or three of its own if there is no other.
            let forced =
                largest <= others
                ? 0
                : n % 2 == 0
                    ? (largest - others) / 2
                    : others == 0 ? (largest + 3) / 2 : (largest - others + 1) / 2
            let r = Pairing.pair(candidates, strategy: .crossOrganization, history: [], seed: rng.next())
            #expect(r.sameOrganizationPairs == forced, "n=\(n) largest=\(largest)")
        }
    }

    /// A member without an organization may meet anyone, including other members without one.
    @Test func emptyOrganizationIsNeverSame() {
        let candidates = (0..<6).map { PairingCandidate(id: $0, organization: "") }
        let r = Pairing.pair(candidates, strategy: .crossOrganization, history: [], seed: 1)
        #expect(r.sameOrganizationPairs == 0 && r.unmetConstraints == 0)
    }

    @Test func deterministicForSeedAndIndependentOfOrder() {
        var rng = PairingRNG(seed: 11)
        for strategy in PairingStrategy.allCases {
            let candidates = PairingGen.room(41, &rng)
            var history = Set<PairKey>()
            PairingGen.add(Pairing.pair(candidates, strategy: .random, history: [], seed: 3), to: &history)
            let a = Pairing.pair(candidates, strategy: strategy, history: history, seed: 42)
            let b = Pairing.pair(candidates, strategy: strategy, history: history, seed: 42)
            let c = Pairing.pair(candidates.shuffled(using: &rng), strategy: strategy, history: history, seed: 42)
            #expect(a == b && a == c)
            let distinct = Set((0..<20).map { Pairing.pair(candidates, strategy: strategy, history: history, seed: UInt64($0)).groups })
            #expect(distinct.count >= 18, "different seeds give different groups: \(distinct.count) of 20")
        }
    }

    @Test func smallRooms() {
        #expect(Pairing.pair([], strategy: .random, history: [], seed: 1) == PairingResult())
        let one = Pairing.pair([PairingCandidate(id: 7)], strategy: .random, history: [], seed: 1)
        #expect(one.groups.isEmpty && one.unpaired == [7])
        let two = Pairing.pair([PairingCandidate(id: 2), PairingCandidate(id: 1)], strategy: .random, history: [PairKey(1, 2)], seed: 1)
        #expect(two.groups == [[1, 2]] && two.repeatedPairs == 1 && two.unmetConstraints == 1, "a repeat beats leaving someone alone")
        let three = Pairing.pair((1...3).map { PairingCandidate(id: $0) }, strategy: .random, history: [], seed: 1)
        #expect(three.groups == [[1, 2, 3]])
        // A repeated id is one candidate (the first occurrence).
        let dup = Pairing.pair([PairingCandidate(id: 1), PairingCandidate(id: 2), PairingCandidate(id: 1)], strategy: .random, history: [], seed: 1)
        #expect(dup.groups == [[1, 2]])
        #expect(PairKey(5, 3) == PairKey(3, 5) && PairKey(5, 3).a == 3)
    }

    /// The trio avoids repeats too: 5 members where 1 has met 2 and 3.
    @Test func trioAvoidsRepeats() {
        let candidates = (1...5).map { PairingCandidate(id: $0) }
        for seed in 0..<50 as Range<UInt64> {
            let r = Pairing.pair(candidates, strategy: .random, history: [PairKey(1, 2), PairKey(1, 3)], seed: seed)
            #expect(r.repeatedPairs == 0, "seed \(seed): \(r.groups)")
        }
    }

    /// Five askers and five experts, one tag each: every asker meets the expert for their need.
    @Test func needExpertiseFindsTheObviousMatches() {
        let askers = (0..<5).map { PairingCandidate(id: $0, interests: ["t\($0)"]) }
        let experts = (0..<5).map { PairingCandidate(id: 10 + $0, expertise: ["t\($0)"]) }
        for seed in 0..<50 as Range<UInt64> {
            let r = Pairing.pair(askers + experts, strategy: .needExpertise, history: [], seed: seed)
            #expect(Set(r.groups) == Set((0..<5).map { [$0, 10 + $0] }), "seed \(seed)")
            #expect(r.expertiseMatches == 5 && r.unmetConstraints == 0)
        }
    }

    /// A chain a–b–c–d (a needs what b knows, b what c knows, c what d knows): pairing b with c first
    /// would strand a and d; the right answer is a–b and c–d.
    @Test func needExpertiseDoesNotStrandTheEnds() {
        let candidates = [
            PairingCandidate(id: 1, interests: ["x"]),
            PairingCandidate(id: 2, interests: ["y"], expertise: ["x"]),
            PairingCandidate(id: 3, interests: ["z"], expertise: ["y"]),
            PairingCandidate(id: 4, expertise: ["z"]),
        ]
        for seed in 0..<50 as Range<UInt64> {
            let r = Pairing.pair(candidates, strategy: .needExpertise, history: [], seed: seed)
            #expect(r.groups == [[1, 2], [3, 4]] && r.expertiseMatches == 2, "seed \(seed)")
        }
    }

    /// A fresh pair without a match beats meeting the one expert again; and a match that is only
    /// possible as a repeat is not an unmet wish.
    @Test func needExpertiseAvoidsRepeatsFirst() {
        let candidates = [
            PairingCandidate(id: 1, interests: ["x"]),
            PairingCandidate(id: 2, expertise: ["x"]),
            PairingCandidate(id: 3),
            PairingCandidate(id: 4),
        ]
        for seed in 0..<20 as Range<UInt64> {
            let r = Pairing.pair(candidates, strategy: .needExpertise, history: [PairKey(1, 2)], seed: seed)
            #expect(r.repeatedPairs == 0 && r.expertiseMatches == 0 && r.unmetConstraints == 0, "seed \(seed): \(r.groups)")
        }
    }

    /// A match that only a repeat elsewhere would allow is still counted as unmet: x and z match,
    /// but pairing them would make y meet w again, and x–w is a repeat too. The only fresh
    /// arrangement is x–y, z–w, where x and z are stranded (each of the two pairs counts once).
    @Test func needExpertiseCountsStrandedPairs() {
        let (x, y, z, w) = (1, 2, 3, 4)
        let candidates = [
            PairingCandidate(id: x, interests: ["t"]), PairingCandidate(id: y),
            PairingCandidate(id: z, expertise: ["t"]), PairingCandidate(id: w),
        ]
        for seed in 0..<10 as Range<UInt64> {
            let r = Pairing.pair(candidates, strategy: .needExpertise, history: [PairKey(y, w), PairKey(x, w)], seed: seed)
            #expect(r.groups == [[x, y], [z, w]] && r.repeatedPairs == 0 && r.expertiseMatches == 0)
            #expect(r.unmetConstraints == 2)
        }
    }

    /// Members who need what nobody offers cost nothing beyond the repeats: their wish cannot be met.
    @Test func needExpertiseWithoutAnyPossibleMatch() {
        let candidates = (0..<8).map { PairingCandidate(id: $0, interests: ["need\($0)"], expertise: ["skill\($0)"]) }
        let r = Pairing.pair(candidates, strategy: .needExpertise, history: [], seed: 4)
        #expect(r.expertiseMatches == 0 && r.unmetConstraints == 0)
    }

    /// Twenty members with rich overlaps: the arrangement must reach the maximum number of matched
    /// pairs, checked by brute force over a smaller instance family (every pair can match here).
    @Test func needExpertiseMatchesEveryoneWhenPossible() {
        var rng = PairingRNG(seed: 21)
        for _ in 0..<100 {
            // Each member asks for one tag and offers the next one round a ring: a perfect matching
            // of matched pairs exists (neighbours on the ring), but most random pairs do not match.
            let n = 2 * Int.random(in: 2...30, using: &rng)
            let shift = Int.random(in: 0..<n, using: &rng)
            let candidates = (0..<n).map { i in
                PairingCandidate(id: (i + shift) % n, interests: ["t\(i)"], expertise: ["t\((i + 1) % n)"])
            }
            let r = Pairing.pair(candidates, strategy: .needExpertise, history: [], seed: rng.next())
            #expect(r.expertiseMatches == n / 2 && r.unmetConstraints == 0, "n=\(n): \(r.groups)")
        }
    }

    @Test func bestPartnerForALateJoiner() {
        let joiner = PairingCandidate(id: 100, organization: "A", interests: ["x"])
        let waiting = [
            PairingCandidate(id: 1, organization: "A", expertise: ["x"]),
            PairingCandidate(id: 2, organization: "B"),
            PairingCandidate(id: 3, organization: "C", expertise: ["x"]),
        ]
        #expect(Pairing.bestPartner(for: joiner, among: waiting, strategy: .random, history: []) == 0)
        #expect(Pairing.bestPartner(for: joiner, among: waiting, strategy: .random, history: [PairKey(100, 1)]) == 1)
        #expect(Pairing.bestPartner(for: joiner, among: waiting, strategy: .crossOrganization, history: []) == 1)
        #expect(Pairing.bestPartner(for: joiner, among: waiting, strategy: .needExpertise, history: []) == 0)
        #expect(Pairing.bestPartner(for: joiner, among: waiting, strategy: .needExpertise, history: [PairKey(1, 100)]) == 2)
        #expect(Pairing.bestPartner(for: joiner, among: [], strategy: .random, history: []) == nil)
        #expect(Pairing.bestPartner(for: joiner, among: [joiner], strategy: .random, history: []) == nil)
    }

    @Test func bestTrioHostForALeftover() {
        let c = { (id: Int, org: String) in PairingCandidate(id: id, organization: org) }
        let leftover = c(9, "A")
        let pairs = [[c(1, "A"), c(2, "B")], [c(3, "B"), c(4, "C")], [c(5, "C"), c(6, "D")]]
        #expect(Pairing.bestTrioHost(for: leftover, among: pairs, strategy: .random, history: []) == 0)
        #expect(Pairing.bestTrioHost(for: leftover, among: pairs, strategy: .crossOrganization, history: []) == 1)
        #expect(Pairing.bestTrioHost(for: leftover, among: pairs, strategy: .crossOrganization, history: [PairKey(9, 4)]) == 2)
        // A trio is not extended again, and the member's own pair is not a host.
        #expect(
            Pairing.bestTrioHost(for: leftover, among: [[c(1, "B"), c(2, "B"), c(3, "B")], [leftover, c(4, "B")]], strategy: .random, history: []) == nil)
    }
}

/// Timings for docs/bench/pairing.md. Off by default; run in release:
/// `ROUNDTABLE_BENCH=1 swift test -c release --scratch-path .build-pairing --filter PairingBench` (see docs/bench/pairing.md)
@Suite struct PairingBench {
    static let enabled = ProcessInfo.processInfo.environment["ROUNDTABLE_BENCH"] == "1"

    enum Shape: String { case typical, dominant = "70% one org", sparse = "400 tags" }

    /// A room like a large community: 8 organizations of uneven size, 40 need tags, 1–3 interests
    /// and 1–2 areas of expertise each, plus `history` from five earlier random rounds. `dominant`
    /// puts 70% in one organization (same-organization pairs are forced); `sparse` draws tags from
    /// 400, so matches are rare and the need-expertise search has to work for them.
    static func room(_ n: Int, _ shape: Shape) -> (candidates: [PairingCandidate], history: Set<PairKey>) {
        var rng = PairingRNG(seed: UInt64(n))
        let weights = shape == .dominant ? [70, 5, 5, 5, 5, 4, 3, 3] : [25, 20, 15, 12, 10, 8, 6, 4]
        let tags = shape == .sparse ? 400 : 40
        func organization(_ rng: inout PairingRNG) -> String {
            var r = Int.random(in: 0..<100, using: &rng)
            for (i, w) in weights.enumerated() {
                if r < w { return "org\(i)" }
                r -= w
            }
            return "org0"
        }
        let candidates = (1...n).map { id in
            PairingCandidate(
                id: id, organization: organization(&rng),
                interests: Set((0..<Int.random(in: 1...3, using: &rng)).map { _ in "tag\(Int.random(in: 0..<tags, using: &rng))" }),
                expertise: Set((0..<Int.random(in: 1...2, using: &rng)).map { _ in "tag\(Int.random(in: 0..<tags, using: &rng))" })
            )
        }
        var history = Set<PairKey>()
        for round in 0..<5 {
            PairingGen.add(Pairing.pair(candidates, strategy: .random, history: history, seed: UInt64(1_000 + round)), to: &history)
        }
        return (candidates, history)
    }

    @Test(.enabled(if: enabled)) func pairingBench() {
        let runs = 9
        print("| members | room | strategy | median ms | min ms | max ms | repeats | same-org pairs | matched pairs | unmet |")
        print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for (n, shape) in [(500, Shape.typical), (2_000, .typical), (10_000, .typical), (2_000, .sparse), (10_000, .sparse), (10_000, .dominant)] {
            let (candidates, history) = Self.room(n, shape)
            for strategy in PairingStrategy.allCases {
                var times: [Double] = []
                var last = PairingResult()
                for run in 0..<runs {
                    let clock = ContinuousClock()
                    let start = clock.now
                    last = Pairing.pair(candidates, strategy: strategy, history: history, seed: UInt64(run))
                    let d = clock.now - start
                    times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15)
                }
                times.sort()
                let pairs = last.groups.reduce(0) { $0 + ($1.count == 3 ? 3 : 1) }
                func share(_ k: Int) -> String { "\(k) (\(String(format: "%.1f", 100 * Double(k) / Double(pairs)))%)" }
                func ms(_ t: Double) -> String { String(format: "%.1f", t) }
                print(
                    "| \(n) | \(shape.rawValue) | \(strategy.rawValue) | \(ms(times[runs / 2])) | \(ms(times[0])) | \(ms(times[runs - 1])) | \(share(last.repeatedPairs)) | \(share(last.sameOrganizationPairs)) | \(share(last.expertiseMatches)) | \(last.unmetConstraints) |"
                )
                #expect(last.groups.reduce(0) { $0 + $1.count } == n)
            }
            if shape == .dominant {
                let largest = Dictionary(grouping: candidates, by: \.organization).values.map(\.count).max()!
                print("largest organization: \(largest) of \(n); forced same-organization pairs: \(max(0, 2 * largest - n) / 2)")
            }
        }
    }
}
