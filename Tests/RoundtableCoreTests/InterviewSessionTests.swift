import Testing

@testable import RoundtableCore

/// Helpers for interview and group tests, on top of `Harness`.
///
/// Conventions: the facilitator is connection 1 (member 1); `ivRoom(orgs)` joins one member per
/// organization given on connections 2, 3, … in order, named "M<id>", so a member's id equals its
/// connection id. Time only moves through `send` (+10 ms each) and `ivTick(_:)`.
extension Harness {
    mutating func ivRoom(_ orgs: [String]) -> String {
        let (code, _, _) = createRoom()
        for (i, org) in orgs.enumerated() { join(ConnectionID(2 + i), code, "M\(2 + i)", org: org) }
        inbox = [:]
        return code
    }

    /// Lets the injected clock reach `t` and runs what the coordinator does at that tick.
    mutating func ivTick(_ t: Millis) {
        now = max(now, t)
        run(coordinator.tick(at: t))
    }

    func ivGot(_ c: ConnectionID, _ type: String) -> [Value.Object] {
        (inbox[c] ?? []).filter { $0.type == type }.map(\.body)
    }

    func ivRoomState(_ code: String) -> Room { coordinator.rooms[code]! }

    /// The `interviews` or `groups` section of `room.state` as `member` sees it.
    func ivState(_ code: String, for member: MemberID, _ section: String) -> Value {
        coordinator.stateNotice(code, for: member).body[section] ?? .null
    }

    mutating func ivStart(_ s: InterviewSettings) -> Value.Object { send(1, .startInterviews(s)) }
}

func ivSettings(
    _ strategy: PairingStrategy = .random, turn: Int64 = 600, report: Int64 = 60, lateJoin: Int64 = 30, partner: Int64 = 20,
    link: String? = "https://meet.example.org/{room}-{round}-{pair}", prompts: [String] = ["A peak moment?", "What made it work?"],
    group: Int? = nil
) -> InterviewSettings {
    var s = InterviewSettings()
    s.strategy = strategy
    s.turnMs = turn * 1000
    s.reportMs = report * 1000
    s.lateJoinGraceMs = lateJoin * 1000
    s.partnerGraceMs = partner * 1000
    s.linkTemplate = link
    s.prompts = prompts
    s.group = group
    return s
}

/// Every way to split `ids` (an even count) into pairs.
func ivPerfectMatchings(_ ids: [MemberID]) -> [[PairKey]] {
    guard let first = ids.first else { return [[]] }
    var out: [[PairKey]] = []
    for (i, other) in ids.enumerated() where i > 0 {
        var rest = ids
        rest.remove(at: i)
        rest.removeFirst()
        for m in ivPerfectMatchings(rest) { out.append([PairKey(first, other)] + m) }
    }
    return out
}

extension Value.Object {
    var partnerIDs: [MemberID] { self["partners"]?.arrayValue?.compactMap { $0["id"]?.intValue.map { Int($0) } } ?? [] }
}

@Suite struct InterviewSessionTests {
    static let orgs7 = ["Food Bank", "Food Bank", "Clinic", "Clinic", "School", "Library", "Library"]

    // MARK: Round 1

