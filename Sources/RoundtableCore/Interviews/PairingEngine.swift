/// The heuristic behind `Pairing.pair` for rooms above `Pairing.exactLimit` (and the upper bound
/// the exact search starts from), on a `PairingRoom` whose member order is already seeded.
///
/// 1. Greedy, per strategy, so the local search starts close to the optimum:
///    - `random`: each member, in seeded order, takes the first waiting member they have not met.
///    - `crossOrganization`: repeatedly a member of the organization with the most members still
///      waiting takes a fresh partner from the next-largest other organization. Without history this
///      alone leaves the fewest possible same-organization pairs.
///    - `needExpertise`: members with the fewest possible matches choose first (a Karp–Sipser-style
///      order, which rarely strands a member whose only match was taken), each taking a fresh match
///      with few options of their own; members left without a fresh match are then paired as in `random`.
///    With an odd count, the last member joins the pair where they add the least cost.
/// 2. Local search: for every group with a cost, try exchanging one member with one member of another
///    group; keep any exchange that strictly lowers the two groups' total. Repeats weigh more than any
///    wish, so repeats go first. Groups keep their sizes, so the single trio stays a trio.
///    Candidate groups: all of them for a repeat or a same-organization pair (an O(groups) scan that
///    stops at the first improvement), and for a missing expertise match only the groups of members
///    who would match someone in the group, since only a new match can lower that cost.
///    At a fixed point no single exchange improves the arrangement.
/// 3. Augmenting paths (`augmentingPaths`) for what exchanges cannot fix: chains of good pairs that
///    turn a costly pair into good ones, as in a maximum matching on the zero-cost edges. Steps 2 and
///    3 alternate until neither finds anything.
/// A work budget (linear in the room size) bounds pathological rooms, and for `crossOrganization`
/// the search stops early once it reaches the forced minimum of same-organization pairs.
struct PairingEngine {
    let room: PairingRoom
    /// Groups in slots of three; the third is -1 for a pair.
    private var slots: [Int] = []
    private var groupOf: [Int]
    private var groupCost: [Int] = []
    private var leftover = -1
    /// Exchange evaluations so far, against `budget`.
    private var work = 0
    private let budget: Int

    init(_ room: PairingRoom) {
        self.room = room
        groupOf = [Int](repeating: -1, count: room.count)
        budget = 1_000_000 + 200 * room.count
    }

    /// An engine holding `groups` (member numbers; pairs and at most one trio) as its arrangement,
    /// e.g. the exact search's, so `result()` reports it like any other.
    init(_ room: PairingRoom, groups: [[Int]]) {
        self.init(room)
        for g in groups {
            for x in g { groupOf[x] = groupCount }
            slots.append(contentsOf: [g[0], g[1], g.count > 2 ? g[2] : -1])
        }
        groupCost = (0..<groupCount).map { g in room.cost(slots[3 * g], slots[3 * g + 1], slots[3 * g + 2]) }
    }

    private var groupCount: Int { slots.count / 3 }

    /// The sum of all groups' costs: what the search lowers.
    var totalCost: Int { groupCost.reduce(0, +) }

    // MARK: Greedy

    mutating func greedy() {
        // A copy for the closures below: they must not capture `self` while it is being mutated.
        let room = self.room
        var paired = [Bool](repeating: false, count: room.count)
        let everyone = Array(0..<room.count)
        switch room.strategy {
        case .random:
            leftover = classGreedy(everyone, classOf: { _ in 0 }, classCount: 1, &paired)
        case .crossOrganization:
            // A member without an organization is an organization of one: never "same" as anyone.
            let orgs = room.organizationCount
            leftover = classGreedy(
                everyone, classOf: { room.organization[$0] >= 0 ? room.organization[$0] : orgs + $0 },
                classCount: orgs + room.count, &paired)
        case .needExpertise:
            matchGreedy(&paired)
            let rest = everyone.filter { !paired[$0] }
            leftover = classGreedy(rest, classOf: { _ in 0 }, classCount: 1, &paired)
        }
        if leftover >= 0 {
            let g = bestHost(for: leftover)
            slots[3 * g + 2] = leftover
            groupOf[leftover] = g
            leftover = -1
        }
        groupCost = (0..<groupCount).map { g in room.cost(slots[3 * g], slots[3 * g + 1], slots[3 * g + 2]) }
    }

