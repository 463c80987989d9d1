import ArgumentParser
import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableStore
import RoundtableWire

/// In-process benchmarks of the coordinator and the store (no network): see BENCHMARKS.md.
/// Its own executable, so the server binary carries no benchmark code.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtable-bench",
        abstract: "Benchmarks of the domain and the data folder, in process (build with -c release).",
        subcommands: [BenchCore.self, BenchStore.self, BenchPairing.self, BenchCommunity.self, BenchCommunityJoin.self])
}

/// Hashing in the domain is SHA-256 in production; the ballot path never hashes except for anonymous voter keys.
func makeCoordinator(seed: UInt64) -> Coordinator {
    var limits = Limits()
    limits.maxMembersPerRoom = 200_000
    limits.maxRooms = 100_000
    var c = Coordinator(limits: limits, entropy: SeededEntropy(seed: seed), hasher: SHA256Hasher())
    c.fragmentEncoder = JSONFragmentEncoder() // as the server runs it
    return c
}

func benchClock() -> Double { monotonicSeconds() }

func ack(_ effects: [Effect]) -> Value.Object? {
    for case .reply(let r, _, _) in effects {
        switch r {
        case .ack(let body): return body
        case .error(let e): fatalError("bench request refused: \(e.code): \(e.message)")
        }
    }
    return nil
}

struct BenchCore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Apply random valid ballots to the coordinator across polls of every kind; time results updates.")

    @Option(help: "Ballots to apply in total.") var ballots = 1_000_000
    @Option(help: "Members voting in the room.") var members = 10_000
    @Option(help: "Options per poll.") var options = 10
    @Option(help: "Where to write the JSON result.") var output: String?

    func run() throws {
        var c = makeCoordinator(seed: 1)
        var now: Millis = 1_800_000_000_000
        var conn: ConnectionID = 1
        let create = c.handle(.createRoom(.init(title: "Bench", name: "F")), ref: nil, from: conn, at: now)
        let code = ack(create)!["room"]!.stringValue!
        // Joins into one growing room: each builds the joiner's room.state, so this shows how a join scales with room size.
        let joinStart = benchClock()
        var joinMillisAt: [(members: Int, millis: Double)] = []
        var lastMark = joinStart
        for i in 0..<members {
            conn += 1
            _ = c.handle(.join(.init(code: code, name: "m\(i)", organization: "org\(i % 40)")), ref: nil, from: conn, at: now)
            if (i + 1) % 1000 == 0 {
                let t = benchClock()
                joinMillisAt.append((i + 1, (t - lastMark) * 1000 / 1000)) // mean ms per join over the last 1,000
                lastMark = t
            }
        }
        let joinSeconds = benchClock() - joinStart
        let labels = (1...options).map { "option \($0)" }
        var polls: [(PollKind, Int)] = []
        for kind in [PollKind.single, .multi, .rating, .ranking, .points, .open] {
            let def = PollDefinition(question: "Q", kind: kind, labels: kind == .open ? [] : labels, anonymous: true, maxChoices: 3, budget: 100)
            let a = ack(c.handle(.createPoll(def, openNow: true), ref: nil, from: 1, at: now))!
            polls.append((kind, Int(a["poll"]!.intValue!)))
        }
        var rng = SeededEntropy(seed: 99)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        func ballot(_ kind: PollKind) -> Value.Object {
            switch kind {
            case .single: return ["option": Value(1 + r(options))]
            case .multi:
                var s = Set<Int>()
                let k = 1 + r(3)
                while s.count < k { s.insert(1 + r(options)) }
                return ["options": .array(s.sorted().map { Value($0) })]
            case .rating: return ["ratings": .object(Value.Object((1...3).map { (String(1 + ($0 * 3 + r(3)) % options), Value(1 + r(5))) }))]
            case .ranking:
                var o = Array(1...options)
                for i in stride(from: o.count - 1, to: 0, by: -1) { o.swapAt(i, r(i + 1)) }
                return ["ranking": .array(o.prefix(1 + r(options)).map { Value($0) })]
            case .points:
                let a = 1 + r(options), b = 1 + (a % options)
                let x = r(101)
                return ["points": .object(Value.Object([(String(a), Value(x)), (String(b), Value(r(101 - x)))]))]
            case .open: return ["text": .string("answer \(r(50))")]
            }
        }
        // Pre-build requests so the timed loop measures the coordinator, not the generator.
        let prepared: [(ConnectionID, Int, Value.Object)] = (0..<ballots).map { i in
            let (kind, id) = polls[i % polls.count]
            return (ConnectionID(2 + r(members)), id, ballot(kind))
        }
        var refused = 0
        let t0 = benchClock()
        for (from, poll, b) in prepared {
            now += 1
            let effects = c.handle(.castVote(poll: poll, ballot: b), ref: nil, from: from, at: now)
            if case .reply(.error, _, _) = effects.last { refused += 1 }
        }
        let applySeconds = benchClock() - t0
        // One coalesced update per poll: results computed from the tally, encoded once.
        var perKind: [String: Double] = [:]
        // One untimed pass first, so the first kind measured does not pay for cold caches alone.
        for (_, id) in polls { _ = MessageEncoder.encode(c.resultsNotice(for: id, in: c.rooms[code]!), ref: nil) }
        for (kind, id) in polls {
            let room = c.rooms[code]!
            let reps = 50
            let t = benchClock()
            var bytes = 0
            for _ in 0..<reps {
                let body = c.resultsNotice(for: id, in: room)
                bytes += MessageEncoder.encode(body, ref: nil).count
            }
            perKind[kind.rawValue] = (benchClock() - t) / Double(reps) * 1e6
            _ = bytes
        }
        let ballotsPerPoll = c.rooms[code]!.polls.values.map(\.ballots.count).min() ?? 0
        let result: Value = [
            "ballotsApplied": Value(ballots - refused), "refused": Value(refused), "seconds": .double(applySeconds),
            "ballotsPerSecond": .double(Double(ballots) / applySeconds), "members": Value(members), "options": Value(options),
            "distinctBallotsPerPoll": Value(ballotsPerPoll),
            "joinSeconds": .double(joinSeconds),
            "joinMillisPerJoinByRoomSize": .object(Value.Object(joinMillisAt.map { (String($0.members), Value.double($0.millis)) })),
            "resultsUpdateMicros": .object(Value.Object(perKind.sorted { $0.key < $1.key }.map { ($0.key, Value.double($0.value)) })),
        ]
        print(JSON.string(result))
        if let output { try JSON.string(result).write(toFile: output, atomically: true, encoding: .utf8) }
    }
}

struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Snapshot capture/encode/write for many rooms, and recovery time for a large journal.")

    @Option(help: "Rooms for the snapshot benchmark.") var rooms = 1_000
    @Option(help: "Members per room.") var members = 50
    @Option(help: "Journal events for the recovery benchmark.") var events = 1_000_000
    @Option(help: "Scratch data folder (deleted first).") var dataDir = "/tmp/roundtable-bench-store"
    @Option(help: "Where to write the JSON result.") var output: String?

    func run() throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        try? FileManager.default.removeItem(atPath: dataDir)
        var c = makeCoordinator(seed: 2)
        var now: Millis = 1_800_000_000_000
        var conn: ConnectionID = 0
        for _ in 0..<rooms {
            conn += 1
            let fac = conn
            let code = ack(c.handle(.createRoom(.init(title: "Room", name: "F")), ref: nil, from: fac, at: now))!["room"]!.stringValue!
            let def = PollDefinition(question: "Q", kind: .ranking, labels: ["a", "b", "c", "d"])
            _ = c.handle(.createPoll(def, openNow: true), ref: nil, from: fac, at: now)
            for i in 0..<members {
                conn += 1
                now += 1
                _ = c.handle(.join(.init(code: code, name: "m\(i)")), ref: nil, from: conn, at: now)
                _ = c.handle(.castVote(poll: 1, ballot: ["ranking": [1, 2, 3, 4]]), ref: nil, from: conn, at: now)
            }
        }
        // What the service loop pays: copying the rooms dictionary (values, copy-on-write).
        var stalls: [Double] = []
        for _ in 0..<20 {
            let t = benchClock()
            let copy = c.snapshotRooms
            stalls.append((benchClock() - t) * 1000)
            _ = copy.count
        }
        stalls.sort()
        let persistence = try Persistence(path: dataDir, fsync: .always, logger: logger)
        let t1 = benchClock()
        let bytes = try persistence.writeSnapshot(c.snapshotRooms, archived: c.archived, lsn: 1)
        let writeMs = (benchClock() - t1) * 1000

        // Recovery: a journal of `events` vote ops in one room, then a timed recover().
        let journalDir = dataDir + "-journal"
        try? FileManager.default.removeItem(atPath: journalDir)
        let p2 = try Persistence(path: journalDir, fsync: .none, logger: logger)
        var c2 = try p2.recover(limits: c.limits)
        _ = persistence
        var effectsBatch: [JournalEntry] = []
        func journaled(_ effects: [Effect]) {
            for case .journal(let j) in effects { effectsBatch.append(j) }
        }
        conn = 1_000_000
        let created = c2.handle(.createRoom(.init(title: "Big", name: "F")), ref: nil, from: conn, at: now)
        journaled(created)
        let code = ack(created)!["room"]!.stringValue!
        let def = PollDefinition(question: "Q", kind: .ranking, labels: ["a", "b", "c", "d"], anonymous: false)
        journaled(c2.handle(.createPoll(def, openNow: true), ref: nil, from: conn, at: now))
        var voters: [ConnectionID] = []
        for i in 0..<1000 {
            conn += 1
            voters.append(conn)
            journaled(c2.handle(.join(.init(code: code, name: "v\(i)")), ref: nil, from: conn, at: now))
        }
        var rng = SeededEntropy(seed: 5)
        var written = 0
        while written < events {
            for _ in 0..<1000 where written < events {
                now += 1
                let who = voters[Int(rng.next() % UInt64(voters.count))]
                var order = [1, 2, 3, 4]
                order.swapAt(0, Int(rng.next() % 4))
                journaled(c2.handle(.castVote(poll: 1, ballot: ["ranking": .array(order.map { Value($0) })]), ref: nil, from: who, at: now))
                written += 1
            }
            _ = p2.append(effectsBatch)
            effectsBatch.removeAll(keepingCapacity: true)
        }
        p2.close()
        let journalBytes =
            (try? FileManager.default.subpathsOfDirectory(atPath: journalDir + "/journal"))?.reduce(0) { sum, f in
                sum + ((try? FileManager.default.attributesOfItem(atPath: journalDir + "/journal/" + f)[.size] as? Int) ?? 0)
            } ?? 0
        try? FileManager.default.removeItem(atPath: journalDir + "-copy")
        try FileManager.default.createDirectory(atPath: journalDir + "-copy", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: journalDir + "/journal", toPath: journalDir + "-copy/journal")
        let t2 = benchClock()
        let recovered = try Persistence(path: journalDir + "-copy", fsync: .none, logger: logger).recover(limits: c.limits)
        let recoverSeconds = benchClock() - t2
        let ballotsAfter = recovered.rooms[code]?.polls[1]?.ballots.count ?? -1
        let result: Value = [
            "rooms": Value(rooms), "membersPerRoom": Value(members),
            "snapshotCaptureMillis": ["median": .double(stalls[stalls.count / 2]), "max": .double(stalls.last!)],
            "snapshotBytes": Value(bytes), "snapshotEncodeWriteFsyncMillis": .double(writeMs),
            "journalEvents": Value(events), "journalBytes": Value(journalBytes), "recoverySeconds": .double(recoverSeconds),
            "recoveredBallots": Value(ballotsAfter),
        ]
        print(JSON.string(result))
        if let output { try JSON.string(result).write(toFile: output, atomically: true, encoding: .utf8) }
        try? FileManager.default.removeItem(atPath: dataDir)
        try? FileManager.default.removeItem(atPath: journalDir)
        try? FileManager.default.removeItem(atPath: journalDir + "-copy")
    }
}

