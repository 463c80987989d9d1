import Testing

@testable import RoundtableCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Randomized, seeded fuzzing of the coordinator: random command sequences from several connections
// across a few rooms, with an advancing injected clock, checking protocol invariants after every step
// and replaying the collected journal at the end.
//
// Commands are generated as `Command` values (this test target does not link RoundtableWire);
// `Tests/RoundtableWireTests/FuzzTests.swift` drives the same coordinator through `RequestDecoder`.
//
// Iterations: `ROUNDTABLE_FUZZ_STEPS` (default 50_000 steps split over several seeds);
// `ROUNDTABLE_FUZZ_SEED` runs one extra seed (to reproduce a failure printed by a run).

/// A deterministic digest that behaves like a real hash (distinct inputs give distinct 64-hex outputs),
/// unlike `TestHasher`, whose `h(...)` prefix would make every anonymous pseudonym of a poll identical.
struct FuzzHasher: SecretHasher {
    func digest(_ secret: String) -> String {
        var out = ""
        for lane in 0..<4 as Range<UInt64> {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (lane &* 0x9E37_79B9_7F4A_7C15)
            for b in secret.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            h ^= h >> 33; h &*= 0xff51_afd7_ed55_8ccd; h ^= h >> 33
            let hex = String(h, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }
}

/// Seeded choices for the generator.
struct FuzzRandom {
    var source: SeededEntropy
    init(seed: UInt64) { source = SeededEntropy(seed: seed) }
    mutating func int(_ r: ClosedRange<Int>) -> Int {
        r.lowerBound + Int(source.next() % UInt64(r.upperBound - r.lowerBound + 1))
    }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...xs.count - 1)] }
}

/// Error codes a reply may carry: the table in docs/PROTOCOL.md "Errors" (the session codes were added
/// to it in 0974acb).
enum KnownCodes {
    static let documented: Set<String> = [
        "bad_json", "invalid_field", "too_large", "unknown_type", "binary_unsupported", "rate_limited", "not_ready",
        "storage_unavailable", "not_joined", "already_joined", "not_allowed", "not_facilitator", "too_many_rooms",
        "room_not_found", "bad_credentials", "room_full", "member_not_found", "need_not_found", "limit_reached",
        "no_needs", "poll_not_found", "poll_open", "poll_not_open", "poll_closed", "invalid_ballot", "no_ballot",
        "room_closed", "room_archived", "archive_unavailable",
    ]
    static let session: Set<String> = [
        "group_full", "group_not_found", "grouping_not_found", "highlight_not_found", "interviews_active",
        "interviews_inactive", "no_groups", "not_in_group", "timer_not_found", "agenda_end", "step_not_found", "results_hidden",
    ]
    static let all = documented.union(session)
}

/// One fuzz run: a coordinator, a model of what the generator knows, and the invariant checks.
struct CoordinatorFuzzer {
    var rng: FuzzRandom
    var coordinator: Coordinator
    var now: Millis = 1_800_000_000_000
    var journal: [JournalEntry] = []
    /// Every event seq seen per room (broadcasts, including resume replays).
    var seenEvents: [String: Set<UInt64>] = [:]
    /// Rooms each connection has ever been bound to.
    var everBound: [ConnectionID: Set<String>] = [:]
    var failures: [String] = []
    var steps = 0
    var log: [String] = []

    // What a client could know: codes, keys (current and stale), tokens, ids seen in acks.
    var codes: [String] = []
    var keys: [String] = []
    var tokens: [String] = []
    let connections: [ConnectionID] = Array(1...10)
    let limits: Limits

    init(seed: UInt64) {
        rng = FuzzRandom(seed: seed)
        var l = Limits()
        // Small limits so the fuzzer reaches them.
        l.maxRooms = 4
        l.maxMembersPerRoom = 8
        l.maxNeedsPerRoom = 12
        l.maxPollsPerRoom = 10
        l.maxOptionsPerPoll = 6
        l.maxGroupsPerRoom = 6
        l.maxTags = 4
        l.maxNameLength = 12
        l.maxTitleLength = 16
        l.maxTextLength = 40
        l.resumeBufferEvents = 16
        l.resultsIntervalMs = 250
        limits = l
        coordinator = Coordinator(limits: l, entropy: SeededEntropy(seed: seed ^ 0xA5A5), hasher: FuzzHasher())
    }

