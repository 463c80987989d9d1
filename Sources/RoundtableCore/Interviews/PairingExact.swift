/// The exact search behind `Pairing.pair` for rooms up to `Pairing.exactLimit` members, on a
/// `PairingRoom` whose member order is already seeded.
///
/// **Cost.** An arrangement's cost is the lexicographic pair (repeats, wishes): `repeats` counts the
/// member pairs inside groups that met in an earlier round, `wishes` the member pairs whose strategy
/// wish is unmet (same organization for `crossOrganization`, no interest–expertise match for
/// `needExpertise`, never for `random`). A trio counts its three member pairs. Fewer repeats always
/// win; among equal repeats, fewer unmet wishes. It is held as one integer,
/// `repeats * PairingRoom.repeatCost + wishes`, which orders the same way since `wishes` stays far
/// below `repeatCost`.
///
/// **Search.** Dynamic programming over the set S of members still to place, with a flag telling
/// whether the trio is still to be formed (odd rooms only). The member of S with the lowest number
/// is placed first, with one partner (a pair) or two (the trio), so every arrangement is built in
/// exactly one way and only about Fibonacci(n) sets S are ever reached (after k groups, members
/// 0..<k are gone). Each S is solved once and memoized by its bit mask. Within one S, a choice is
/// skipped (branch and bound) when its own cost plus a lower bound for the rest cannot beat the best
/// choice found so far; the bound is half the sum, over the rest, of each member's cheapest pair
/// with someone still in S (every group costs at least that: a pair at least the larger of its two
/// members' minima, a trio at least the sum of its three). Pair costs take only a few values (0, 1,
/// a repeat, a repeat plus 1), so each member keeps one bit mask of partners per value and finds
/// its cheapest partner in S with a few mask tests. For `crossOrganization` the bound is also at
/// least the same-organization pairs forced by the largest organization's surplus among the members
/// left (as `PairingRoom.sameOrganizationLowerBound`, on that subset). On top of that, every call has a budget: only
/// a cost below it is of interest (the best choice so far of the caller, and at the top a known
/// arrangement's cost plus one, from the heuristic). A set whose every choice reaches the budget
/// is memoized as "at least the budget" and searched again only with a larger one, as in alpha-beta
/// search with a transposition table. Pruning and budgets never change the answer, only the work:
/// a value below the budget is exact, with its choice.
///
/// **Ties.** Choices are tried in a fixed order: partners by increasing pair cost, then by member
/// number; pairs before the trio. The first choice with the least total wins. Member numbers follow
/// the seeded order, so the result is one of the optimal arrangements, chosen by the seed and
/// reproducible from it.
struct PairingExact {
    let room: PairingRoom
    let n: Int
    /// `cost[i * n + j]`: the cost of the member pair (i, j), as `PairingRoom.cost`.
    private let cost: [Int]
    /// The distinct pair costs, ascending, and per member and cost the mask of partners at that
    /// cost: `levelMask[x * levels.count + l]`.
    private let levels: [Int]
    private let levelMask: [UInt64]
    /// Per member, everyone else by increasing pair cost, then member number: the order choices are tried.
    private let partners: [[Int]]
    private var memo = MaskTable()
    /// For `crossOrganization`: members per organization among those not yet placed.
    private var orgCount: [Int]

    /// The largest room this search accepts: masks are 64-bit, with one bit for the trio flag.
    static let maxMembers = 62