    private mutating func addPair(_ x: Int, _ y: Int) {
        groupOf[x] = groupCount
        groupOf[y] = groupCount
        slots.append(contentsOf: [x, y, -1])
    }

    /// The pair where `x` adds the least cost; the first such pair on ties.
    private func bestHost(for x: Int) -> Int {
        var best = 0, bestCost = Int.max
        for g in 0..<groupCount {
            let c = room.cost(x, slots[3 * g]) + room.cost(x, slots[3 * g + 1])
            if c < bestCost { (best, bestCost) = (g, c) }
            if c == 0 { break }
        }
        return best
    }

    /// Pairs `members` (in the given order) class against class, largest class first. Returns the
    /// member left over when their count is odd, or -1.
    ///
    /// Partner preference: a fresh member of another class, a fresh member of the same class, then
    /// anyone (a repeat), so repeats are avoided before classes mix. The queue keeps classes bucketed
    /// by how many members are still waiting, so finding the largest classes costs O(1) amortized.
    private mutating func classGreedy(_ members: [Int], classOf: (Int) -> Int, classCount: Int, _ paired: inout [Bool]) -> Int {
        let room = self.room
        var queue = ClassQueue(members, classOf: classOf, classCount: classCount)
        var remaining = members.count
        while remaining >= 2 {
            let a = queue.largest()
            let x = queue.firstWaiting(in: a, paired)
            paired[x] = true
            queue.leave(a)
            var u = queue.find(excluding: a, paired) { !room.isRepeat(x, $0) }
            if u < 0 { u = queue.find(in: a, paired) { !room.isRepeat(x, $0) } }
            if u < 0 { u = queue.find(excluding: a, paired) { _ in true } }
            if u < 0 { u = queue.find(in: a, paired) { _ in true } }
            paired[u] = true
            queue.leave(classOf(u))
            addPair(x, u)
            remaining -= 2
        }
        return remaining == 1 ? members.first { !paired[$0] }! : -1
    }

    /// Pairs members with a fresh match, fewest options first. A member's options are estimated by
    /// the sizes of the tag buckets they read from (exact degrees would cost O(matches)).
    private mutating func matchGreedy(_ paired: inout [Bool]) {
        let n = room.count
        var options = [Int](repeating: 0, count: n)
        for x in 0..<n {
            for k in room.interests.bounds(x) { options[x] += room.experts.bounds(room.interests.items[k]).count }
            for k in room.expertise.bounds(x) { options[x] += room.interested.bounds(room.expertise.items[k]).count }
        }
        // Per bucket, how far the front is known to be paired: skipping it again would make the pass quadratic.
        var expertFront = room.experts.start.dropLast().map { $0 }
        var interestedFront = room.interested.start.dropLast().map { $0 }
        let order = (0..<n).filter { options[$0] > 0 }.sorted { (options[$0], $0) < (options[$1], $1) }
        for x in order where !paired[x] {
            var best = -1, found = 0, scanned = 0
            func consider(_ rows: PairingRows, _ tag: Int, _ front: inout [Int]) {
                let end = rows.start[tag + 1]
                while front[tag] < end && paired[rows.items[front[tag]]] { front[tag] += 1 }
                var k = front[tag]
                // Look at a few fresh matches and keep the one with the fewest options; past the
                // first, stop early since the estimate is rough anyway.
                while k < end && !(found > 0 && (found >= 4 || scanned >= 64)) {
                    let u = rows.items[k]
                    k += 1
                    scanned += 1
                    if u == x || paired[u] || room.isRepeat(x, u) { continue }
                    if best < 0 || options[u] < options[best] { best = u }
                    found += 1
                }
            }
            for k in room.interests.bounds(x) { consider(room.experts, room.interests.items[k], &expertFront) }
            for k in room.expertise.bounds(x) { consider(room.interested, room.expertise.items[k], &interestedFront) }
            if best >= 0 {
                paired[x] = true
                paired[best] = true
                addPair(x, best)
            }
        }
    }