    // MARK: Generation

    mutating func text() -> String {
        switch rng.int(0...9) {
        case 0: return ""
        case 1: return "   \t\n "
        case 2: return String(repeating: "x", count: rng.int(10...60))
        case 3: return "e\u{301}\u{301}\u{301}" // one grapheme, several scalars
        case 4: return "👩‍👩‍👧‍👦 " + String(repeating: "é", count: rng.int(0...45))
        case 5: return "\u{0}\u{1F}\"\\"
        case 6: return " Grant Writing "
        default: return rng.pick(["Ann", "Bo", "Food Bank", "data", "grants", "Volunteers", "a", "Ops lead"])
        }
    }

    mutating func tags() -> [String] { (0..<rng.int(0...6)).map { _ in text() } }
    mutating func smallID() -> Int { rng.chance(10) ? rng.pick([0, -1, Int(Int32.max), 1_000_000]) : rng.int(1...8) }

    mutating func code() -> String {
        guard !codes.isEmpty, !rng.chance(8) else { return rng.pick(["NOPE0000", "", "zzzzzzzz", "O1IL-0000"]) }
        let c = rng.pick(codes)
        switch rng.int(0...5) {
        case 0: return c.lowercased()
        case 1: return String(c.prefix(4)) + "-" + String(c.dropFirst(4))
        case 2: return String(c.dropLast())
        default: return c
        }
    }

    mutating func definition() -> PollDefinition {
        let kind = rng.pick(PollKind.allCases)
        let labels = (0..<rng.pick([0, 1, 2, 3, 4, 7])).map { _ in rng.chance(85) ? "Opt\(rng.int(1...9))" : text() }
        let method: RankingMethod? = rng.chance(60) ? nil : rng.pick(RankingMethod.allCases)
        return PollDefinition(
            question: rng.chance(90) ? "Q\(rng.int(1...99))?" : text(), kind: kind, labels: labels,
            overNeeds: rng.chance(35), anonymous: rng.chance(60),
            visibility: rng.pick([.live, .afterClose, .facilitator]),
            maxChoices: rng.chance(50) ? nil : rng.int(-1...5), scaleMin: rng.chance(80) ? 1 : rng.int(-3...6),
            scaleMax: rng.chance(80) ? 5 : rng.int(-3...6), budget: rng.chance(80) ? 100 : rng.int(-5...20), method: method)
    }

    mutating func ballot() -> Value.Object {
        func idv() -> Value { rng.chance(90) ? Value(rng.int(0...8)) : rng.pick([Value(-1), "1", .null, 1.5, 3e9]) }
        func map() -> Value {
            var o = Value.Object()
            for _ in 0..<rng.int(0...4) {
                o[rng.chance(90) ? String(rng.int(0...8)) : rng.pick(["x", "-1", "", "99999999999"])] =
                    rng.chance(90) ? Value(rng.int(-2...120)) : rng.pick([Value(2_000_000_000), "5", .null])
            }
            return .object(o)
        }
        var b = Value.Object()
        switch rng.int(0...6) {
        case 0: b["option"] = idv()
        case 1: b["options"] = .array((0..<rng.int(0...4)).map { _ in idv() })
        case 2: b["ranking"] = .array((0..<rng.int(0...5)).map { _ in idv() })
        case 3: b["ratings"] = map()
        case 4: b["points"] = map()
        case 5: b["text"] = .string(rng.chance(10) ? String(repeating: "y", count: 300) : text())
        default:
            b["option"] = idv()
            b["points"] = map()
            b["text"] = rng.chance(50) ? .string(text()) : Value(3)
        }
        return b
    }