    @Test func roundOnePairsEveryPresentMemberExactlyOnceWithOneTrio() {
        var h = Harness()
        let code = h.ivRoom(Self.orgs7) // members 2...8
        #expect(h.send(9, .join(.init(code: code, name: "Olga", role: .observer)))["type"] == "ack") // observer 9
        h.join(10, code, "Gone", org: "Clinic") // member 10, then offline
        h.disconnect(10)
        let key = h.secretsKey(code)
        #expect(h.send(11, .join(.init(code: code, name: "Co", facilitatorKey: key)))["role"] == "facilitator") // 11
        h.inbox = [:]

        let ack = h.ivStart(ivSettings())
        #expect(ack["type"] == "ack" && ack["round"] == 1)
        let iv = h.ivRoomState(code).interviews
        #expect(iv.active && iv.round == 1 && iv.phase == .firstTurn)
        let everyone = iv.pairs.flatMap(\.members)
        #expect(everyone.sorted() == Array(2...8), "each present member exactly once")
        #expect(Set(everyone).count == everyone.count)
        #expect(iv.pairs.map(\.members.count).sorted() == [2, 2, 3], "one trio for an odd count")
        #expect(iv.waiting.isEmpty)
        #expect(iv.pairs.map(\.id).sorted() == [1, 2, 3])
        for p in iv.pairs { #expect(p.firstAsker == p.members[0]) }
        for id in [1, 9, 10, 11] { #expect(iv.pair(of: id) == nil, "member \(id) takes no part") }

        let round = h.ivGot(1, "interviews.round")
        #expect(round.count == 1)
        #expect(round.first?["round"] == 1 && round.first?["pairs"] == 3 && round.first?["phase"] == "first-turn")
        #expect(round.first?["endsAt"] == .int(h.now + 600_000))
        #expect(h.ivGot(9, "interviews.started").count == 1 && h.ivGot(9, "interviews.round").count == 1)
    }

    @Test func evenCountHasNoTrio() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E", "F"])
        _ = h.ivStart(ivSettings())
        let iv = h.ivRoomState(code).interviews
        #expect(iv.pairs.map(\.members.count) == [2, 2, 2])
        #expect(iv.pairs.flatMap(\.members).sorted() == Array(2...7))
    }

    @Test func assignedNoticeCarriesPartnersPromptsPhaseAndLink() {
        var h = Harness()
        let code = h.ivRoom(Self.orgs7)
        #expect(h.send(9, .join(.init(code: code, name: "Olga", role: .observer)))["type"] == "ack")
        h.inbox = [:]
        _ = h.ivStart(ivSettings())
        let endsAt = h.now + 600_000
        let iv = h.ivRoomState(code).interviews
        for id in 2...8 {
            let got = h.ivGot(ConnectionID(id), "interview.assigned")
            #expect(got.count == 1, "member \(id) gets one assignment")
            guard let a = got.first, let p = iv.pair(of: id) else { continue }
            #expect(a["round"] == 1 && a["pair"] == Value(p.id))
            #expect(a.partnerIDs == p.members.filter { $0 != id })
            for partner in a["partners"]?.arrayValue ?? [] {
                let pid = Int(partner["id"]!.intValue!)
                #expect(partner["name"] == .string("M\(pid)"))
                #expect(partner["organization"] == .string(Self.orgs7[pid - 2]))
            }
            #expect(a["firstAsker"] == Value(p.firstAsker) && a["youAskFirst"] == .bool(p.firstAsker == id))
            #expect(a["prompts"] == ["A peak moment?", "What made it work?"])
            #expect(a["phase"] == "first-turn" && a["endsAt"] == .int(endsAt))
            #expect(a["link"] == .string("https://meet.example.org/\(code)-1-\(p.id)"))
            // room.state shows the same assignment.
            #expect(h.ivState(code, for: id, "interviews")["yourPair"] == .object(a))
        }
        #expect(h.ivGot(1, "interview.assigned").isEmpty && h.ivGot(9, "interview.assigned").isEmpty)
        // Exactly one member per pair asks first.
        for p in iv.pairs {
            let first = p.members.filter { h.ivGot(ConnectionID($0), "interview.assigned").first?["youAskFirst"] == true }
            #expect(first == [p.firstAsker])
        }
    }

    @Test func noLinkTemplateMeansNoLink() {
        var h = Harness()
        _ = h.ivRoom(["A", "B"])
        _ = h.ivStart(ivSettings(link: nil, prompts: []))
        let a = h.ivGot(2, "interview.assigned").first
        #expect(a?["link"] == nil && a?["prompts"] == [] && a?.partnerIDs == [3])
    }

    // MARK: Phases

    @Test func phasesAdvanceOnlyWhenTheClockPassesEndsAt() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(turn: 60, report: 30))
        let t1 = h.now + 60_000
        h.inbox = [:]
        func phases(_ c: ConnectionID) -> [Value.Object] { h.ivGot(c, "interview.phase") }

        h.ivTick(t1 - 1)
        #expect(phases(2).isEmpty && h.ivRoomState(code).interviews.phase == .firstTurn, "not before endsAt")
        h.ivTick(t1)
        #expect(phases(2).map { $0["phase"] } == ["second-turn"])
        #expect(phases(2).first?["round"] == 1 && phases(2).first?["endsAt"] == .int(t1 + 60_000))
        #expect(h.ivRoomState(code).interviews.phaseEndsAt == t1 + 60_000)

        let t2 = t1 + 60_000
        h.ivTick(t2 - 1)
        #expect(phases(2).count == 1)
        h.ivTick(t2)
        #expect(phases(2).map { $0["phase"] } == ["second-turn", "report"])
        #expect(phases(2).last?["endsAt"] == .int(t2 + 30_000))

        let t3 = t2 + 30_000
        h.ivTick(t3 - 1)
        #expect(phases(2).count == 2)
        h.ivTick(t3)
        #expect(phases(2).map { $0["phase"] } == ["second-turn", "report", "done"])
        #expect(h.ivRoomState(code).interviews.phase == .done && h.ivRoomState(code).interviews.active)

