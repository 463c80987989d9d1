import Testing

@testable import RoundtableCore

/// `room.close` freezes a session; idle rooms are archived out of memory and reopened by a facilitator.
@Suite struct RoomLifecycleTests {
    /// A room with a facilitator (1), two members (2, 3), an open ranking poll with a ballot, an open
    /// anonymous poll, a running interview round and a timer.
    func busyRoom() -> (Harness, String, key: String, ranking: Int, anonymous: Int) {
        var h = Harness.polls()
        let (code, key, _) = h.createRoom()
        h.join(2, code, "Ann", org: "A")
        h.join(3, code, "Bob", org: "B")
        let ranking = h.poll(.labelled(.ranking))
        let anonymous = h.poll(.labelled(.single) { $0.anonymous = true })
        #expect(h.vote(2, ranking, Cast.ranking([1, 2, 3]))["type"] == "ack")
        #expect(h.vote(3, anonymous, Cast.single(1))["type"] == "ack")
        #expect(h.send(1, .startInterviews(InterviewSettings()))["type"] == "ack")
        #expect(h.send(1, .startTimer(seconds: 300, label: "Break", group: nil))["type"] == "ack")
        return (h, code, key, ranking, anonymous)
    }

    @Test func closingEndsEverythingRunningAndFreezesTheRoom() throws {
        var (h, code, _, ranking, anonymous) = busyRoom()
        #expect(h.send(2, .closeRoom)["code"] == "not_facilitator")
        h.flushAndDrain()
        let ack = h.send(1, .closeRoom)
        #expect(ack["type"] == "ack")
        #expect(ack["closedAt"] == .int(h.now))
        let room = h.room(code)
        #expect(room.closedAt == h.now)
        #expect(room.polls[ranking]!.state == .closed && room.polls[anonymous]!.state == .closed)
        #expect(!room.interviews.active)
        #expect(room.grouping.timers.isEmpty)
        // The anonymous poll's key is destroyed with its close.
        #expect(h.secrets[Coordinator.voterKeyName(code, anonymous)] == nil)
        let events = h.drain(2).map(\.type)
        #expect(events.contains("poll.closed") && events.contains("interviews.ended") && events.last == "room.closed")
        h.tick(at: h.now + 1_000)
        #expect(!h.received(3, "poll.results").isEmpty, "final results go out at close")

        // Frozen: nothing that changes the room is accepted, from anyone.
        #expect(h.vote(2, ranking, Cast.ranking([3, 2, 1]))["code"] == "room_closed")
        #expect(h.send(2, .submitNeed(text: "More mentors", tags: []))["code"] == "room_closed")
        #expect(h.send(1, .createPoll(.labelled(.single), openNow: true))["code"] == "room_closed")
        #expect(h.send(1, .closeRoom)["code"] == "room_closed")
        #expect(h.send(2, .updateMember(.init(name: "Anna")))["code"] == "room_closed")
        // No newcomers; the facilitator and returning members still get in to read the results.
        #expect(h.join(9, code, "Late")["code"] == "room_closed")
        #expect(h.send(2, .leave)["type"] == "ack")
        #expect(h.send(1, .rotateKey)["type"] == "ack")
        h.disconnect(3)
        let state = h.coordinator.stateNotice(code, for: 1)
        #expect(state.body["closedAt"] == .int(room.closedAt!))
        let report = RoomReport(room: h.room(code), generatedAt: h.now)
        #expect(report.json["room"]?["closedAt"]?.stringValue != nil)
        #expect(report.markdown.contains("session closed"))
    }

    @Test func replayAndSnapshotKeepTheClose() throws {
        var (h, code, _, _, _) = busyRoom()
        h.send(1, .closeRoom)
        var replayed = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        for e in h.journal { try replayed.replay(e) }
        #expect(replayed.rooms[code]!.closedAt == h.room(code).closedAt)
        #expect(replayed.rooms[code]!.snapshotValue == h.room(code).snapshotValue)
        var restored = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        try restored.restore(snapshot: Coordinator.snapshotValue(h.coordinator.rooms, archived: h.coordinator.archived))
        #expect(restored.rooms[code]!.closedAt == h.room(code).closedAt)
    }