    /// A random agenda step: every kind, good and bad settings, known and unknown ids.
    mutating func agendaStep() -> AgendaStep {
        var s = AgendaStep(id: rng.chance(30) ? smallID() : 0, kind: rng.pick(StepKind.allCases), title: rng.chance(70) ? "" : text())
        s.text = rng.chance(60) ? "Back at 11" : text()
        if rng.chance(15) { s.wall = rng.pick(WallView.allCases) }
        switch s.kind {
        case .poll, .pollOverNeeds:
            if rng.chance(30) { s.poll = smallID() } else if rng.chance(90) { s.definition = definition() }
        case .interviews:
            var iv = InterviewSettings()
            iv.turnMs = Millis(rng.pick([5, 10, 30, 600])) * 1000
            iv.reportMs = Millis(rng.int(0...20)) * 1000
            if rng.chance(20) { iv.group = smallID() }
            if rng.chance(70) { s.interviews = iv }
        case .groups:
            var g = GroupsPlan()
            if rng.chance(50) {
                g.fromNeeds = rng.int(0...4)
            } else {
                g.groups = (0..<rng.int(0...3)).map { _ in .init(name: rng.chance(80) ? "G" : text(), capacity: rng.chance(50) ? nil : rng.int(0...3)) }
            }
            g.mode = rng.chance(50) ? .assigned : .selfSelect
            if rng.chance(30) { g.assign = rng.pick(["balanced", "by-need", "bogus"]) }
            if rng.chance(90) { s.groups = g }
        case .pause:
            s.seconds = rng.chance(85) ? rng.int(1...600) : rng.pick([0, -5, 100_000])
        case .welcome, .needsIntake, .announcement, .closing:
            break
        }
        return s
    }

    mutating func command() -> Command {
        switch rng.int(0...48) {
        case 0, 1:
            return .createRoom(
                .init(
                    title: rng.chance(85) ? "Launch" : text(), name: rng.chance(85) ? "Fay" : text(),
                    organization: text(), settings: RoomSettings()))
        case 2...5:
            var j = Command.Join(code: code(), name: rng.chance(90) ? "M\(rng.int(1...99))" : text(), organization: text())
            j.role = rng.pick([.member, .member, .observer, .facilitator])
            if rng.chance(25) { j.facilitatorKey = keys.isEmpty || rng.chance(20) ? "forged" : rng.pick(keys) }
            if rng.chance(30) {
                j.token = tokens.isEmpty || rng.chance(15) ? "forged" : rng.pick(tokens)
                if rng.chance(70) { j.since = UInt64(rng.int(0...60)) }
            }
            return .join(j)
        case 6: return .leave
        case 7:
            return .updateMember(
                .init(
                    name: rng.chance(50) ? text() : nil, organization: rng.chance(50) ? text() : nil,
                    expertise: rng.chance(50) ? tags() : nil, bio: rng.chance(50) ? text() : nil))
        case 8: return .removeMember(smallID())
        case 9: return .rotateKey
        case 10, 11: return .submitNeed(text: rng.chance(85) ? "need \(rng.int(1...30))" : text(), tags: tags())
        case 12: return .editNeed(smallID(), text: rng.chance(60) ? text() : nil, tags: rng.chance(50) ? tags() : nil)
        case 13: return .mergeNeeds(into: smallID(), from: (0..<rng.int(0...4)).map { _ in smallID() })
        case 14: return .removeNeed(smallID())
        case 15, 16: return .createPoll(definition(), openNow: rng.chance(50))
        case 17: return .importPolls((0..<rng.int(0...3)).map { _ in definition() })
        case 18, 19: return .openPoll(smallID())
        case 20: return .closePoll(smallID())
        case 21...24: return .castVote(poll: smallID(), ballot: ballot())
        case 25: return .retractVote(poll: smallID())
        case 26:
            var s = InterviewSettings()
            s.strategy = rng.pick(PairingStrategy.allCases)
            s.turnMs = rng.chance(80) ? Millis(rng.int(10...120)) * 1000 : Millis(rng.int(-1...8000)) * 1000
            s.reportMs = rng.chance(80) ? Millis(rng.int(0...60)) * 1000 : -1000
            s.lateJoinGraceMs = Millis(rng.int(-1...90)) * 1000
            s.partnerGraceMs = Millis(rng.int(-1...90)) * 1000
            s.prompts = rng.chance(30) ? tags() : []
            s.linkTemplate = rng.chance(20) ? rng.pick(["https://meet.example.org/{room}-{round}-{pair}", "javascript:alert(1)", text()]) : nil
            s.group = rng.chance(20) ? smallID() : nil
            return .startInterviews(s)
        case 27: return .nextInterviewRound
        case 28: return .endInterviews
        case 29: return .interviewNote(about: smallID(), text: text(), shared: rng.chance(50))
        case 30: return .acceptHighlight(smallID())
        case 31: return .rematch
        case 32:
            let specs = (0..<rng.pick([0, 1, 2, 3, 9])).map { _ in
                Coordinator.GroupSpec(
                    name: rng.chance(85) ? "G\(rng.int(1...9))" : text(), description: text(),
                    capacity: rng.chance(40) ? nil : rng.int(-1...3))
            }
            return .createGroups(rng.chance(50) ? .assigned : .selfSelect, specs)
        case 33:
            if rng.chance(50) {
                var m: [MemberID: Int] = [:]
                for _ in 0..<rng.int(0...5) { m[smallID()] = smallID() }
                return .assignGroups(explicit: m, strategy: nil)
            }
            return .assignGroups(explicit: nil, strategy: rng.pick(["balanced", "mixed-organizations", "by-need", "bogus", ""]))
        case 34: return .groupsFromNeeds(count: rng.int(1...5), capacity: rng.chance(50) ? nil : rng.int(-1...3))
        case 35, 36: return .joinGroup(smallID())
        case 37: return .leaveGroup
        case 38: return rng.chance(50) ? .saveGrouping(rng.pick(["a", "b", "", "  "])) : .applyGrouping(rng.pick(["a", "b", "c"]))
        case 39: return .announce(text: text(), group: rng.chance(50) ? nil : smallID())
        case 40: return .startTimer(seconds: rng.int(1...600), label: text(), group: rng.chance(70) ? nil : smallID())
        case 41: return rng.chance(20) ? .closeRoom : .stopTimer(smallID())
        case 42: return .setAgenda((0..<rng.pick([0, 1, 3, 6])).map { _ in agendaStep() })
        case 43, 44: return .nextStep
        case 45: return .gotoStep(smallID())
        case 46: return .showWall(Wall(view: rng.pick(WallView.allCases), poll: rng.chance(50) ? nil : smallID()))
        case 47: return .revealPoll(smallID())
        case 48: return rng.chance(50) ? .clearAnnouncement : .announce(text: text(), group: nil)
        default: return .stopTimer(smallID())
        }
    }