    // MARK: Local search

    mutating func improve() {
        // The best possible total: zero, except where one organization forces same-organization pairs.
        let floor = room.strategy == .crossOrganization ? room.sameOrganizationLowerBound : 0
        while work < budget && totalCost > floor {
            var changed = true
            while changed && work < budget && totalCost > floor {
                changed = false
                for g in 0..<groupCount where groupCost[g] > 0 {
                    while groupCost[g] > 0 && work < budget && improve(group: g) { changed = true }
                }
            }
            // Exchanges only see two groups at once; a fix may need a longer chain.
            guard totalCost > floor, augmentingPaths() else { return }
        }
    }

    /// Augmenting paths, on pairs only. Call a pair *good* when it costs nothing. From a member x of
    /// a pair (x, y) with a cost, search breadth-first along good edges x–u1, v1–u2, … where each
    /// (ui, vi) is a good pair, until some u sits in another pair (u, w) with a cost. Re-pairing
    /// along the path (x–u1, v1–u2, …, vk–u) makes k + 1 good pairs out of k; the two leftover
    /// partners pair up, and the path is taken only if cost(y, w) is below the two old pairs' cost.
    /// A path may also end at y itself (x and y joined by an odd chain): then there is no leftover.
    /// This is the step of a maximum matching algorithm on the good edges, and finds what single
    /// exchanges cannot: e.g. with two organizations and some history, a same-organization pair of
    /// A's can only be fixed by a chain of A–B pairs leading to a pair of B's.
    ///
    /// Odd cycles are not contracted as in Edmonds' algorithm, so a few paths can be missed; each
    /// group is entered once per search, which keeps every path valid. Good edges are found through
    /// the tag buckets for `needExpertise`, and by scanning everyone otherwise (where almost every
    /// edge is good, so searches end after a few steps); each search has its own work limit so one
    /// hopeless search (an organization with most of the room) cannot starve the others.
    /// Returns whether any path was applied.
    private mutating func augmentingPaths() -> Bool {
        let n = room.count
        var mark = [Int](repeating: -1, count: groupCount)
        var cameFrom = [Int](repeating: -1, count: n) // outer member -> its good partner on the path
        var parent = [Int](repeating: -1, count: n) // outer member -> previous outer member
        var queue: [Int] = []
        var applied = false
        let searchLimit = 8 * n + 10_000
        for g0 in 0..<groupCount where slots[3 * g0 + 2] < 0 {
            for s in 0..<2 where groupCost[g0] > 0 && work < budget {
                let x = slots[3 * g0 + s], y = slots[3 * g0 + 1 - s]
                let stamp = 3 * g0 + s
                mark[g0] = stamp
                queue.removeAll(keepingCapacity: true)
                queue.append(x)
                var head = 0, spent = 0
                var end: (a: Int, u: Int)?
                // Whether u, reached from outer member a, ends the path; otherwise queues u's partner.
                func visit(_ a: Int, _ u: Int) -> Bool {
                    spent += 1
                    let h = groupOf[u]
                    // Reaching x's own partner closes the path on itself: no leftover pair at all.
                    if u == y { return a != x && room.cost(a, u) == 0 }
                    guard mark[h] != stamp, slots[3 * h + 2] < 0, room.cost(a, u) == 0 else { return false }
                    let v = slots[3 * h] == u ? slots[3 * h + 1] : slots[3 * h]
                    if groupCost[h] > 0 { return room.cost(y, v) < groupCost[g0] + groupCost[h] }
                    mark[h] = stamp
                    cameFrom[v] = u
                    parent[v] = a
                    queue.append(v)
                    return false
                }
                search: while head < queue.count && spent < searchLimit {
                    let a = queue[head]
                    head += 1
                    if room.strategy == .needExpertise {
                        for (own, buckets) in [(room.interests, room.experts), (room.expertise, room.interested)] {
                            for k in own.bounds(a) {
                                for m in buckets.bounds(own.items[k]) where visit(a, buckets.items[m]) {
                                    end = (a, buckets.items[m])
                                    break search
                                }
                            }
                        }
                    } else {
                        for i in 1..<n where visit(a, (a + i) % n) {
                            end = (a, (a + i) % n)
                            break search
                        }
                    }
                }
                work += spent
                guard let (a, u) = end else { continue }
                // Collect the new pairs back along the path, then write them into the same groups.
                var pairs = [(a, u)]
                var groups = [g0]
                if u != y {
                    let h = groupOf[u]
                    pairs.append((y, slots[3 * h] == u ? slots[3 * h + 1] : slots[3 * h]))
                    groups.append(h)
                }
                var cur = a
                while cur != x {
                    pairs.append((parent[cur], cameFrom[cur]))
                    groups.append(groupOf[cur])
                    cur = parent[cur]
                }
                for ((p, q), g) in zip(pairs, groups) {
                    slots[3 * g] = p
                    slots[3 * g + 1] = q
                    groupOf[p] = g
                    groupOf[q] = g
                    groupCost[g] = room.cost(p, q)
                }
                applied = true
            }
        }
        return applied
    }