    @Test func onlyIdleRoomsWithNobodyConnectedAreCandidates() {
        var (h, code, _, _, _) = busyRoom()
        let idle: Millis = 60_000
        #expect(h.coordinator.archiveCandidates(at: h.now + idle, idleMillis: idle, limit: 10).isEmpty, "members are connected")
        for c: ConnectionID in [1, 2, 3] { h.disconnect(c) }
        #expect(h.coordinator.archiveCandidates(at: h.now + idle - 1, idleMillis: idle, limit: 10).isEmpty, "not idle long enough")
        #expect(h.coordinator.archiveCandidates(at: h.now + idle, idleMillis: idle, limit: 10) == [code])
    }

    @Test func archiveIsRefusedWhenTheRoomChangedAfterTheFileWasWritten() {
        var (h, code, _, ranking, _) = busyRoom()
        h.disconnect(3)
        let written = h.room(code)
        h.vote(2, ranking, Cast.ranking([3, 2, 1]))
        for c: ConnectionID in [1, 2] { h.disconnect(c) }
        #expect(h.coordinator.archive(written, at: h.now) == nil)
        #expect(h.coordinator.rooms[code] != nil)
        // Someone connected: refused too, even when nothing changed.
        var (h2, code2, _, _, _) = busyRoom()
        h2.disconnect(3)
        #expect(h2.coordinator.archive(h2.room(code2), at: h2.now) == nil)
    }

    /// Archives the busy room (everyone gone) and returns the room as its file holds it.
    func archived() -> (Harness, String, key: String, file: Room, anonymous: Int) {
        var (h, code, key, _, anonymous) = busyRoom()
        for c: ConnectionID in [1, 2, 3] { h.disconnect(c) }
        let file = h.room(code)
        h.now += 10
        let effects = h.coordinator.archive(file, at: h.now)
        #expect(effects != nil)
        h.run(effects ?? [])
        return (h, code, key, file, anonymous)
    }

    @Test func archivingDropsTheRoomAndKeepsAnIndexThatSurvivesReplayAndSnapshots() throws {
        let (h, code, _, file, anonymous) = archived()
        #expect(h.coordinator.rooms[code] == nil)
        let entry = try #require(h.coordinator.archived[code])
        #expect(entry.seq == file.seq && entry.title == "Launch")
        #expect(entry.facilitatorTokenHashes.count == 1)
        // The open anonymous poll's key file must survive recovery while the room is archived.
        #expect(h.coordinator.openAnonymousPollKeyNames().contains(Coordinator.voterKeyName(code, anonymous)))

        var replayed = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        for e in h.journal { try replayed.replay(e) }
        #expect(replayed.rooms[code] == nil)
        #expect(replayed.archived == h.coordinator.archived)
        var restored = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        try restored.restore(snapshot: Coordinator.snapshotValue(h.coordinator.rooms, archived: h.coordinator.archived))
        #expect(restored.archived == h.coordinator.archived)
    }

    @Test func membersCannotReopenAndTheFacilitatorNeedsTheRightKey() {
        var (h, code, key, file, _) = archived()
        #expect(h.join(7, code, "Newcomer")["code"] == "room_archived")
        #expect(h.send(8, .join(.init(code: code, facilitatorKey: "wrong")))["code"] == "bad_credentials")
        #expect(h.archiveLoads.isEmpty)
        _ = h.send(8, .join(.init(code: code, facilitatorKey: key)))
        #expect(h.archiveLoads.count == 1)
        #expect(h.archiveLoads.first?.room == code && h.archiveLoads.first?.seq == file.seq && h.archiveLoads.first?.from == 8)
        #expect(h.join(9, "NOPE1234", "X")["code"] == "room_not_found")
    }

    @Test func reopeningBringsTheRoomBackWholeAndReplayAgrees() throws {
        var (h, code, key, file, anonymous) = archived()
        let keyName = Coordinator.voterKeyName(code, anonymous)
        let voterKey = try #require(h.secrets[keyName])
        h.now += 10
        h.run(h.coordinator.reopen(file, voterKeys: [keyName: voterKey], at: h.now))
        #expect(h.coordinator.archived[code] == nil)
        #expect(h.discardedArchives == [code])
        let room = try #require(h.coordinator.rooms[code])
        #expect(room.polls.count == file.polls.count && room.members.count == file.members.count)
        // The anonymous poll got its voter key back and still takes ballots.
        let ack = h.send(8, .join(.init(code: code, name: "Fay", facilitatorKey: key)))
        #expect(ack["type"] == "ack" && ack["role"] == "facilitator")
        h.join(10, code, "Cat")
        #expect(h.vote(10, anonymous, Cast.single(2))["type"] == "ack")
        #expect(h.pollOf(code, anonymous).ballots.count == 2)

        var replayed = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        for e in h.journal { try replayed.replay(e) }
        #expect(replayed.archived.isEmpty)
        #expect(replayed.rooms[code]?.snapshotValue == h.room(code).snapshotValue)
    }