    // MARK: Driving

    mutating func step() {
        steps += 1
        now += Millis(rng.int(0...1_500))
        if rng.chance(2) { now += Millis(rng.int(60_000...900_000)) } // long pauses expire timers and rounds
        let before = bindingsSnapshot()
        let effects: [Effect]
        let roll = rng.int(0...99)
        var requester: ConnectionID?
        var what = ""
        if roll < 6 {
            let c = rng.pick(connections)
            what = "disconnected(\(c))"
            effects = coordinator.disconnected(c, at: now)
        } else if roll < 18 {
            what = "tick"
            effects = coordinator.tick(at: now)
        } else {
            // Bias towards connections that have joined, so deep paths are reached.
            let bound = connections.filter { before[$0] != nil }
            let c = !bound.isEmpty && rng.chance(75) ? rng.pick(bound) : rng.pick(connections)
            let cmd = command()
            what = "handle(\(cmd)) from \(c)"
            requester = c
            effects = coordinator.handle(cmd, ref: .int(Int64(steps)), from: c, at: now)
        }
        if log.count > 40 { log.removeFirst() }
        log.append("#\(steps) t=\(now) \(what)")
        check(effects, requester: requester, before: before, what: what)
    }

    func bindingsSnapshot() -> [ConnectionID: String] {
        var out: [ConnectionID: String] = [:]
        for c in connections { if let b = coordinator.binding(of: c) { out[c] = b.room } }
        return out
    }

    var knownSeen: Set<String> = []

    mutating func fail(_ message: String) {
        // A known issue is reported once per run and does not stop the run, so exploration continues.
        if let known = KnownFuzzIssue.matching(message), !knownSeen.insert(known).inserted { return }
        if failures.count < 20 { failures.append("step \(steps): \(message)\n  recent:\n    " + log.suffix(6).joined(separator: "\n    ")) }
    }

    // MARK: Invariants

