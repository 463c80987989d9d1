import Testing

@testable import RoundtableCore

@Suite struct CoordinatorRoomTests {
    @Test func createGivesCodeKeyTokenAndState() {
        var h = Harness()
        let (code, key, token) = h.createRoom()
        #expect(code.count == 8)
        #expect(code.utf8.allSatisfy { Crockford.alphabet.contains($0) })
        #expect(key.count == 32 && token.count == 32 && key != token)
        let got = h.drain(1)
        #expect(got.last?.type == "room.state")
        #expect(got.last?.body["seq"] == 2)
        // Secrets are stored hashed only.
        let room = h.coordinator.rooms[code]!
        #expect(room.facilitatorKeyHash == "h(\(key))")
        #expect(room.members[1]?.tokenHash == "h(\(token))")
        // The test hasher writes h(secret); a raw secret would appear as a string value of its own.
        #expect(!h.journal.contains { "\($0.op)".contains("string(\"\(key)\")") || "\($0.op)".contains("string(\"\(token)\")") })
    }

    @Test func seqIsGapFreeAndEveryEventIsJournaled() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        for i in 0..<5 { h.join(ConnectionID(10 + i), code, "M\(i)") }
        h.disconnect(10)
        _ = h.send(11, .updateMember(.init(bio: "hello")))
        let seqs = h.journal.map(\.seq)
        #expect(seqs == Array(1...UInt64(seqs.count)))
        let events = h.drain(1).compactMap(\.seq)
        #expect(events == Array(3...UInt64(seqs.count)))
    }

    @Test func joinErrors() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        #expect(h.send(2, .join(.init(code: "NOPE0000", name: "x")))["code"] == "room_not_found")
        #expect(h.send(2, .join(.init(code: code, name: "  ")))["code"] == "invalid_field")
        #expect(h.send(2, .join(.init(code: code, name: "x", token: "forged")))["code"] == "bad_credentials")
        #expect(h.send(2, .join(.init(code: code, name: "x", facilitatorKey: "forged")))["code"] == "bad_credentials")
        #expect(h.send(2, .join(.init(code: code, name: "x", role: .facilitator)))["code"] == "bad_credentials")
        #expect(h.send(2, .join(.init(code: code, name: String(repeating: "n", count: 81))))["code"] == "too_large")
        #expect(h.join(2, code.lowercased(), "Ok")["type"] == "ack") // codes are case-insensitive
        #expect(h.join(2, code, "Again")["code"] == "already_joined")
    }

    @Test func roomFullAtLimit() {
        var limits = Limits()
        limits.maxMembersPerRoom = 3
        var h = Harness(limits: limits)
        let (code, _, _) = h.createRoom()
        #expect(h.join(2, code, "A")["type"] == "ack")
        #expect(h.join(3, code, "B")["type"] == "ack")
        #expect(h.join(4, code, "C")["code"] == "room_full")
    }

    @Test func facilitatorKeyJoinsAsFacilitatorAndRotationRevokesIt() {
        var h = Harness()
        let (code, key, _) = h.createRoom()
        let ack = h.send(2, .join(.init(code: code, name: "Co", facilitatorKey: key)))
        #expect(ack["role"] == "facilitator")
        let rotated = h.send(2, .rotateKey)
        let newKey = rotated["facilitatorKey"]!.stringValue!
        #expect(h.send(3, .join(.init(code: code, name: "Old", facilitatorKey: key)))["code"] == "bad_credentials")
        #expect(h.send(3, .join(.init(code: code, name: "New", facilitatorKey: newKey)))["role"] == "facilitator")
    }

    @Test func membersCannotActAsFacilitators() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        h.join(2, code, "Mel")
        #expect(h.send(2, .removeMember(1))["code"] == "not_facilitator")
        #expect(h.send(2, .rotateKey)["code"] == "not_facilitator")
        #expect(h.send(9, .removeMember(1))["code"] == "not_joined")
    }

    @Test func twoTabsShareOnePresence() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        let token = h.join(2, code, "Ann")["token"]!.stringValue!
        _ = h.drain(1)
        #expect(h.send(3, .join(.init(code: code, token: token)))["member"] == 2)
        #expect(h.drain(1).isEmpty) // already online: no presence event
        h.disconnect(2)
        #expect(h.drain(1).isEmpty) // still online in the other tab
        h.disconnect(3)
        let off = h.drain(1)
        #expect(off.map(\.type) == ["member.presence"])
        #expect(off.first?.body["online"] == false)
    }

    @Test func resumeReplaysMissedEventsOrFallsBackToState() {
        var limits = Limits()
        limits.resumeBufferEvents = 4
        var h = Harness(limits: limits)
        let (code, _, _) = h.createRoom()
        let token = h.join(2, code, "Ann")["token"]!.stringValue!
        h.disconnect(2)
        let since = h.coordinator.rooms[code]!.seq
        h.join(3, code, "Bob")
        let ack = h.send(4, .join(.init(code: code, token: token, since: since)))
        #expect(ack["resumed"] == "events")
        let replay = h.drain(4).compactMap(\.seq)
        #expect(replay == [since + 1, since + 2]) // Bob joined, then Ann back online

        // Too far behind for the buffer: a fresh room.state instead.
        h.disconnect(4)
        for i in 0..<6 { h.join(ConnectionID(20 + i), code, "X\(i)") }
        let ack2 = h.send(5, .join(.init(code: code, token: token, since: since)))
        #expect(ack2["resumed"] == "state")
        #expect(h.drain(5).contains { $0.type == "room.state" })
    }

    /// Issue 16: a newcomer resuming with `since: 0` read the room's history from before they joined.
    @Test func aResumeNeverReplaysEventsFromBeforeTheMembersJoin() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        h.join(2, code, "Ann")
        h.send(2, .leave) // Ann's profile and departure are history
        let joined = h.join(3, code, "Bob")
        let token = joined["token"]!.stringValue!
        let joinSeq = h.coordinator.rooms[code]!.seq
        for since: UInt64 in [0, 1, joinSeq - 1] {
            let ack = h.send(4, .join(.init(code: code, token: token, since: since)))
            #expect(ack["resumed"] == "state", "since \(since) is before Bob's join")
            #expect(h.drain(4).allSatisfy { $0.seq == nil || $0.seq! > joinSeq })
            h.disconnect(4)
        }
        // From his own join on, the buffer serves him as before.
        h.join(5, code, "Cy")
        let ack = h.send(6, .join(.init(code: code, token: token, since: joinSeq)))
        #expect(ack["resumed"] == "events")
        #expect(h.drain(6).compactMap(\.seq).allSatisfy { $0 > joinSeq })
    }

    /// Issue 16: a removed need's text or a removed member's profile is not replayed to someone who
    /// was away when it was visible: a resume across a withdrawal gets the state.
    @Test func aResumeAcrossAWithdrawalGetsTheState() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        let token = h.join(2, code, "Ann")["token"]!.stringValue!
        h.join(3, code, "Bob")
        h.disconnect(2)
        let since = h.coordinator.rooms[code]!.seq
        #expect(h.send(3, .submitNeed(text: "something to take back", tags: []))["type"] == "ack")
        let need = h.coordinator.rooms[code]!.needs.keys.max()!
        #expect(h.send(1, .removeNeed(need))["type"] == "ack")
        let ack = h.send(4, .join(.init(code: code, token: token, since: since)))
        #expect(ack["resumed"] == "state")
        #expect(!h.drain(4).contains { $0.type == "need.added" })
        h.disconnect(4)

        let since2 = h.coordinator.rooms[code]!.seq
        #expect(h.send(1, .removeMember(3))["type"] == "ack")
        #expect(h.send(5, .join(.init(code: code, token: token, since: since2)))["resumed"] == "state")
        // An ordinary departure withdraws nothing: the buffer serves it.
        h.disconnect(5)
        let since3 = h.coordinator.rooms[code]!.seq
        h.join(6, code, "Cy")
        h.send(6, .leave)
        #expect(h.send(7, .join(.init(code: code, token: token, since: since3)))["resumed"] == "events")
    }

    @Test func leaveAndRemoveRevokeTokens() {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        let t2 = h.join(2, code, "Ann")["token"]!.stringValue!
        let t3 = h.join(3, code, "Bob")["token"]!.stringValue!
        #expect(h.send(2, .leave)["type"] == "ack")
        #expect(h.send(2, .updateMember(.init(bio: "x")))["code"] == "not_joined")
        #expect(h.send(4, .join(.init(code: code, token: t2)))["code"] == "bad_credentials")
        #expect(h.send(1, .removeMember(3))["type"] == "ack")
        #expect(h.closed[3] == 4001)
        #expect(h.send(5, .join(.init(code: code, token: t3)))["code"] == "bad_credentials")
        #expect(h.send(1, .removeMember(3))["code"] == "member_not_found")
    }

    @Test func replayOfJournalRebuildsTheSameRooms() throws {
        var h = Harness()
        let (code, _, _) = h.createRoom()
        h.join(2, code, "Ann", org: "A")
        _ = h.send(2, .updateMember(.init(expertise: ["Evaluation", "evaluation", "Data"])))
        h.join(3, code, "Bob")
        _ = h.send(1, .removeMember(3))
        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        for e in h.journal { try fresh.replay(e) }
        let a = h.coordinator.rooms[code]!, b = fresh.rooms[code]!
        #expect(a.seq == b.seq)
        #expect(a.members == b.members)
        #expect(b.members[2]?.expertise == ["evaluation", "data"])
        #expect(a.facilitatorKeyHash == b.facilitatorKeyHash)
    }

    @Test func largeRoomsCoalescePresenceAndTruncateState() {
        var limits = Limits()
        limits.presenceEventsUpTo = 3
        limits.stateMembersLimit = 3
        var h = Harness(limits: limits)
        let (code, _, _) = h.createRoom()
        h.join(2, code, "A")
        h.join(3, code, "B")
        _ = h.drain(1)
        _ = h.drain(2)
        let seqBefore = h.coordinator.rooms[code]!.seq
        h.join(4, code, "C") // 4 members now: above the threshold
        h.join(5, code, "D")
        #expect(h.coordinator.rooms[code]!.seq == seqBefore) // no room events for quiet joins
        #expect(h.drain(2).isEmpty) // members hear nothing per join...
        let fac = h.drain(1)
        #expect(fac.map(\.type) == ["member.joined", "member.joined"]) // ...facilitators do, as notices
        #expect(fac.allSatisfy { $0.seq == nil })
        h.run(h.coordinator.tick(at: h.now + 1_000))
        let counts = h.drain(2).filter { $0.type == "room.presence" }
        #expect(counts.count == 1)
        #expect(counts.first?.body["members"] == 5)
        // room.state for a member is capped; the facilitator's is not.
        let state = h.drain(5).first { $0.type == "room.state" }!.body
        #expect(state["members"]?.arrayValue?.count == 3)
        // Facilitators and you first, then online members in joining order.
        #expect(state["members"]?.arrayValue?.map { $0["id"] } == [1, 5, 2])
        #expect(state["memberCount"] == 5)
        #expect(state["membersTruncated"] == true)
        // Replay makes the same choice: the threshold is part of the room.
        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        for e in h.journal { try? fresh.replay(e) }
        #expect(fresh.rooms[code]!.seq == h.coordinator.rooms[code]!.seq)
    }

    /// Issue 20: a large room's listed profiles are encoded once for every joiner, and an edit reaches the
    /// next joiner's state (the cache is keyed on the whole member, not on the id).
    @Test func largeRoomStateReusesProfilesUntilAMemberChanges() {
        var limits = Limits()
        limits.presenceEventsUpTo = 2
        limits.stateMembersLimit = 3
        var h = Harness(limits: limits)
        let (code, _, _) = h.createRoom()
        // 12 members: 4 x stateMembersLimit, where the cache starts (below it a plain list, tested above).
        for c in 2...12 { h.join(ConnectionID(c), code, "M\(c)") }
        func listed(_ conn: ConnectionID) -> [Value] {
            h.drain(conn).first { $0.type == "room.state" }!.body["members"]!.arrayValue!
        }
        let first = listed(12)
        h.join(13, code, "N")
        let second = listed(13)
        // Member 2 is listed to both joiners: the same shared value, serialized as a plain profile would be.
        guard case .shared(let a) = first.first(where: { $0["id"] == 2 }), case .shared(let b) = second.first(where: { $0["id"] == 2 }) else {
            Issue.record("large-room profiles are not shared: \(first)")
            return
        }
        #expect(a === b)
        #expect(Value.shared(a) == h.coordinator.rooms[code]!.members[2]!.profile(online: true))
        _ = h.send(2, .updateMember(.init(bio: "now a mentor")))
        h.join(14, code, "O")
        let third = listed(14)
        #expect(third.first { $0["id"] == 2 }?["bio"] == "now a mentor")
        #expect(third.first { $0["id"] == 3 } == second.first { $0["id"] == 3 })
    }

    /// Issue 20: in a large room the counts move at the presence pace, not with every join or results tick,
    /// so a launch of thousands costs each joiner a handful of messages.
    @Test func largeRoomCountsGoOutAtThePresencePace() {
        var limits = Limits()
        limits.presenceEventsUpTo = 2
        limits.presenceIntervalMs = 2_000
        var h = Harness(limits: limits)
        let (code, _, _) = h.createRoom()
        h.join(2, code, "A")
        h.join(3, code, "B") // 3 members: counts from here on
        // A poll is open: its turnout ("of N") moves with presence, so it must keep the same pace.
        #expect(h.send(1, .createPoll(.labelled(.single), openNow: true))["type"] == "ack")
        let t0 = h.now
        var sent: [(at: Millis, members: Value?)] = []
        var turnouts: [Millis] = []
        var joiner: ConnectionID = 10
        // Ten joins a second for five seconds, ticking every 50 ms as the server does.
        for step in 1...100 {
            let at = t0 + Millis(step) * 50
            if step % 2 == 0 {
                h.join(joiner, code, "J\(joiner)")
                joiner += 1
            }
            h.now = max(h.now, at)
            h.run(h.coordinator.tick(at: at))
            for m in h.drain(2) {
                if m.type == "room.presence" { sent.append((at, m.body["members"])) }
                if m.type == "poll.turnout" { turnouts.append(at) }
            }
        }
        #expect(sent.count == 3, "at 2 s intervals over 5 s: \(sent.map(\.at))")
        #expect(turnouts.count <= 3, "turnout at the presence pace too: \(turnouts)")
        for (a, b) in zip(sent, sent.dropFirst()) { #expect(b.at - a.at >= 2_000) }
        // Quiet again: the last change still reaches everyone once the interval has passed.
        h.run(h.coordinator.tick(at: t0 + 10_000))
        let last = h.drain(2).filter { $0.type == "room.presence" }
        #expect(last.count == 1)
        #expect(last.first?.body["members"] == Value(h.coordinator.rooms[code]!.currentMemberCount))
        h.run(h.coordinator.tick(at: t0 + 20_000))
        #expect(h.drain(2).isEmpty, "nothing changed: nothing sent")
    }

    /// A results tick that only finds counts not yet due sends nothing and must not restart the results pace:
    /// a vote just after it gets its results at the next tick, not a `resultsIntervalMs` later.
    @Test func largeRoomPendingCountsDoNotDelayResults() {
        var limits = Limits()
        limits.presenceEventsUpTo = 2
        limits.presenceIntervalMs = 2_000
        limits.resultsIntervalMs = 250
        var h = Harness.polls(limits: limits)
        let (code, _, _) = h.createRoom()
        h.join(2, code, "A")
        h.join(3, code, "B") // large from here on: counts go out at the presence pace
        let poll = h.poll(.labelled(.single))
        let t1 = h.now + 3_000
        h.tick(at: t1) // counts and results sent: both paces restart here
        h.join(4, code, "C") // counts pending again, due only at t1 + 2 s
        _ = h.drain(3)
        h.tick(at: t1 + 300)
        #expect(h.drain(3).isEmpty, "counts are not due yet: nothing to send")
        #expect(h.vote(3, poll, Cast.single(1))["type"] == "ack")
        h.tick(at: t1 + 350)
        #expect(h.drain(3).contains { $0.type == "poll.results" }, "the vote's results wait for nothing")
    }

    @Test func passcodeGuardsNewMembersNotReturningOnes() {
        var h = Harness()
        let ack = h.send(1, .createRoom(.init(title: "Private", name: "Fay", passcode: "tulip")))
        let code = ack["room"]!.stringValue!
        #expect(h.coordinator.rooms[code]!.passcodeHash == "h(tulip)")
        #expect(h.send(2, .join(.init(code: code, name: "Ann")))["code"] == "bad_credentials")
        #expect(h.send(2, .join(.init(code: code, name: "Ann", passcode: "rose")))["code"] == "bad_credentials")
        let ann = h.send(2, .join(.init(code: code, name: "Ann", passcode: "tulip")))
        #expect(ann["type"] == "ack")
        h.disconnect(2)
        #expect(h.send(3, .join(.init(code: code, token: ann["token"]!.stringValue!)))["type"] == "ack") // token suffices
        #expect(h.send(3, .setPasscode(nil))["code"] == "not_facilitator")
        #expect(h.send(1, .setPasscode(nil))["passcodeRequired"] == false)
        #expect(h.send(4, .join(.init(code: code, name: "Bob")))["type"] == "ack")
    }
}
