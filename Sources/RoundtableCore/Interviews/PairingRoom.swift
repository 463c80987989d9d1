/// Rows of small integer lists in two flat arrays (compressed sparse rows): one allocation per
/// table instead of one per member, and rows are contiguous for the scans in the hot loops.
struct PairingRows: Sendable {
    /// Row `r` is `items[start[r]..<start[r + 1]]`.
    private(set) var start: [Int] = [0]
    private(set) var items: [Int] = []

    init() {}

    var rowCount: Int { start.count - 1 }

    mutating func appendRow<S: Sequence<Int>>(_ row: S) {
        items.append(contentsOf: row)
        start.append(items.count)
    }

    @inline(__always) func bounds(_ r: Int) -> Range<Int> { start[r]..<start[r + 1] }

    /// The rows for each item: row `t` of the result lists, in ascending order, the rows of `self`
    /// that contain `t`. Ascending matters: rows are members in seeded order, so buckets are too.
    func transposed(itemCount: Int) -> PairingRows {
        var counts = [Int](repeating: 0, count: itemCount + 1)
        for t in items { counts[t + 1] += 1 }
        for t in 0..<itemCount { counts[t + 1] += counts[t] }
        var out = PairingRows()
        out.start = counts
        out.items = [Int](repeating: 0, count: items.count)
        var fill = counts
        for r in 0..<rowCount {
            for k in bounds(r) {
                let t = items[k]
                out.items[fill[t]] = r
                fill[t] += 1
            }
        }
        return out
    }

    /// Whether sorted rows `i` of `self` and `j` of `other` share an item (merge walk; rows are short).
    @inline(__always) func intersects(_ i: Int, _ other: PairingRows, _ j: Int) -> Bool {
        var p = start[i], q = other.start[j]
        let pe = start[i + 1], qe = other.start[j + 1]
        while p < pe && q < qe {
            let x = items[p], y = other.items[q]
            if x == y { return true }
            if x < y { p += 1 } else { q += 1 }
        }
        return false
    }
}

/// One room interned for the search: members are numbered 0..<count in the seeded order, strings
/// become small integers, and history becomes per-member lists of earlier partners.
struct PairingRoom: Sendable {
    /// The cost of a repeated pair. Larger than any sum of wish costs a single exchange can change
    /// (at most six pairs change) or any augmenting path can, so no step ever trades a repeat for
    /// wishes; 2^32 keeps that true for any room that fits in memory, without overflow in sums.
    static let repeatCost = 1 << 32

    let strategy: PairingStrategy
    let ids: [MemberID]
    /// Interned organization, or -1 for none.
    let organization: [Int]
    let organizationCount: Int
    /// Earlier partners present in this room, per member.
    let past: PairingRows
    /// Sorted interned tags per member.
    let interests: PairingRows
    let expertise: PairingRows
    /// Per tag: members with that expertise / that interest, in member order.
    let experts: PairingRows
    let interested: PairingRows

    var count: Int { ids.count }

    /// For `crossOrganization`, the fewest same-organization pairs any arrangement can have,
    /// ignoring history: only an organization with more than half the room forces any. With A of
    /// its members and B others, an even room needs (A - B) / 2 pairs within it; an odd room does
    /// best with the trio holding two of them and one other member, (A - B + 1) / 2 in all. When
    /// the search reaches this with no repeat, nothing is left to improve.
    var sameOrganizationLowerBound: Int {
        var sizes = [Int](repeating: 0, count: organizationCount)
        for o in organization where o >= 0 { sizes[o] += 1 }
        let a = sizes.max() ?? 0, b = count - a
        if a <= b { return 0 }
        if count % 2 == 0 { return (a - b) / 2 }
        return b == 0 ? (a + 3) / 2 : (a - b + 1) / 2
    }