    mutating func check(_ effects: [Effect], requester: ConnectionID?, before: [ConnectionID: String], what: String) {
        let after = bindingsSnapshot()
        for (c, r) in after { everBound[c, default: []].insert(r) }
        var replies = 0
        var refused = false
        var journaledRooms = Set<String>()
        for e in effects {
            switch e {
            case .journal(let j):
                journal.append(j)
                journaledRooms.insert(j.room)
                // Secrets never reach the journal: the ops hold digests, pseudonyms and ids only.
                let op = "\(j.op)"
                for k in keys + tokens where op.contains(k) { fail("journal holds a secret: \(op)") }
            case .broadcast(let ev, let to):
                seenEvents[ev.room, default: []].insert(ev.seq)
                for c in to where before[c] != ev.room && after[c] != ev.room {
                    fail("connection \(c) (room \(before[c] ?? after[c] ?? "none")) got an event of room \(ev.room): \(ev.type)")
                }
                if ev.type == "room.keyRotated" && !ev.payload.pairs.isEmpty { fail("keyRotated leaks \(ev.payload)") }
            case .send(let n, _, let to):
                if let r = n.body["room"]?.stringValue {
                    for c in to where !(everBound[c]?.contains(r) ?? false) {
                        fail("connection \(c) got a \(n.type) notice of room \(r) it never joined")
                    }
                }
            case .reply(let reply, _, let to):
                guard let requester else {
                    fail("\(reply) without a request: \(what)")
                    continue
                }
                if to == requester {
                    replies += 1
                    switch reply {
                    case .error(let e):
                        refused = true
                        if !KnownCodes.all.contains(e.code) { fail("unknown error code \(e.code) for \(what)") }
                    case .ack(let body):
                        learn(from: body)
                    }
                }
            case .secret: break
            case .loadArchive, .discardArchive: fail("archive effect without an archived room: \(what)")
            case .close(_, let code, _):
                if code != 4001 { fail("unexpected close code \(code) for \(what)") }
            }
        }
        if let requester {
            if replies != 1 { fail("\(replies) replies to connection \(requester) for \(what)") }
            if refused && !journaledRooms.isEmpty { fail("a refused request journaled ops in \(journaledRooms.sorted())") }
        }
        checkRooms()
    }

    mutating func learn(from ack: Value.Object) {
        if let r = ack["room"]?.stringValue, !codes.contains(r) { codes.append(r) }
        if let k = ack["facilitatorKey"]?.stringValue { keys.append(k) }
        if let t = ack["token"]?.stringValue { tokens.append(t) }
    }

    mutating func checkRooms() {
        var lastJournalSeq: [String: UInt64] = [:]
        for j in journal.suffix(64) { lastJournalSeq[j.room] = j.seq }
        for (code, room) in coordinator.rooms {
            let seen = seenEvents[code] ?? []
            if UInt64(seen.count) != room.seq || (seen.max() ?? 0) != room.seq {
                fail("room \(code): seq \(room.seq) but \(seen.count) distinct events emitted (max \(seen.max() ?? 0))")
            }
            if let s = lastJournalSeq[code], s != room.seq { fail("room \(code): seq \(room.seq), last journal entry says \(s)") }
            let current = room.members.values.filter { !$0.departed }
            if room.facilitatorIDs != Set(current.filter { $0.role == .facilitator }.map(\.id)) {
                fail("room \(code): facilitator index \(room.facilitatorIDs.sorted()) is stale")
            }
            if room.expertIDs != Set(current.filter { !$0.expertise.isEmpty }.map(\.id)) {
                fail("room \(code): expertise index \(room.expertIDs.sorted()) is stale")
            }
            if room.currentMembers.map(\.id) != current.map(\.id).sorted() { fail("room \(code): currentMembers out of order") }
            for (id, p) in room.polls {
                for voter in p.ballots.keys {
                    if p.definition.anonymous {
                        let hex = voter.dropFirst()
                        if !(voter.hasPrefix("a") && hex.count == 32 && hex.allSatisfy(\.isHexDigit)) {
                            fail("room \(code) poll \(id) (anonymous): ballot keyed by \"\(voter)\", not a pseudonym")
                        }
                    } else if !(voter.hasPrefix("m") && Int(voter.dropFirst()).map { room.members[$0] != nil } == true) {
                        fail("room \(code) poll \(id) (named): ballot keyed by \"\(voter)\"")
                    }
                }
                if p.state == .closed && p.voterKey != nil { fail("room \(code) poll \(id): closed but the voter key is kept") }
                if p.state == .open && p.definition.anonymous && p.voterKey == nil { fail("room \(code) poll \(id): open anonymous poll without a key") }
            }
            var grouped: [MemberID: Int] = [:]
            for g in room.grouping.groups {
                if let cap = g.capacity, g.members.count > cap {
                    fail("room \(code) group \(g.id): \(g.members.count) members, capacity \(cap)")
                }
                for m in g.members {
                    if let other = grouped[m] { fail("room \(code): member \(m) in groups \(other) and \(g.id)") }
                    grouped[m] = g.id
                }
            }
        }
        for c in connections {
            if let b = coordinator.binding(of: c) {
                guard let m = coordinator.rooms[b.room]?.members[b.member], !m.departed else {
                    fail("connection \(c) bound to \(b.room)/\(b.member), which is not a current member")
                    continue
                }
            }
        }
    }

