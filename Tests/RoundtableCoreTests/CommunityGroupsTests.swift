import Testing

@testable import RoundtableCore

/// Standing groups across sessions, `community.view`, and all of it rebuilt by replay and snapshots.
@Suite struct CommunityGroupsTests {
    typealias T = CommunityHomeTests

    @Test func standingGroupErrors() {
        var h = Harness()
        let (cred, keys) = T.seeded(&h)
        func code(_ specs: [Command.StandingGroupSpec]) -> Value? { h.send(90, .communityGroups(cred, specs))["code"] }
        #expect(code([.init(name: "A", members: [1]), .init(name: "B", members: [2, 1])]) == "invalid_field")
        #expect(code([.init(group: 4, name: "A")]) == "group_not_found")
        #expect(code([.init(name: "A", focus: [9])]) == "need_not_found")
        #expect(code([.init(name: "A", members: [99])]) == "member_not_found")
        #expect(code([.init(name: "")]) == "invalid_field")
        #expect(h.send(90, .communityGroups(T.member(cred, keys["Ana"]!), []))["code"] == "bad_credentials")
        #expect(h.coordinator.communities[cred.id]!.groups.isEmpty)
        // Ids are kept for entries that name them; new entries get fresh ids; dropped groups are gone.
        #expect(h.send(90, .communityGroups(cred, [.init(name: "A"), .init(name: "B")]))["groups"] == [1, 2])
        #expect(h.send(90, .communityGroups(cred, [.init(group: 2, name: "B2"), .init(name: "C")]))["groups"] == [2, 3])
        #expect(h.coordinator.communities[cred.id]!.groups.map(\.name) == ["B2", "C"])
    }

    @Test func selfSelectionCarriesIntoTheNextSession() {
        var h = Harness()
        let (cred, keys) = T.seeded(&h)
        let ack = h.send(90, .communityGroups(cred, [.init(name: "Data team", focus: [1], members: [1]), .init(name: "Volunteers", members: [2])]))
        #expect(ack["groups"] == [1, 2])
        let s2 = h.openSession(cred, from: 10)
        var g = h.coordinator.rooms[s2]!.grouping
        #expect(g.mode == .selfSelect && g.groups.map(\.standing) == [1, 2] && g.groups.map(\.name) == ["Data team", "Volunteers"])
        #expect(g.groups[0].need == 1) // the room need that stands for the focus need
        for (c, name) in [(11, "Ana"), (12, "Ben"), (13, "Cy")] { _ = h.joinWithKey(ConnectionID(c), s2, keys[name]!) }
        g = h.coordinator.rooms[s2]!.grouping
        #expect(g.groups[0].members == [2] && g.groups[1].members == [3]) // Ana and Ben placed; Cy in none
        let state = h.inbox[11]!.last { $0.type == "room.state" }!.body
        #expect(state["groups"]?["groups"]?.arrayValue?.map { $0["standing"] } == [1, 2])
        #expect(h.send(13, .joinGroup(2))["type"] == "ack")
        #expect(h.send(12, .leaveGroup)["type"] == "ack")
        _ = h.send(10, .closeRoom)
        var c = h.coordinator.communities[cred.id]!
        #expect(c.groups.map(\.members) == [[1], [3]]) // Dee did not come: nothing of hers changed
        #expect(c.standingGroup(of: 2) == nil && c.standingGroup(of: 3)?.id == 2)

        // Session 3: Cy lands in Volunteers; the facilitator's own groups (not standing) change nothing at close.
        let s3 = h.openSession(cred, from: 20)
        _ = h.joinWithKey(23, s3, keys["Cy"]!)
        #expect(h.coordinator.rooms[s3]!.grouping.groups[1].members == [2])
        _ = h.send(20, .createGroups(.selfSelect, [.init(name: "Breakout")]))
        _ = h.send(20, .closeRoom)
        c = h.coordinator.communities[cred.id]!
        #expect(c.groups.map(\.members) == [[1], [3]])
        #expect(c.sessions.map(\.attendance) == [1, 3, 1])
    }