    private mutating func improve(group g: Int) -> Bool {
        let count = groupCount
        if room.strategy != .needExpertise || groupCost[g] >= PairingRoom.repeatCost {
            for step in 1..<max(count, 1) {
                if exchange(g, (g + step) % count, together: nil) { return true }
                if work >= budget { return false }
            }
            // Every exchange with every group was tried; the neighbour pass below would repeat a subset.
            return false
        }
        // A missing match: only an exchange that puts a member of g together with someone who
        // matches them can help, so look only at the groups of those members.
        for s in 0..<3 {
            let x = slots[3 * g + s]
            if x < 0 { continue }
            for k in room.interests.bounds(x) {
                let tag = room.interests.items[k]
                for m in room.experts.bounds(tag) {
                    let u = room.experts.items[m]
                    if groupOf[u] != g && exchange(g, groupOf[u], together: (x, u)) { return true }
                }
                if work >= budget { return false }
            }
            for k in room.expertise.bounds(x) {
                let tag = room.expertise.items[k]
                for m in room.interested.bounds(tag) {
                    let u = room.interested.items[m]
                    if groupOf[u] != g && exchange(g, groupOf[u], together: (x, u)) { return true }
                }
                if work >= budget { return false }
            }
        }
        return false
    }

    /// Tries swapping one member of `g` with one of `h` and applies the first swap that lowers the
    /// total cost of the two groups. With `together`, only swaps that end with both in one group.
    private mutating func exchange(_ g: Int, _ h: Int, together: (Int, Int)?) -> Bool {
        let gs = slots[3 * g + 2] < 0 ? 2 : 3, hs = slots[3 * h + 2] < 0 ? 2 : 3
        let before = groupCost[g] + groupCost[h]
        // Between two pairs, swapping the first or the second member of g gives the same two
        // partitions as the other, so one side's positions suffice.
        for p in 0..<(gs == 2 && hs == 2 ? 1 : gs) {
            for q in 0..<hs {
                let x = slots[3 * g + p], y = slots[3 * h + q]
                if let (a, b) = together {
                    // After the swap, a stays in g with y, or b stays in h with x.
                    guard (x != a && y == b) || (x == a && y != b) else { continue }
                }
                work += 1
                var ng = (slots[3 * g], slots[3 * g + 1], slots[3 * g + 2])
                var nh = (slots[3 * h], slots[3 * h + 1], slots[3 * h + 2])
                Self.set(&ng, p, y)
                Self.set(&nh, q, x)
                let cg = room.cost(ng.0, ng.1, ng.2)
                if cg >= before { continue }
                let ch = room.cost(nh.0, nh.1, nh.2)
                if cg + ch >= before { continue }
                slots[3 * g + p] = y
                slots[3 * h + q] = x
                groupOf[y] = g
                groupOf[x] = h
                groupCost[g] = cg
                groupCost[h] = ch
                return true
            }
        }
        return false
    }