    /// Replays the journal into a fresh coordinator: every room must come back identical.
    mutating func checkReplay() {
        var fresh = Coordinator(limits: limits, entropy: SeededEntropy(seed: 1), hasher: FuzzHasher())
        for j in journal {
            do throws(OpDecodingError) { try fresh.replay(j) } catch { fail("replay of \(j.op) failed: \(error)") }
        }
        if Set(fresh.rooms.keys) != Set(coordinator.rooms.keys) {
            fail("replay rooms \(fresh.rooms.keys.sorted()) != live \(coordinator.rooms.keys.sorted())")
        }
        for (code, live) in coordinator.rooms {
            guard let replayed = fresh.rooms[code] else { continue }
            if replayed.snapshotValue != live.snapshotValue {
                fail("room \(code): replayed snapshot differs from the live room at \(firstDifference(live.snapshotValue, replayed.snapshotValue))")
            }
            // And the snapshot format itself round-trips.
            do throws(OpDecodingError) {
                let restored = try Room(snapshot: live.snapshotValue)
                if restored.snapshotValue != live.snapshotValue { fail("room \(code): snapshot does not round-trip") }
            } catch { fail("room \(code): snapshot does not decode: \(error)") }
        }
    }
}

/// Where two values first differ, as a path plus both sides (shortened).
func firstDifference(_ a: Value, _ b: Value, path: String = "") -> String {
    switch (a, b) {
    case (.object(let x), .object(let y)):
        for k in Set(x.keys).union(y.keys).sorted() where x[k] != y[k] {
            guard let xv = x[k], let yv = y[k] else { return "\(path).\(k): \(x[k].map { "\($0)" } ?? "missing") vs \(y[k].map { "\($0)" } ?? "missing")" }
            return firstDifference(xv, yv, path: path + "." + k)
        }
    case (.array(let x), .array(let y)) where x.count == y.count:
        for (i, (p, q)) in zip(x, y).enumerated() where p != q { return firstDifference(p, q, path: path + "[\(i)]") }
    default: break
    }
    return "\(path): live \(String("\(a)".prefix(300))) vs replayed \(String("\(b)".prefix(300)))"
}

/// Invariant violations already reported (see CoordinatorFuzzRegressions), so a run stays green until
/// they are fixed while anything new still fails. Remove an entry once its fix lands.
enum KnownFuzzIssue {
    /// Found and fixed so far (44f5c68): groups.apply ignoring capacity; gr.members removals lost at replay.
    static func matching(_ failure: String) -> String? {
        nil
    }
}

enum FuzzConfig {
    static func env(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
    static var steps: Int { env("ROUNDTABLE_FUZZ_STEPS").flatMap(Int.init) ?? 50_000 }
    static var extraSeed: UInt64? { env("ROUNDTABLE_FUZZ_SEED").flatMap { UInt64($0) } }
}

@Suite struct CoordinatorFuzzTests {
    static let seeds: [UInt64] = [1, 2, 3, 0xBAD5EED, 20_261_129]