    @Test func viewShowsTheHomePageByRole() {
        var h = Harness()
        let (cred, keys) = T.seeded(&h)
        _ = h.send(90, .communityGroups(cred, [.init(name: "Data team", description: "Fix reporting", focus: [1], members: [1, 3])]))
        _ = h.send(90, .setBacklogStatus(cred, need: 1, .inProgress, owner: 1))
        _ = h.send(90, .setBacklogStatus(cred, need: 2, .addressed, owner: nil))
        _ = h.send(90, .communityProfile(T.member(cred, keys["Dee"]!), .init(listed: false)))
        let s2 = h.openSession(cred, from: 10)
        let f = h.send(90, .communityView(cred))
        #expect(f["role"] == "facilitator" && f["me"] == nil && f["memberCount"] == 4 && f["listedCount"] == 3 && f["pairsMet"] == 0)
        #expect(f["members"]?.arrayValue?.count == 4 && f["members"]?.arrayValue?.first?["keyHash"] == nil)
        let sessions = f["sessions"]!.arrayValue!
        #expect(sessions.count == 2 && sessions[0]["open"] == false && sessions[0]["closedAt"] != nil && sessions[0]["members"] == 1)
        #expect(sessions[1]["open"] == true && sessions[1]["title"] == "Session" && f["current"] == .string(s2))
        let backlog = f["backlog"]!.arrayValue!
        #expect(backlog.map { $0["status"] } == ["in_progress", "addressed"] && backlog[0]["owner"] == 1)
        #expect(backlog[0]["rankings"] == [])
        let groups = f["groups"]!.arrayValue!
        #expect(groups[0]["members"]?.arrayValue?.map { $0["name"] } == ["Ana", "Cy"] && groups[0]["focus"] == [1])
        let m = h.send(90, .communityView(T.member(cred, keys["Cy"]!)))
        #expect(m["role"] == "member" && m["members"] == nil && m["me"]?["member"] == 3 && m["me"]?["standingGroup"] == 1)
        #expect(m["me"]?["listed"] == true && m["me"]?["organization"] == "Co-op")
    }

    @Test func replayAndSnapshotRebuildTheNewState() throws {
        var h = Harness()
        let (cred, keys) = T.seeded(&h)
        _ = h.send(90, .communityGroups(cred, [.init(name: "Data team", focus: [1], members: [1])]))
        _ = h.send(90, .setBacklogStatus(cred, need: 1, .inProgress, owner: 1))
        _ = h.send(90, .communityProfile(T.member(cred, keys["Ben"]!), .init(.init(bio: "Runs the hub"), listed: false)))
        let s2 = h.openSession(cred, from: 10)
        _ = h.joinWithKey(11, s2, keys["Ana"]!)
        _ = h.joinWithKey(12, s2, keys["Ben"]!)
        _ = h.send(11, .updateMember(.init(bio: "edited in the room")))
        _ = h.send(10, .startInterviews(ivSettings()))
        let note = h.send(12, .interviewNote(about: 2, text: "Sharp on data", shared: true))["note"]!.intValue!
        _ = h.send(11, .acceptHighlight(Int(note)))
        _ = h.send(12, .joinGroup(1))
        _ = h.openSession(cred, from: 20) // harvests the still open session 2
        let live = h.coordinator.communities
        let c = live[cred.id]!
        #expect(c.members[1]?.bio == "edited in the room" && c.members[1]?.highlights == ["Sharp on data"])
        #expect(c.groups[0].members == [1, 2] && c.members[2]?.listed == false && c.backlog[1]?.owner == 1)

        var replayed = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        for e in h.journal { try replayed.replay(JournalEntry(room: e.room, seq: e.seq, at: e.at, op: e.op)) }
        #expect(replayed.communities == live)
        #expect(replayed.rooms[s2]!.profileEditedAt == h.coordinator.rooms[s2]!.profileEditedAt)
        #expect(replayed.rooms[s2]!.grouping == h.coordinator.rooms[s2]!.grouping)

        var restored = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        try restored.restore(snapshot: Coordinator.snapshotValue(h.coordinator.rooms, archived: [:], communities: live))
        #expect(restored.communities == live)
        #expect(!h.coordinator.rooms[s2]!.profileEditedAt.isEmpty)
        #expect(restored.rooms[s2]!.profileEditedAt == h.coordinator.rooms[s2]!.profileEditedAt)
        #expect(restored.rooms[s2]!.grouping.groups.map(\.standing) == [1])
    }
}