/// The exact pairing search at and around `Pairing.exactLimit`, and the heuristic against it
/// (docs/bench/pairing.md, "Exact search and the heuristic").
struct BenchPairing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairing",
        abstract: "Time the exact pairing search by room size; compare the heuristic's cost with the exact optimum.")

    @Option(help: "Room sizes, comma-separated.") var sizes = "16,20,22,23,24,25,26"
    @Option(help: "Random rooms per size and strategy.") var rooms = 10
    @Option(help: "Rounds per room (history grows round by round, so repeats become forced).") var rounds = 8

    func run() throws {
        print(
            "| members | strategy | instances | exact median ms | exact p90 ms | exact max ms | heuristic median ms | heuristic optimal | mean gap (repeats, wishes) | worst gap |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in sizes.split(separator: ",").compactMap({ Int($0) }) {
            for strategy in PairingStrategy.allCases {
                var rng = SeededEntropy(seed: UInt64(n) * 31 + UInt64(strategy.rawValue.count))
                func r(_ k: Int) -> Int { Int(rng.next() % UInt64(k)) }
                var exactMs: [Double] = [], heuristicMs: [Double] = []
                var optimal = 0, instances = 0
                var gapRepeats = 0, gapWishes = 0
                var worst = (0, 0)
                for _ in 0..<rooms {
                    // 1-5 organizations of random sizes, 6-14 tags, 0-3 interests and expertise each.
                    let orgs = 1 + r(5), tags = 6 + r(9)
                    let candidates = (0..<n).map { i in
                        PairingCandidate(
                            id: i + 1, organization: "o\(r(orgs))",
                            interests: Set((0..<r(4)).map { _ in "t\(r(tags))" }),
                            expertise: Set((0..<r(4)).map { _ in "t\(r(tags))" }))
                    }
                    var history = Set<PairKey>()
                    for _ in 0..<rounds {
                        let seed = rng.next()
                        var t = benchClock()
                        let exact = Pairing.pair(candidates, strategy: strategy, history: history, seed: seed, search: .exact)
                        exactMs.append((benchClock() - t) * 1000)
                        t = benchClock()
                        let heuristic = Pairing.pair(candidates, strategy: strategy, history: history, seed: seed, search: .heuristic)
                        heuristicMs.append((benchClock() - t) * 1000)
                        func cost(_ p: PairingResult) -> (Int, Int) {
                            var repeats = 0, wishes = 0
                            let byID = Dictionary(uniqueKeysWithValues: candidates.map { ($0.id, $0) })
                            for g in p.groups {
                                for a in 0..<g.count {
                                    for b in (a + 1)..<g.count {
                                        let x = byID[g[a]]!, y = byID[g[b]]!
                                        if history.contains(PairKey(x.id, y.id)) { repeats += 1 }
                                        switch strategy {
                                        case .random: break
                                        case .crossOrganization: if x.organization == y.organization { wishes += 1 }
                                        case .needExpertise:
                                            if x.interests.isDisjoint(with: y.expertise) && y.interests.isDisjoint(with: x.expertise) { wishes += 1 }
                                        }
                                    }
                                }
                            }
                            return (repeats, wishes)
                        }
                        let e = cost(exact), h = cost(heuristic)
                        precondition(e <= h, "the heuristic beat the exact search: \(h) < \(e)")
                        instances += 1
                        if e == h { optimal += 1 }
                        gapRepeats += h.0 - e.0
                        if h.0 == e.0 { gapWishes += h.1 - e.1 }
                        if (h.0 - e.0, h.1 - e.1) > worst { worst = (h.0 - e.0, h.1 - e.1) }
                        for g in exact.groups {
                            for a in 0..<g.count { for b in (a + 1)..<g.count { history.insert(PairKey(g[a], g[b])) } }
                        }
                    }
                }
                exactMs.sort()
                heuristicMs.sort()
                func ms(_ v: Double) -> String { String(format: "%.2f", v) }
                let k = Double(instances)
                print(
                    "| \(n) | \(strategy.rawValue) | \(instances) | \(ms(exactMs[exactMs.count / 2])) | \(ms(exactMs[exactMs.count * 9 / 10])) | \(ms(exactMs.last!)) | \(ms(heuristicMs[heuristicMs.count / 2])) | \(String(format: "%.1f", 100 * Double(optimal) / k)) % | (\(String(format: "%.2f", Double(gapRepeats) / k)), \(String(format: "%.2f", Double(gapWishes) / k))) | \(worst) |"
                )
            }
        }
    }
}