    private static func set(_ t: inout (Int, Int, Int), _ i: Int, _ v: Int) {
        switch i {
        case 0: t.0 = v
        case 1: t.1 = v
        default: t.2 = v
        }
    }

    // MARK: Result

    func result() -> PairingResult {
        var out = PairingResult()
        var members: [[Int]] = []
        for g in 0..<groupCount {
            let group = slots[(3 * g)..<(3 * g + 3)].filter { $0 >= 0 }
            members.append(group)
            for i in 0..<group.count {
                for j in (i + 1)..<group.count {
                    let (a, b) = (group[i], group[j])
                    if room.isRepeat(a, b) { out.repeatedPairs += 1 }
                    if room.sameOrganization(a, b) { out.sameOrganizationPairs += 1 }
                    if room.matches(a, b) { out.expertiseMatches += 1 }
                }
            }
        }
        out.unmetConstraints = out.repeatedPairs
        switch room.strategy {
        case .random: break
        case .crossOrganization: out.unmetConstraints += out.sameOrganizationPairs
        case .needExpertise: out.unmetConstraints += strandedPairs(members)
        }
        out.groups = members.map { $0.map { room.ids[$0] }.sorted() }.sorted { $0[0] < $1[0] }
        return out
    }

    /// Unmatched pairs with a stranded member (see `PairingResult.unmetConstraints`).
    private func strandedPairs(_ members: [[Int]]) -> Int {
        var matched = [Bool](repeating: false, count: room.count)
        for group in members {
            for a in group where group.contains(where: { $0 != a && room.matches(a, $0) }) { matched[a] = true }
        }
        // Tag buckets restricted to unmatched members, so each look-up stops within a few entries
        // (only the member's own group and earlier partners can be skipped).
        var expertiseRows = PairingRows(), interestRows = PairingRows()
        for x in 0..<room.count {
            expertiseRows.appendRow(matched[x] ? [] : room.expertise.items[room.expertise.bounds(x)])
            interestRows.appendRow(matched[x] ? [] : room.interests.items[room.interests.bounds(x)])
        }
        let experts = expertiseRows.transposed(itemCount: room.experts.rowCount)
        let interested = interestRows.transposed(itemCount: room.interested.rowCount)
        func stranded(_ x: Int) -> Bool {
            if matched[x] { return false }
            func any(_ own: PairingRows, _ buckets: PairingRows) -> Bool {
                for k in own.bounds(x) {
                    for m in buckets.bounds(own.items[k]) {
                        let z = buckets.items[m]
                        if groupOf[z] != groupOf[x] && !room.isRepeat(x, z) { return true }
                    }
                }
                return false
            }
            return any(room.interests, experts) || any(room.expertise, interested)
        }
        let strandedMember = (0..<room.count).map(stranded)
        var count = 0
        for group in members {
            for i in 0..<group.count {
                for j in (i + 1)..<group.count {
                    let (a, b) = (group[i], group[j])
                    if !room.matches(a, b) && (strandedMember[a] || strandedMember[b]) { count += 1 }
                }
            }
        }
        return count
    }
}

