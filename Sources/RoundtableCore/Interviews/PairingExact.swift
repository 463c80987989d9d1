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
/// with anyone (every group costs at least that: a pair at least the larger of its two members'
/// minima, a trio at least the sum of its three). Pruning never changes the answer, only the work.
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
    /// Each member's cheapest pair with anyone: the lower bound's terms.
    private let cheapest: [Int]
    /// Per member, everyone else by increasing pair cost, then member number: the order choices are tried.
    private let partners: [[Int]]
    private var memo = MaskTable()

    /// The largest room this search accepts: masks are 64-bit, with one bit for the trio flag.
    static let maxMembers = 62

    init(_ room: PairingRoom) {
        precondition(room.count <= Self.maxMembers, "exact pairing takes at most \(Self.maxMembers) members")
        self.room = room
        n = room.count
        var cost = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where j != i { cost[i * n + j] = room.cost(i, j) }
        }
        self.cost = cost
        let n = self.n
        cheapest = (0..<n).map { i in (0..<n).filter { $0 != i }.map { cost[i * n + $0] }.min() ?? 0 }
        partners = (0..<n).map { i in
            (0..<n).filter { $0 != i }.sorted { (cost[i * n + $0], $0) < (cost[i * n + $1], $1) }
        }
    }

    /// States and choices evaluated by the last `solve`, for measurements.
    private(set) var statesSolved = 0

    /// The optimal groups (pairs, plus one trio when the count is odd), as member numbers.
    mutating func solve() -> [[Int]] {
        guard n >= 2 else { return [] }
        let full: UInt64 = (1 << UInt64(n)) - 1
        let trio = n % 2 == 1
        let sum = cheapest.reduce(0, +)
        _ = best(full, trio: trio, cheapestSum: sum)
        // Follow the recorded choices from the full room down.
        var groups: [[Int]] = []
        var s = full, t = trio
        while s != 0 {
            let (_, choice) = memo.get(key(s, t))!
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
    /// them; `cheapestSum` is the sum of `cheapest` over `s`.
    private mutating func best(_ s: UInt64, trio: Bool, cheapestSum: Int) -> Int {
        if s == 0 { return 0 }
        let k0 = key(s, trio)
        if let (value, _) = memo.get(k0) { return value }
        statesSolved += 1
        let i = s.trailingZeroBitCount
        let rest = s & ~(1 << UInt64(i))
        let restSum = cheapestSum - cheapest[i]
        let size = s.nonzeroBitCount
        var bestValue = Int.max, bestChoice = 0
        // Lower bound for the members left after a group: half their cheapest pairs, rounded up.
        @inline(__always) func bound(_ sum: Int) -> Int { (sum + 1) / 2 }
        // Pairs: with the trio still to come only while more than three members are left.
        if !trio || size > 3 {
            for j in partners[i] where rest & (1 << UInt64(j)) != 0 {
                let c = cost[i * n + j]
                let childSum = restSum - cheapest[j]
                if c + bound(childSum) >= bestValue { continue }
                let total = c + best(rest & ~(1 << UInt64(j)), trio: trio, cheapestSum: childSum)
                if total < bestValue { (bestValue, bestChoice) = (total, j) }
            }
        }
        if trio {
            let list = partners[i]
            for a in 0..<list.count where rest & (1 << UInt64(list[a])) != 0 {
                let j = list[a]
                let cij = cost[i * n + j]
                if cij + bound(restSum - cheapest[j]) >= bestValue { continue }
                for b in (a + 1)..<list.count where rest & (1 << UInt64(list[b])) != 0 {
                    let k = list[b]
                    let c = cij + cost[i * n + k] + cost[j * n + k]
                    let childSum = restSum - cheapest[j] - cheapest[k]
                    if c + bound(childSum) >= bestValue { continue }
                    let child = rest & ~(1 << UInt64(j) | 1 << UInt64(k))
                    let total = c + best(child, trio: false, cheapestSum: childSum)
                    if total < bestValue { (bestValue, bestChoice) = (total, j | (k + 1) << 8) }
                }
            }
        }
        memo.set(k0, value: bestValue, choice: bestChoice)
        return bestValue
    }
}

/// An open-addressing hash table from a nonzero 64-bit key to a value and a choice: the memo of
/// `PairingExact`, cheaper than a `Dictionary` for millions of small entries.
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