    init(_ room: PairingRoom) {
        precondition(room.count <= Self.maxMembers, "exact pairing takes at most \(Self.maxMembers) members")
        self.room = room
        n = room.count
        orgCount = [Int](repeating: 0, count: room.strategy == .crossOrganization ? room.organizationCount : 0)
        if room.strategy == .crossOrganization { for o in room.organization where o >= 0 { orgCount[o] += 1 } }
        var cost = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where j != i { cost[i * n + j] = room.cost(i, j) }
        }
        self.cost = cost
        let n = self.n
        levels = Array(Set(cost)).sorted()
        var levelMask = [UInt64](repeating: 0, count: n * levels.count)
        for i in 0..<n {
            for j in 0..<n where j != i { levelMask[i * levels.count + levels.firstIndex(of: cost[i * n + j])!] |= 1 << UInt64(j) }
        }
        self.levelMask = levelMask
        partners = (0..<n).map { i in
            (0..<n).filter { $0 != i }.sorted { (cost[i * n + $0], $0) < (cost[i * n + $1], $1) }
        }
    }

    /// The optimal groups (pairs, plus one trio when the count is odd), as member numbers.
    /// `upperBound`: the cost of some arrangement of the room (e.g. the heuristic's), or nil.
    mutating func solve(upperBound: Int? = nil) -> [[Int]] {
        guard n >= 2 else { return [] }
        let full: UInt64 = (1 << UInt64(n)) - 1
        let trio = n % 2 == 1
        let budget = upperBound.map { $0 + 1 } ?? Int.max
        let value = best(full, trio: trio, lowerBound: 0, budget: budget)
        precondition(value < budget, "no arrangement below the upper bound")
        // Follow the recorded choices from the full room down.
        var groups: [[Int]] = []
        var s = full, t = trio
        while s != 0 {
            let (_, choice) = memo.get(key(s, t))!
            precondition(choice >= 0, "the optimal path has exact entries only")
            let i = s.trailingZeroBitCount
            let j = choice & 0xFF, k = (choice >> 8) - 1
            if k >= 0 {
                groups.append([i, j, k])
                s &= ~(1 << UInt64(i) | 1 << UInt64(j) | 1 << UInt64(k))
                t = false
            } else {
                groups.append([i, j])
                s &= ~(1 << UInt64(i) | 1 << UInt64(j))
            }
        }
        return groups
    }

    private func key(_ s: UInt64, _ trio: Bool) -> UInt64 { trio ? s | 1 << 63 : s }

    /// The least cost of placing the members of `s`, where `trio` says whether the trio is among
    /// them, if it is below `budget`; otherwise some value at least `budget`. `lowerBound`: one
    /// the caller already knows.
    private mutating func best(_ s: UInt64, trio: Bool, lowerBound: Int, budget: Int) -> Int {
        if s == 0 { return 0 }
        if lowerBound >= budget { return lowerBound }
        let k0 = key(s, trio)
        if let (value, choice) = memo.get(k0), choice >= 0 || value >= budget { return value }
        // Lower bound for a set of members: half the sum of their cheapest pairs within s, rounded up.
        @inline(__always) func bound(_ sum: Int) -> Int { (sum + 1) / 2 }
        var sum = 0
        var m = s
        while m != 0 {
            sum += cheapest(m.trailingZeroBitCount, in: s)
            m &= m - 1
        }
        let floor = max(bound(sum), sameOrganizationFloor(size: s.nonzeroBitCount, trio: trio))
        if floor >= budget {
            memo.set(k0, value: floor, choice: -1)
            return floor
        }
        let i = s.trailingZeroBitCount
        let rest = s & ~(1 << UInt64(i))
        let restSum = sum - cheapest(i, in: s)
        let size = s.nonzeroBitCount
        var bestValue = budget, bestChoice = -1
        leave(i)
        defer { enter(i) }
        // Pairs: with the trio still to come only while more than three members are left.
        if !trio || size > 3 {
            for j in partners[i] where rest & (1 << UInt64(j)) != 0 {
                let c = cost[i * n + j]
                let childBound = bound(restSum - cheapest(j, in: s))
                if c + childBound >= bestValue { continue }
                leave(j)
                let total = c + best(rest & ~(1 << UInt64(j)), trio: trio, lowerBound: childBound, budget: bestValue - c)
                enter(j)
                if total < bestValue { (bestValue, bestChoice) = (total, j) }
            }
        }
        if trio {
            let list = partners[i]
            for a in 0..<list.count where rest & (1 << UInt64(list[a])) != 0 {
                let j = list[a]
                let cij = cost[i * n + j]
                let restSumJ = restSum - cheapest(j, in: s)
                if cij + bound(restSumJ) >= bestValue { continue }
                for b in (a + 1)..<list.count where rest & (1 << UInt64(list[b])) != 0 {
                    let k = list[b]
                    let c = cij + cost[i * n + k] + cost[j * n + k]
                    let childBound = bound(restSumJ - cheapest(k, in: s))
                    if c + childBound >= bestValue { continue }
                    let child = rest & ~(1 << UInt64(j) | 1 << UInt64(k))
                    leave(j)
                    leave(k)
                    let total = c + best(child, trio: false, lowerBound: childBound, budget: bestValue - c)
                    enter(k)
                    enter(j)
                    if total < bestValue { (bestValue, bestChoice) = (total, j | (k + 1) << 8) }
                }
            }
        }
        // No choice below the budget: remember that the set costs at least that much.
        memo.set(k0, value: bestValue, choice: bestChoice)
        return bestValue
    }

    /// Member x's cheapest pair with another member of `s`.
    @inline(__always) private func cheapest(_ x: Int, in s: UInt64) -> Int {
        let base = x * levels.count
        for l in 0..<levels.count where levelMask[base + l] & s != 0 { return levels[l] }
        return 0
    }

    @inline(__always) private mutating func leave(_ x: Int) {
        if !orgCount.isEmpty, room.organization[x] >= 0 { orgCount[room.organization[x]] -= 1 }
    }

    @inline(__always) private mutating func enter(_ x: Int) {
        if !orgCount.isEmpty, room.organization[x] >= 0 { orgCount[room.organization[x]] += 1 }
    }

    /// For `crossOrganization`, the fewest same-organization pairs among the `size` members not yet
    /// placed (history ignored): only an organization with more than half of them forces any. With
    /// A of its members and B others, (A - B) / 2 without the trio; with it, two of them and one
    /// other in the trio, (A - B + 1) / 2, or (A + 3) / 2 when there is no other. 0 otherwise.
    private func sameOrganizationFloor(size: Int, trio: Bool) -> Int {
        guard let a = orgCount.max() else { return 0 }
        let b = size - a
        if a <= b { return 0 }
        if !trio { return (a - b) / 2 }
        return b == 0 ? (a + 3) / 2 : (a - b + 1) / 2
    }
}