    @Test func aFacilitatorResumeTokenReopensToo() {
        var h = Harness.polls()
        let (code, _, token) = h.createRoom()
        h.disconnect(1)
        let file = h.room(code)
        h.run(h.coordinator.archive(file, at: h.now + 10) ?? [])
        _ = h.send(5, .join(.init(code: code, token: token)))
        #expect(h.archiveLoads.map(\.room) == [code])
        #expect(h.join(6, code, "Member")["code"] == "room_archived")
    }

    @Test func reopenWithAStaleFileIsIgnored() {
        var (h, code, _, file, _) = archived()
        var stale = file
        stale.seq -= 1
        #expect(h.coordinator.reopen(stale, voterKeys: [:], at: h.now).isEmpty)
        #expect(h.coordinator.rooms[code] == nil && h.coordinator.archived[code] != nil)
    }
}

/// Resuming from the event buffer brings results and the ranking up to date (they are notices, not events).
@Suite struct ResumeCatchUpTests {
    @Test func aResumeByEventsGetsTheCurrentResultsAtTheNextFlush() throws {
        var h = Harness.polls()
        let code = h.pollRoom(members: 2)
        let live = h.poll(.labelled(.single))
        let hidden = h.poll(.labelled(.single) { $0.visibility = .facilitator })
        let annToken = try #require(h.join(9, code, "Ann")["token"]?.stringValue)
        h.flushAndDrain()
        let since = h.room(code).seq
        h.disconnect(9)
        h.vote(2, live, Cast.single(1))
        h.vote(3, hidden, Cast.single(2))
        h.flushAndDrain() // results went out while Ann was away

        let ack = h.send(10, .join(.init(code: code, token: annToken, since: since)))
        #expect(ack["resumed"] == "events")
        #expect(h.received(10, "poll.results").isEmpty, "not before the flush")
        h.tick(at: h.now + 1_000)
        let results = h.received(10, "poll.results")
        #expect(results.map { $0["poll"] } == [Value(live)], "only the poll members may see")
        #expect(results.first?["ballots"] == 1)
        #expect(h.received(10, "needs.ranking").count == 1)
        // Nobody else is sent anything: nothing changed.
        #expect(h.received(2, "poll.results").isEmpty && h.received(1, "poll.results").isEmpty)
        h.tick(at: h.now + 2_000)
        #expect(h.received(10, "poll.results").count == 1, "once")
    }
}

/// Anonymous pseudonyms are cached per member while the poll's key lives, and forgotten with it.
@Suite struct PseudonymCacheTests {
    @Test func theCacheFollowsTheKey() throws {
        var h = Harness.polls()
        let code = h.pollRoom(members: 2)
        let id = h.poll(.labelled(.single) { $0.anonymous = true })
        #expect(h.vote(2, id, Cast.single(1))["type"] == "ack")
        let first = try #require(h.pollOf(code, id).ballots.keys.first)
        #expect(h.pollOf(code, id).pseudonyms[2] == first)
        #expect(h.vote(2, id, Cast.single(2))["type"] == "ack") // from the cache: replaces, does not add
        #expect(h.pollOf(code, id).ballots.count == 1 && h.pollOf(code, id).ballots[first] == .single(2))
        #expect(h.vote(3, id, Cast.single(1))["type"] == "ack")
        #expect(h.pollOf(code, id).ballots.count == 2)
        // A new key (e.g. its file was lost across a restart) makes new pseudonyms, never stale cached ones.
        var rekeyed = h.coordinator
        rekeyed.rooms[code]!.polls[id]!.voterKey = "another key"
        #expect(rekeyed.rooms[code]!.polls[id]!.pseudonyms.isEmpty)
        // Closing forgets key and pseudonyms alike.
        #expect(h.send(1, .closePoll(id))["type"] == "ack")
        #expect(h.pollOf(code, id).voterKey == nil && h.pollOf(code, id).pseudonyms.isEmpty)
    }
}