        // Done stays done; everyone (facilitator too) saw the same phases.
        h.ivTick(t3 + 3_600_000)
        #expect(phases(2).count == 3)
        #expect(phases(1).map { $0["phase"] } == ["second-turn", "report", "done"])
    }

    @Test func aLateTickAdvancesOnePhaseAtATime() {
        var h = Harness()
        let code = h.ivRoom(["A", "B"])
        _ = h.ivStart(ivSettings(turn: 10, report: 10))
        let far = h.now + 1_000_000
        h.ivTick(far)
        #expect(h.ivRoomState(code).interviews.phase == .secondTurn)
        #expect(h.ivRoomState(code).interviews.phaseEndsAt == far + 10_000)
    }

    // MARK: Later rounds

    @Test(arguments: [PairingStrategy.random, .crossOrganization, .needExpertise])
    func sixMembersThreeRoundsMeetOnlyNewPartners(_ strategy: PairingStrategy) {
        var h = Harness()
        let code = h.ivRoom(["A", "A", "B", "B", "C", "C"])
        let org = ["A", "A", "B", "B", "C", "C"]
        func sameOrg(_ k: PairKey) -> Bool { org[k.a - 2] == org[k.b - 2] }
        var seen = Set<PairKey>()
        for round in 1...3 {
            let history = seen
            let ack = round == 1 ? h.ivStart(ivSettings(strategy)) : h.send(1, .nextInterviewRound)
            #expect(ack["round"] == Value(round))
            let iv = h.ivRoomState(code).interviews
            #expect(iv.round == round && iv.phase == .firstTurn)
            #expect(iv.pairs.map(\.members.count) == [2, 2, 2])
            #expect(iv.pairs.flatMap(\.members).sorted() == Array(2...7))
            let keys = iv.pairs.map { PairKey($0.members[0], $0.members[1]) }
            for k in keys { #expect(seen.insert(k).inserted, "round \(round) repeats \(k)") }
            for id in 2...7 {
                #expect(h.ivGot(ConnectionID(id), "interview.assigned").last?["round"] == Value(round))
            }
            let unmet = h.ivGot(1, "interviews.round").last?["unmet"]
            if strategy == .crossOrganization {
                // Same-organization pairs only when no fresh, all-cross-organization round exists.
                let possible = ivPerfectMatchings(Array(2...7)).contains { m in
                    m.allSatisfy { !history.contains($0) && !sameOrg($0) }
                }
                if possible {
                    #expect(!keys.contains(where: sameOrg), "round \(round): avoidable same-organization pair")
                    #expect(unmet == 0)
                } else {
                    #expect(unmet == Value(keys.filter(sameOrg).count), "unmet counts the same-organization pairs")
                }
                if round < 3 { #expect(possible, "two cross-organization rounds always exist") }
            } else {
                #expect(unmet == 0)
            }
        }
        #expect(seen.count == 9)
        #expect(h.ivRoomState(code).interviews.history == seen)
    }

    @Test func nextMayStartWhilePhasesRunAndResetsWaiting() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings())
        h.join(6, code, "Late")
        #expect(h.ivRoomState(code).interviews.waiting.map(\.member) == [6])
        #expect(h.send(1, .nextInterviewRound)["round"] == 2)
        let iv = h.ivRoomState(code).interviews
        #expect(iv.waiting.isEmpty && iv.pairs.flatMap(\.members).sorted() == [2, 3, 4, 5, 6])
    }

    // MARK: Late joiners

    @Test func secondLateJoinerPairsWithTheFirst() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(turn: 600, lateJoin: 30))
        h.inbox = [:]
        h.join(6, code, "Late One", org: "E")
        #expect(h.ivRoomState(code).interviews.waiting.map(\.member) == [6])
        #expect(h.ivGot(6, "room.state").last?["interviews"]?["waiting"] == true)
        h.ivTick(h.now + 1_000)
        #expect(h.ivGot(6, "interview.assigned").isEmpty, "waits alone within the grace")
        h.join(7, code, "Late Two", org: "F")
        h.ivTick(h.now + 1_000)
        let iv = h.ivRoomState(code).interviews
        #expect(iv.waiting.isEmpty)
        let p = iv.pair(of: 6)
        #expect(p?.members.sorted() == [6, 7] && p?.id == 3)
        let a6 = h.ivGot(6, "interview.assigned"), a7 = h.ivGot(7, "interview.assigned")
        #expect(a6.count == 1 && a7.count == 1)
        #expect(a6.first?.partnerIDs == [7] && a7.first?.partnerIDs == [6])
        #expect(a6.first?["link"] == .string("https://meet.example.org/\(code)-1-3") && a6.first?["round"] == 1)
        #expect(a6.first?["phase"] == "first-turn")
        #expect(h.ivGot(2, "interview.paired").map { $0["size"] } == [2])
        #expect(iv.history.contains(PairKey(6, 7)))
        #expect(h.ivGot(2, "interview.assigned").isEmpty, "other pairs are untouched")
    }

    @Test func aLoneLateJoinerJoinsATrioAfterTheGrace() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(turn: 600, lateJoin: 30))
        h.inbox = [:]
        h.join(6, code, "Late", org: "E")
        let since = h.now
        h.ivTick(since + 29_999)
        #expect(h.ivRoomState(code).interviews.waiting.map(\.member) == [6])
        #expect(h.ivGot(6, "interview.assigned").isEmpty)
        h.ivTick(since + 30_000)
        let iv = h.ivRoomState(code).interviews
        #expect(iv.waiting.isEmpty)
        guard let trio = iv.pair(of: 6) else {
            Issue.record("the late joiner was not placed")
            return
        }
        #expect(trio.members.count == 3 && trio.members.last == 6 && [1, 2].contains(trio.id))
        #expect(iv.pairs.count == 2 && iv.pairs.flatMap(\.members).sorted() == [2, 3, 4, 5, 6])
        for m in trio.members {
            let a = h.ivGot(ConnectionID(m), "interview.assigned")
            #expect(a.count == 1, "member \(m) is told about the trio")
            #expect(a.first?.partnerIDs.sorted() == trio.members.filter { $0 != m }.sorted())
            #expect(a.first?["pair"] == Value(trio.id))
        }
        let other = iv.pairs.first { $0.id != trio.id }!
        for m in other.members { #expect(h.ivGot(ConnectionID(m), "interview.assigned").isEmpty) }
        #expect(h.ivGot(1, "interview.paired").map { $0["size"] } == [3])
    }

    @Test func lateJoinersOutsideTheGroupOrNotMembersDoNotWait() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E", "F"]) // 2...7
        #expect(h.send(1, .createGroups(.assigned, [.init(name: "Red"), .init(name: "Blue")]))["type"] == "ack")
        #expect(h.send(1, .assignGroups(explicit: [2: 1, 3: 1, 4: 1, 5: 1, 6: 2, 7: 2], strategy: nil))["type"] == "ack")
        _ = h.ivStart(ivSettings(group: 1))
        let iv = h.ivRoomState(code).interviews
        #expect(iv.pairs.flatMap(\.members).sorted() == [2, 3, 4, 5], "only group 1 takes part")
        h.join(8, code, "Late") // in no group
        #expect(h.send(9, .join(.init(code: code, name: "Olga", role: .observer)))["type"] == "ack")
        #expect(h.ivRoomState(code).interviews.waiting.isEmpty)
    }

    // MARK: Partners who leave, rematch

    /// A restart is not a departure: a partner who has not reconnected since is never reported gone
    /// (issue 16: every deploy broke pairs up). One who left the room before the restart is, after the
    /// grace; one who comes back and drops again is timed from that drop.
    @Test func aRestartIsNotADeparture() throws {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        var tokens: [MemberID: String] = [:]
        for (i, org) in ["A", "B", "C", "D"].enumerated() {
            tokens[2 + i] = try #require(h.join(ConnectionID(2 + i), code, "M\(2 + i)", org: org)["token"]?.stringValue)
        }
        _ = h.ivStart(ivSettings(turn: 600, lateJoin: 300, partner: 20))
        let pair = try #require(h.ivRoomState(code).interviews.pair(of: 2))
        let quiet = try #require(pair.members.first { $0 != 2 })
        let other = try #require(h.ivRoomState(code).interviews.pairs.first { !$0.members.contains(2) })
        let (stays, leaver) = (other.members[0], other.members[1])
        #expect(h.send(ConnectionID(leaver), .leave)["type"] == "ack")
        // The server restarts: the journal is replayed.
        var after = Harness()
        after.now = h.now + 5_000
        for e in h.journal { try after.coordinator.replay(e) }
        after.coordinator.finishRecovery()
        #expect(after.send(20, .join(.init(code: code, token: tokens[2])))["type"] == "ack")
        #expect(after.send(21, .join(.init(code: code, token: tokens[stays])))["type"] == "ack")
        let t = after.now
        after.ivTick(t + 1)
        after.ivTick(t + 19_000)
        #expect(after.ivGot(21, "interview.partner-left").isEmpty, "not within the grace")
        after.ivTick(t + 21_000)
        #expect(after.ivGot(21, "interview.partner-left").first?["member"] == Value(leaver), "a member who left is gone")
        after.ivTick(t + 600_000)
        #expect(after.ivGot(20, "interview.partner-left").isEmpty, "offline since the restart: not reported")
        // Back, then gone again on this process: timed from the drop.
        #expect(after.send(22, .join(.init(code: code, token: tokens[quiet])))["type"] == "ack")
        after.disconnect(22)
        after.ivTick(t + 619_000)
        #expect(after.ivGot(20, "interview.partner-left").isEmpty, "not within the grace")
        after.ivTick(t + 621_000)
        #expect(after.ivGot(20, "interview.partner-left").first?["member"] == Value(quiet))
    }

    @Test func partnerOfflinePastTheGraceIsReportedOnceAndRematchPairsWithAWaitingMember() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(turn: 600, lateJoin: 300, partner: 20))
        let before = h.ivRoomState(code).interviews.pair(of: 2)!
        let gone = before.members.first { $0 != 2 }!
        h.inbox = [:]
        h.disconnect(ConnectionID(gone))
        let t = h.now
        h.ivTick(t + 19_999)
        #expect(h.ivGot(2, "interview.partner-left").isEmpty, "not within the grace")
        h.ivTick(t + 20_000)
        let left = h.ivGot(2, "interview.partner-left")
        #expect(left.count == 1)
        #expect(left.first?["round"] == 1 && left.first?["pair"] == Value(before.id) && left.first?["member"] == Value(gone))
        for c: ConnectionID in [1, 3, 4, 5] where Int(c) != gone { #expect(h.ivGot(c, "interview.partner-left").isEmpty) }
        h.ivTick(t + 40_000)
        h.ivTick(t + 400_000)
        #expect(h.ivGot(2, "interview.partner-left").count == 1, "told once")

        // A late joiner waits; the abandoned member asks for a rematch and is paired with them at once.
        h.join(6, code, "Late", org: "E")
        h.inbox = [:]
        let ack = h.send(2, .rematch)
        #expect(ack["type"] == "ack" && ack["waiting"] == false)
        let iv = h.ivRoomState(code).interviews
        let now2 = iv.pair(of: 2)
        #expect(now2?.members.sorted() == [2, 6])
        #expect(iv.pairs.filter { $0.members.contains(2) }.count == 1)
        #expect(!iv.pairs.contains { $0.members.contains(2) && $0.members.contains(gone) })
        // The partner who dropped out is left alone, so they wait for a new partner (paired once back online).
        #expect(iv.waiting.map(\.member) == [gone])
        #expect(h.ivGot(2, "interview.assigned").first?.partnerIDs == [6])
        #expect(h.ivGot(6, "interview.assigned").first?.partnerIDs == [2])
        #expect(h.ivGot(2, "interview.assigned").first?["link"] == .string("https://meet.example.org/\(code)-1-\(now2?.id ?? -1)"))
    }

    @Test func comingBackWithinTheGraceIsNotReported() {
        var h = Harness()
        let code = h.ivRoom(["A", "B"])
        let token = h.send(4, .join(.init(code: code, name: "C")))["token"]!.stringValue! // member 4
        _ = h.ivStart(ivSettings(partner: 20))
        let partner = h.ivRoomState(code).interviews.pair(of: 4)!.members.first { $0 != 4 }!
        h.inbox = [:]
        h.disconnect(4)
        let t = h.now
        h.ivTick(t + 10_000)
        #expect(h.send(14, .join(.init(code: code, token: token)))["type"] == "ack")
        h.ivTick(t + 60_000)
        #expect(h.ivGot(ConnectionID(partner), "interview.partner-left").isEmpty)
        #expect(h.ivRoomState(code).interviews.pair(of: 4) != nil, "a member back in time keeps their pair")
        #expect(h.ivRoomState(code).interviews.waiting.isEmpty)
    }

    @Test func rematchWithNobodyWaitingWaits() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(lateJoin: 300))
        let ack = h.send(2, .rematch)
        #expect(ack["type"] == "ack" && ack["waiting"] == true)
        #expect(h.ivState(code, for: 2, "interviews")["waiting"] == true)
        #expect(h.send(2, .rematch)["waiting"] == true, "asking twice is harmless")
        #expect(h.ivRoomState(code).interviews.waiting.map(\.member) == [2])
    }

    /// A member whose partner left, and who asked for a rematch with nobody waiting, ends up in a trio after
    /// the grace: they must then be in that one pair only.
    @Test func rematchIntoATrioLeavesTheOldPair() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E", "F"])
        _ = h.ivStart(ivSettings(turn: 600, lateJoin: 30, partner: 5))
        let gone = h.ivRoomState(code).interviews.pair(of: 2)!.members.first { $0 != 2 }!
        h.disconnect(ConnectionID(gone))
        h.ivTick(h.now + 6_000)
        #expect(h.send(2, .rematch)["waiting"] == true)
        h.ivTick(h.now + 31_000)
        let iv = h.ivRoomState(code).interviews
        #expect(iv.waiting.map(\.member) == [gone]) // only the absent partner, left alone, waits
        #expect(iv.pairs.contains { $0.members.count == 3 && $0.members.contains(2) }, "2 joined a trio")
        do {
            #expect(iv.pairs.filter { $0.members.contains(2) }.count == 1)
            #expect(iv.pair(of: 2)?.members.count == 3)
        }
    }

    /// A partner who leaves the room for good (room.leave) is offline forever: the remaining partner must hear it.
    @Test func partnerLeavingTheRoomIsReported() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(turn: 600, partner: 20))
        let gone = h.ivRoomState(code).interviews.pair(of: 2)!.members.first { $0 != 2 }!
        h.inbox = [:]
        #expect(h.send(ConnectionID(gone), .leave)["type"] == "ack")
        h.ivTick(h.now + 21_000)
        do {
            #expect(h.ivGot(2, "interview.partner-left").count == 1)
        }
    }

    /// Pair ids start at 1 every round, and the "already told" set is keyed by pair id and member, never cleared:
    /// a partner who drops out again in a later round must still be reported.
    @Test func partnerLeftIsReportedAgainInALaterRound() {
        var h = Harness()
        let code = h.ivRoom(["A"]) // member 2
        let token = h.send(3, .join(.init(code: code, name: "B")))["token"]!.stringValue! // member 3
        _ = h.ivStart(ivSettings(partner: 5))
        #expect(h.ivRoomState(code).interviews.pairs.map(\.id) == [1])
        h.disconnect(3)
        h.ivTick(h.now + 6_000)
        #expect(h.ivGot(2, "interview.partner-left").count == 1, "round 1")
        #expect(h.send(13, .join(.init(code: code, token: token)))["type"] == "ack")
        #expect(h.send(1, .nextInterviewRound)["round"] == 2)
        #expect(h.ivRoomState(code).interviews.pairs.map(\.id) == [1], "pair 1 again, with the same two members")
        h.disconnect(13)
        h.ivTick(h.now + 6_000)
        do {
            #expect(h.ivGot(2, "interview.partner-left").count == 2, "round 2")
        }
    }

    /// The partner who dropped out comes back after the other one was rematched: they must not be left alone
    /// in a one-member pair (they should wait for a partner like any late joiner).
    @Test func aReturningPartnerIsNotLeftAloneInAPair() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        var tokens: [MemberID: String] = [:]
        for c in 2...5 { tokens[c] = h.join(ConnectionID(c), code, "M\(c)", org: "O\(c)")["token"]!.stringValue! }
        _ = h.ivStart(ivSettings(lateJoin: 300, partner: 5))
        let gone = h.ivRoomState(code).interviews.pair(of: 2)!.members.first { $0 != 2 }!
        h.disconnect(ConnectionID(gone))
        h.ivTick(h.now + 6_000)
        h.join(6, code, "Late")
        #expect(h.send(2, .rematch)["waiting"] == false)
        #expect(h.send(20, .join(.init(code: code, token: tokens[gone]!)))["type"] == "ack")
        h.ivTick(h.now + 1_000)
        let iv = h.ivRoomState(code).interviews
        do {
            let alone = iv.pair(of: gone).map { $0.members.count < 2 } ?? false
            #expect(!alone, "pair of the returning member: \(String(describing: iv.pair(of: gone)))")
        }
    }

    // MARK: Notes and highlights

    @Test func notesAreAboutPartnersPrivateOnesStayPrivateSharedOnesAreHighlights() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings())
        let iv = h.ivRoomState(code).interviews
        let partner = iv.pair(of: 2)!.members.first { $0 != 2 }!
        let stranger = (3...5).first { $0 != partner }!
        let bystanders = (3...5).filter { $0 != partner }
        h.inbox = [:]

        #expect(h.send(2, .interviewNote(about: stranger, text: "hi", shared: false))["code"] == "not_allowed")
        #expect(h.send(2, .interviewNote(about: 2, text: "me", shared: false))["code"] == "not_allowed")
        #expect(h.send(2, .interviewNote(about: 99, text: "who", shared: true))["code"] == "not_allowed")
        #expect(h.send(2, .interviewNote(about: 1, text: "fac", shared: true))["code"] == "not_allowed")
        #expect(h.send(2, .interviewNote(about: partner, text: "   ", shared: false))["code"] == "invalid_field")
        #expect(h.send(2, .interviewNote(about: partner, text: String(repeating: "x", count: 1_001), shared: false))["code"] == "too_large")
        #expect(h.ivRoomState(code).interviews.notes.isEmpty)

        // Private: author and subject only, nothing broadcast.
        let seqBefore = h.ivRoomState(code).seq
        let priv = h.send(2, .interviewNote(about: partner, text: "  Runs a great volunteer program  ", shared: false))
        #expect(priv["type"] == "ack" && priv["note"] == 1)
        #expect(h.ivRoomState(code).seq == seqBefore, "a private note is no room event")
        for c in [2, partner] {
            let n = h.ivGot(ConnectionID(c), "interview.note")
            #expect(n.count == 1)
            #expect(n.first?["note"]?["text"] == "Runs a great volunteer program" && n.first?["note"]?["shared"] == false)
            #expect(n.first?["note"]?["author"] == 2 && n.first?["note"]?["about"] == Value(partner))
        }
        for c in [1] + bystanders {
            #expect(h.ivGot(ConnectionID(c), "interview.note").isEmpty)
            #expect(!"\(h.inbox[ConnectionID(c)] ?? [])".contains("volunteer program"))
        }
        #expect(h.ivGot(ConnectionID(partner), "interview.highlight").isEmpty)

        // Shared: a highlight everyone sees.
        let shared = h.send(2, .interviewNote(about: partner, text: "Expert in grant writing", shared: true))
        #expect(shared["note"] == 2)
        for c in [1, 2, partner] + bystanders {
            let hl = h.ivGot(ConnectionID(c), "interview.highlight")
            #expect(hl.count == 1, "connection \(c)")
            #expect(hl.first?["highlight"] == 2 && hl.first?["author"] == 2 && hl.first?["about"] == Value(partner))
            #expect(hl.first?["text"] == "Expert in grant writing")
        }
        // The partner may write back about the author.
        #expect(h.send(ConnectionID(partner), .interviewNote(about: 2, text: "Great listener", shared: true))["note"] == 3)

        // room.state: highlights for everyone, private notes only for author and subject.
        let forStranger = h.ivState(code, for: stranger, "interviews")
        #expect(forStranger["yourNotes"] == [])
        #expect(forStranger["highlights"]?.arrayValue?.compactMap { $0["highlight"]?.intValue } == [2, 3])
        for m in [2, partner] {
            let mine = h.ivState(code, for: m, "interviews")["yourNotes"]?.arrayValue ?? []
            #expect(mine.compactMap { $0["id"]?.intValue } == [1])
        }
        #expect(h.ivState(code, for: 1, "interviews")["yourNotes"] == [], "not even the facilitator reads private notes")
    }

    @Test func onlyTheSubjectAcceptsAndAcceptedHighlightsJoinTheProfile() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings())
        let partner = h.ivRoomState(code).interviews.pair(of: 2)!.members.first { $0 != 2 }!
        let stranger = (3...5).first { $0 != partner }!
        _ = h.send(2, .interviewNote(about: partner, text: "private", shared: false)) // 1
        _ = h.send(2, .interviewNote(about: partner, text: "Knows evaluation", shared: true)) // 2
        h.inbox = [:]

        #expect(h.send(2, .acceptHighlight(2))["code"] == "not_allowed", "the author may not accept")
        #expect(h.send(ConnectionID(stranger), .acceptHighlight(2))["code"] == "not_allowed")
        #expect(h.send(1, .acceptHighlight(2))["code"] == "not_allowed")
        #expect(h.send(ConnectionID(partner), .acceptHighlight(1))["code"] == "highlight_not_found", "a private note is no highlight")
        #expect(h.send(ConnectionID(partner), .acceptHighlight(99))["code"] == "highlight_not_found")
        #expect(h.ivGot(1, "member.updated").isEmpty)

        #expect(h.send(ConnectionID(partner), .acceptHighlight(2))["type"] == "ack")
        let upd = h.ivGot(1, "member.updated")
        #expect(upd.count == 1)
        #expect(upd.first?["member"]?["id"] == Value(partner) && upd.first?["member"]?["highlights"] == ["Knows evaluation"])
        #expect(h.ivGot(ConnectionID(stranger), "member.updated").count == 1)
        #expect(h.ivRoomState(code).members[partner]?.highlights == ["Knows evaluation"])
        #expect(h.ivRoomState(code).interviews.notes[2]?.accepted == true)
        #expect(h.ivRoomState(code).members[2]?.highlights == [])

        // Accepting twice changes nothing more.
        #expect(h.send(ConnectionID(partner), .acceptHighlight(2))["type"] == "ack")
        #expect(h.ivGot(1, "member.updated").count == 1)
        #expect(h.ivRoomState(code).members[partner]?.highlights == ["Knows evaluation"])

        // The profile in room.state carries it; the highlight list marks it accepted.
        let members = h.coordinator.stateNotice(code, for: stranger).body["members"]?.arrayValue ?? []
        #expect(members.first { $0["id"] == Value(partner) }?["highlights"] == ["Knows evaluation"])
        let hl = h.ivState(code, for: stranger, "interviews")["highlights"]?.arrayValue ?? []
        #expect(hl.count == 1 && hl.first?["accepted"] == true)
    }

    @Test func notesOutliveTheSessionButOnlyForFormerPartners() {
        var h = Harness()
        let code = h.ivRoom(["A", "B"])
        _ = h.ivStart(ivSettings())
        #expect(h.send(1, .endInterviews)["type"] == "ack")
        #expect(h.send(2, .interviewNote(about: 3, text: "after the end", shared: true))["type"] == "ack")
        h.join(4, code, "New")
        #expect(h.send(4, .interviewNote(about: 2, text: "never met", shared: true))["code"] == "not_allowed")
    }

    // MARK: End

    @Test func endStopsTheSessionAndItsTimers() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.ivStart(ivSettings(turn: 10, report: 10))
        h.join(6, code, "Late")
        h.inbox = [:]
        #expect(h.send(1, .endInterviews)["type"] == "ack")
        #expect(h.ivGot(2, "interviews.ended").first?["rounds"] == 1)
        let iv = h.ivRoomState(code).interviews
        #expect(!iv.active && iv.pairs.isEmpty && iv.waiting.isEmpty && iv.phase == .done)
        #expect(h.ivState(code, for: 2, "interviews")["endsAt"] == .int(h.now), "the session's deadline is now, not the old phase's")
        h.ivTick(h.now + 3_600_000)
        #expect(h.ivGot(2, "interview.phase").isEmpty && h.ivGot(6, "interview.assigned").isEmpty)
        #expect(h.ivState(code, for: 2, "interviews")["yourPair"] == nil)
        // A new session may start; it starts from a clean history.
        #expect(h.ivStart(ivSettings())["round"] == 1)
        let fresh = h.ivRoomState(code).interviews
        #expect(fresh.history.count == fresh.pairs.map { $0.members.count * ($0.members.count - 1) / 2 }.reduce(0, +))
        #expect(fresh.notes.isEmpty && fresh.round == 1)
    }

    // MARK: Errors

    @Test func everyInterviewErrorCode() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C"])
        #expect(h.send(2, .startInterviews(ivSettings()))["code"] == "not_facilitator")
        #expect(h.send(1, .nextInterviewRound)["code"] == "interviews_inactive")
        #expect(h.send(1, .endInterviews)["code"] == "interviews_inactive")
        #expect(h.send(2, .rematch)["code"] == "interviews_inactive")
        #expect(h.send(2, .acceptHighlight(1))["code"] == "highlight_not_found")
        #expect(h.send(99, .rematch)["code"] == "not_joined")

        var s = ivSettings()
        s.turnMs = 9_000
        #expect(h.ivStart(s)["code"] == "invalid_field")
        s.turnMs = 7_201_000
        #expect(h.ivStart(s)["code"] == "invalid_field")
        s = ivSettings()
        s.reportMs = -1_000
        #expect(h.ivStart(s)["code"] == "invalid_field")
        s = ivSettings(link: "ftp://meet.example.org/{room}")
        #expect(h.ivStart(s)["code"] == "invalid_field")
        s = ivSettings(prompts: ["ok", "  "])
        #expect(h.ivStart(s)["code"] == "invalid_field")
        s = ivSettings(prompts: Array(repeating: "p", count: 21))
        #expect(h.ivStart(s)["code"] == "too_large")
        #expect(h.ivStart(ivSettings(group: 7))["code"] == "group_not_found")
        #expect(!h.ivRoomState(code).interviews.active, "nothing started")

        // The bounds themselves are fine.
        s = ivSettings(turn: 10, report: 0)
        #expect(h.ivStart(s)["type"] == "ack")
        #expect(h.ivStart(ivSettings())["code"] == "interviews_active")
        #expect(h.send(2, .nextInterviewRound)["code"] == "not_facilitator")
        #expect(h.send(2, .endInterviews)["code"] == "not_facilitator")
        #expect(h.send(1, .endInterviews)["type"] == "ack")
        #expect(h.send(1, .endInterviews)["code"] == "interviews_inactive")
        #expect(h.send(2, .rematch)["code"] == "interviews_inactive")

        var h2 = Harness()
        _ = h2.ivRoom(["A", "B"])
        #expect(h2.ivStart(ivSettings(turn: 7_200, report: 7_200))["type"] == "ack")
        // Once the round is done, there is nothing to rematch into.
        h2.ivTick(h2.now + 7_200_000)
        h2.ivTick(h2.now + 7_200_000)
        h2.ivTick(h2.now + 7_200_000)
        #expect(h2.send(2, .rematch)["code"] == "interviews_inactive")
    }

    // MARK: Durability

    /// A session with every kind of interview op: rounds, late pairs, a trio, a rematch, a waiting member,
    /// notes and an accepted highlight.
    static func busySession() -> (Harness, String) {
        var h = Harness()
        let code = h.ivRoom(["A", "A", "B", "B", "C", "C"]) // 2...7
        _ = h.ivStart(ivSettings(.crossOrganization, turn: 60, report: 30, lateJoin: 30, partner: 10))
        h.ivTick(h.now + 60_000) // second turn
        h.join(8, code, "Late 1", org: "D")
        h.join(9, code, "Late 2", org: "D")
        h.ivTick(h.now + 1_000) // 8 and 9 pair up
        h.join(10, code, "Late 3", org: "E")
        h.ivTick(h.now + 31_000) // 10 joins a trio
        let partner = h.ivRoomState(code).interviews.pair(of: 2)!.members.first { $0 != 2 }!
        _ = h.send(2, .interviewNote(about: partner, text: "private", shared: false))
        _ = h.send(2, .interviewNote(about: partner, text: "Mentors new staff", shared: true))
        _ = h.send(ConnectionID(partner), .acceptHighlight(2))
        _ = h.send(1, .nextInterviewRound)
        let gone = h.ivRoomState(code).interviews.pair(of: 3)!.members.first { $0 != 3 }!
        h.disconnect(ConnectionID(gone))
        h.ivTick(h.now + 11_000)
        _ = h.send(3, .rematch) // nobody waits: 3 waits
        h.join(11, code, "Late 4", org: "F")
        return (h, code)
    }

    @Test func journalReplayRebuildsTheInterviewSessionExactly() throws {
        let (h, code) = Self.busySession()
        let live = h.ivRoomState(code)
        #expect(live.interviews.round == 2 && !live.interviews.waiting.isEmpty && live.interviews.notes.count == 2)
        var fresh = Coordinator(entropy: SeededEntropy(seed: 7), hasher: TestHasher())
        for e in h.journal { try fresh.replay(e) }
        let replayed = fresh.rooms[code]!
        #expect(replayed.interviews == live.interviews)
        #expect(replayed.interviews.history == live.interviews.history)
        #expect(replayed.interviews.pairs == live.interviews.pairs)
        #expect(replayed.interviews.waiting.map(\.member) == live.interviews.waiting.map(\.member))
        #expect(replayed.members == live.members)
        #expect(replayed.seq == live.seq)
        #expect(replayed.snapshotValue == live.snapshotValue)

        // An ended session replays as ended.
        var h2 = h
        _ = h2.send(1, .endInterviews)
        var fresh2 = Coordinator(entropy: SeededEntropy(seed: 7), hasher: TestHasher())
        for e in h2.journal { try fresh2.replay(e) }
        #expect(fresh2.rooms[code]!.interviews == h2.ivRoomState(code).interviews)
        #expect(!fresh2.rooms[code]!.interviews.active)
    }

    @Test func snapshotRoundTripKeepsTheInterviewSessionExactly() throws {
        let (h, code) = Self.busySession()
        let live = h.ivRoomState(code)
        let restored = try Room(snapshot: live.snapshotValue)
        #expect(restored.interviews == live.interviews)
        #expect(restored.interviews.settings == live.interviews.settings)
        #expect(restored.interviews.notes == live.interviews.notes)
        #expect(restored.members[live.interviews.notes[2]!.about]?.highlights == ["Mentors new staff"])
        #expect(restored.snapshotValue == live.snapshotValue)
        // Through the coordinator-level snapshot too.
        var c = Coordinator(entropy: SeededEntropy(seed: 9), hasher: TestHasher())
        try c.restore(snapshot: Coordinator.snapshotValue(h.coordinator.snapshotRooms, archived: h.coordinator.archived))
        #expect(c.rooms[code]!.interviews == live.interviews)
    }

    @Test func opsSurviveTheirJournalEncoding() throws {
        let (h, _) = Self.busySession()
        var kinds = Set<String>()
        for e in h.journal {
            let op = try RoomOp(value: e.op)
            #expect(op.value == e.op)
            if let k = e.op["op"]?.stringValue, k.hasPrefix("iv.") { kinds.insert(k) }
        }
        #expect(kinds == ["iv.started", "iv.round", "iv.phase", "iv.pair", "iv.waiting", "iv.note", "iv.accepted"])
    }
}

extension Harness {
    /// The facilitator key of the room created by `createRoom()` (read back from its ack in the inbox).
    mutating func secretsKey(_ code: String) -> String {
        // Rotating gives a key we know without keeping the creation ack around.
        send(1, .rotateKey)["facilitatorKey"]!.stringValue!
    }
}