    /// Members are `candidates[order[0]]`, `candidates[order[1]]`, …: `order` must name distinct ids,
    /// and its order becomes the member numbering.
    init(_ candidates: [PairingCandidate], _ order: [Int], strategy: PairingStrategy, history: Set<PairKey>) {
        self.strategy = strategy
        ids = order.map { candidates[$0].id }
        var orgIndex: [String: Int] = [:]
        organization = order.map { k in
            let name = candidates[k].organization
            if name.isEmpty { return -1 }
            if let o = orgIndex[name] { return o }
            orgIndex[name] = orgIndex.count
            return orgIndex.count - 1
        }
        organizationCount = orgIndex.count

        var tagIndex: [String: Int] = [:]
        func intern(_ tags: Set<String>) -> [Int] {
            tags.map { t in
                if let i = tagIndex[t] { return i }
                tagIndex[t] = tagIndex.count
                return tagIndex.count - 1
            }.sorted()
        }
        var interests = PairingRows(), expertise = PairingRows()
        for k in order {
            interests.appendRow(intern(candidates[k].interests))
            expertise.appendRow(intern(candidates[k].expertise))
        }
        self.interests = interests
        self.expertise = expertise
        experts = expertise.transposed(itemCount: tagIndex.count)
        interested = interests.transposed(itemCount: tagIndex.count)

        // History can name members who are not here (left, or in another breakout): skip those.
        let n = order.count
        var edges: [(Int, Int)] = []
        var degree = [Int](repeating: 0, count: n)
        func add(_ i: Int?, _ j: Int?) {
            guard let i, let j, i != j else { return }
            edges.append((i, j))
            degree[i] += 1
            degree[j] += 1
        }
        // Member ids are numbered from 1 in order of joining, so a table by id is usually small and
        // beats hashing every history entry; sparse ids fall back to a dictionary.
        let low = ids.min() ?? 0, high = ids.max() ?? 0
        let span = high.subtractingReportingOverflow(low)
        if !span.overflow && span.partialValue < 4 * n + 1_024 {
            var local = [Int](repeating: -1, count: high - low + 1)
            for (i, id) in ids.enumerated() { local[id - low] = i }
            func find(_ id: MemberID) -> Int? {
                guard id >= low && id <= high else { return nil }
                let i = local[id - low]
                return i >= 0 ? i : nil
            }
            for key in history { add(find(key.a), find(key.b)) }
        } else {
            var local: [MemberID: Int] = [:]
            local.reserveCapacity(n)
            for (i, id) in ids.enumerated() { local[id] = i }
            for key in history { add(local[key.a], local[key.b]) }
        }
        var start = [Int](repeating: 0, count: n + 1)
        for i in 0..<n { start[i + 1] = start[i] + degree[i] }
        var items = [Int](repeating: 0, count: start[n])
        var fill = start
        for (i, j) in edges {
            items[fill[i]] = j
            fill[i] += 1
            items[fill[j]] = i
            fill[j] += 1
        }
        var past = PairingRows()
        for i in 0..<n { past.appendRow(items[start[i]..<start[i + 1]]) }
        self.past = past
    }

    @inline(__always) func isRepeat(_ i: Int, _ j: Int) -> Bool {
        for k in past.bounds(i) where past.items[k] == j { return true }
        return false
    }

    @inline(__always) func sameOrganization(_ i: Int, _ j: Int) -> Bool {
        organization[i] >= 0 && organization[i] == organization[j]
    }

    /// One's interests meet the other's expertise, either way round.
    @inline(__always) func matches(_ i: Int, _ j: Int) -> Bool {
        interests.intersects(i, expertise, j) || interests.intersects(j, expertise, i)
    }

    /// Same definition as `Pairing.cost`.
    @inline(__always) func cost(_ i: Int, _ j: Int) -> Int {
        var c = isRepeat(i, j) ? Self.repeatCost : 0
        switch strategy {
        case .random: break
        case .crossOrganization: if sameOrganization(i, j) { c += 1 }
        case .needExpertise: if !matches(i, j) { c += 1 }
        }
        return c
    }

    /// A pair's or trio's cost (`c` < 0 for a pair): the sum over its member pairs.
    @inline(__always) func cost(_ a: Int, _ b: Int, _ c: Int) -> Int {
        c < 0 ? cost(a, b) : cost(a, b) + cost(a, c) + cost(b, c)
    }
}