/// Classes (organizations) bucketed by how many of their members are still waiting.
private struct ClassQueue {
    /// Class `c`'s members, in the order given, are `items[start[c]..<start[c + 1]]`.
    private var start: [Int]
    private var items: [Int]
    /// Everything before `front[c]` in class c is paired.
    private var front: [Int]
    private var waiting: [Int]
    /// `buckets[k]` holds the classes with k members waiting; `position` is each class's index there.
    private var buckets: [[Int]]
    private var position: [Int]
    /// The non-empty levels as a descending linked list (0 ends it), so walking from the largest
    /// class down never visits empty levels: with organizations of 5,000 and 3,000 members the
    /// levels in between are empty, and stepping over them for every pair would be quadratic.
    private var highest = 0
    private var lower: [Int]
    private var higher: [Int]

    init(_ members: [Int], classOf: (Int) -> Int, classCount: Int) {
        waiting = [Int](repeating: 0, count: classCount)
        for m in members { waiting[classOf(m)] += 1 }
        start = [Int](repeating: 0, count: classCount + 1)
        for c in 0..<classCount { start[c + 1] = start[c] + waiting[c] }
        items = [Int](repeating: 0, count: members.count)
        var fill = start
        for m in members {
            items[fill[classOf(m)]] = m
            fill[classOf(m)] += 1
        }
        front = Array(start.dropLast())
        let top = waiting.max() ?? 0
        buckets = [[Int]](repeating: [], count: top + 1)
        position = [Int](repeating: 0, count: classCount)
        for c in 0..<classCount where waiting[c] > 0 {
            position[c] = buckets[waiting[c]].count
            buckets[waiting[c]].append(c)
        }
        lower = [Int](repeating: 0, count: top + 1)
        higher = [Int](repeating: 0, count: top + 1)
        var previous = 0
        for k in 1..<(top + 1) where !buckets[k].isEmpty {
            lower[k] = previous
            if previous > 0 { higher[previous] = k }
            previous = k
        }
        highest = previous
    }

    /// A class with the most members waiting. Only called while someone waits.
    func largest() -> Int { buckets[highest][buckets[highest].count - 1] }

    /// One member of class `c` left the queue: c moves down one level.
    mutating func leave(_ c: Int) {
        let k = waiting[c], p = position[c]
        let last = buckets[k].removeLast()
        if last != c {
            buckets[k][p] = last
            position[last] = p
        }
        waiting[c] -= 1
        if k > 1 {
            if buckets[k - 1].isEmpty {
                // Level k is still listed, and k - 1 sits right below it.
                lower[k - 1] = lower[k]
                if lower[k] > 0 { higher[lower[k]] = k - 1 }
                lower[k] = k - 1
                higher[k - 1] = k
            }
            position[c] = buckets[k - 1].count
            buckets[k - 1].append(c)
        }
        if buckets[k].isEmpty {
            if lower[k] > 0 { higher[lower[k]] = higher[k] }
            if k == highest { highest = lower[k] } else { lower[higher[k]] = lower[k] }
        }
    }

    mutating func firstWaiting(in c: Int, _ paired: [Bool]) -> Int {
        while paired[items[front[c]]] { front[c] += 1 }
        return items[front[c]]
    }

    /// The first waiting member of class `c` accepted by `ok`, or -1.
    mutating func find(in c: Int, _ paired: [Bool], _ ok: (Int) -> Bool) -> Int {
        guard waiting[c] > 0 else { return -1 }
        while paired[items[front[c]]] { front[c] += 1 }
        for k in front[c]..<start[c + 1] where !paired[items[k]] && ok(items[k]) { return items[k] }
        return -1
    }

    /// The first accepted member of the largest class other than `c` that has one, or -1.
    /// Classes are visited largest first; a class is passed over only if `ok` refuses all its
    /// waiting members, which for "fresh" needs that many earlier partners, so this stays short.
    mutating func find(excluding c: Int, _ paired: [Bool], _ ok: (Int) -> Bool) -> Int {
        var k = highest
        while k > 0 {
            var i = buckets[k].count - 1
            while i >= 0 {
                let d = buckets[k][i]
                if d != c {
                    let u = find(in: d, paired, ok)
                    if u >= 0 { return u }
                }
                i -= 1
            }
            k = lower[k]
        }
        return -1
    }
}