/// An open-addressing hash table from a nonzero 64-bit key to a value and a choice: the memo of
/// `PairingExact`, cheaper than a `Dictionary` for millions of small entries. A choice of -1 marks
/// a lower bound rather than an exact value.
private struct MaskTable {
    private var keys = [UInt64](repeating: 0, count: 1 << 10)
    private var values = [Int](repeating: 0, count: 1 << 10)
    private var choices = [Int32](repeating: 0, count: 1 << 10)
    private var count = 0

    @inline(__always) private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    func get(_ key: UInt64) -> (Int, Int)? {
        let mask = keys.count - 1
        var p = Self.slot(key, mask)
        while keys[p] != 0 {
            if keys[p] == key { return (values[p], Int(choices[p])) }
            p = (p + 1) & mask
        }
        return nil
    }

    mutating func set(_ key: UInt64, value: Int, choice: Int) {
        if 2 * (count + 1) > keys.count { grow() }
        let mask = keys.count - 1
        var p = Self.slot(key, mask)
        while keys[p] != 0 && keys[p] != key { p = (p + 1) & mask }
        if keys[p] == 0 { count += 1 }
        keys[p] = key
        values[p] = value
        choices[p] = Int32(choice)
    }

    private mutating func grow() {
        let (oldKeys, oldValues, oldChoices) = (keys, values, choices)
        keys = [UInt64](repeating: 0, count: 2 * oldKeys.count)
        values = [Int](repeating: 0, count: 2 * oldKeys.count)
        choices = [Int32](repeating: 0, count: 2 * oldKeys.count)
        count = 0
        for p in 0..<oldKeys.count where oldKeys[p] != 0 { set(oldKeys[p], value: oldValues[p], choice: Int(oldChoices[p])) }
    }
}