    @Test(arguments: seeds)
    func randomSessionsKeepInvariantsAndReplayExactly(seed: UInt64) {
        runFuzz(seed: seed, steps: FuzzConfig.steps / Self.seeds.count)
    }

    @Test func extraSeedFromEnvironment() {
        guard let seed = FuzzConfig.extraSeed else { return }
        runFuzz(seed: seed, steps: FuzzConfig.steps)
    }

    func runFuzz(seed: UInt64, steps: Int) {
        var f = CoordinatorFuzzer(seed: seed)
        for i in 0..<steps {
            f.step()
            if i % 2_000 == 1_999 { f.checkReplay() }
            if f.failures.count >= 5 + f.knownSeen.count { break }
        }
        f.checkReplay()
        for failure in f.failures.prefix(5) {
            if let known = KnownFuzzIssue.matching(failure) {
                withKnownIssue(Comment(rawValue: known), isIntermittent: true) { Issue.record("seed \(seed): \(failure)") }
            } else {
                Issue.record("seed \(seed): \(failure)")
            }
        }
    }
}

/// Invariant violations the fuzzer found, reduced to a few requests. An open one is wrapped in
/// `withKnownIssue` until Sources/ is fixed (the wrapper then reports "known issue was not recorded" and
/// should be removed); the fixed ones stay as plain regression tests.
@Suite struct CoordinatorFuzzRegressions {
    /// `poll.create` with `open: true` whose open fails must leave no trace (fixed in 5520ac0; kept as a guard).
    @Test func createAndOpenThatFailsLeavesNoTrace() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        let seq = h.coordinator.rooms[code]!.seq
        let reply = h.send(1, .createPoll(PollDefinition(question: "Rank", kind: .ranking, overNeeds: true), openNow: true))
        #expect(reply["code"] == "no_needs")
        #expect(h.coordinator.rooms[code]!.seq == seq)
        #expect(h.coordinator.rooms[code]!.polls.isEmpty)
        // Whatever the room holds must be what the journal replays to.
        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        for j in h.journal { try? fresh.replay(j) }
        #expect(fresh.rooms[code]!.snapshotValue == h.coordinator.rooms[code]!.snapshotValue)
    }

    /// `groups.apply` put members back into the group of the saved name without checking its capacity
    /// (Coordinator+Groups.swift, applyGrouping). Fixed in 44f5c68.
    @Test func applyingASavedGroupingRespectsCapacity() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        h.join(2, code, "A")
        h.join(3, code, "B")
        #expect(h.send(1, .createGroups(.assigned, [.init(name: "G", capacity: 2)]))["type"] == "ack")
        #expect(h.send(1, .assignGroups(explicit: [2: 1, 3: 1], strategy: nil))["type"] == "ack")
        #expect(h.send(1, .saveGrouping("s"))["type"] == "ack")
        #expect(h.send(1, .createGroups(.assigned, [.init(name: "G", capacity: 1)]))["type"] == "ack")
        _ = h.send(1, .applyGrouping("s"))
        let g = h.coordinator.rooms[code]!.grouping.groups[0]
        #expect(g.members.count <= 1)
    }

    /// A `gr.members` op that takes a member out of every group journals `"group": null`; decoding did
    /// `moves[id] = m["group"]?.intValue.map { Int($0) }`, and assigning a nil through that optional chain
    /// *removes* the key, so replay dropped the removal (Groups.swift, GroupOp.init(value:)): after a
    /// restart the member was back in the group and the room's seq was lower than before (seq reuse).
    /// Fixed in 44f5c68.
    @Test func leavingAGroupSurvivesReplay() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        h.join(2, code, "A")
        #expect(h.send(1, .createGroups(.selfSelect, [.init(name: "G")]))["type"] == "ack")
        #expect(h.send(2, .joinGroup(1))["type"] == "ack")
        #expect(h.send(2, .leaveGroup)["type"] == "ack")
        #expect(h.coordinator.rooms[code]!.grouping.groups[0].members.isEmpty)
        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        for j in h.journal { try? fresh.replay(j) }
        #expect(fresh.rooms[code]!.grouping.groups[0].members.isEmpty)
        #expect(fresh.rooms[code]!.seq == h.coordinator.rooms[code]!.seq)
    }
}
