import Testing

@testable import RoundtableCore

/// Groups: assigned and self-select, capacities, strategies, groups from needs, saved groupings,
/// announcements, agenda timers, errors, replay and snapshots. Helpers live in InterviewSessionTests.swift.
@Suite struct GroupTests {
    func groupOf(_ h: Harness, _ code: String, _ m: MemberID) -> Int? { h.ivRoomState(code).grouping.group(of: m)?.id }
    func sizes(_ h: Harness, _ code: String) -> [Int] { h.ivRoomState(code).grouping.groups.map(\.members.count) }
    func members(_ h: Harness, _ code: String, _ g: Int) -> [MemberID] {
        h.ivRoomState(code).grouping.groups.first { $0.id == g }?.members ?? []
    }

    // MARK: Create

    @Test func createMakesNumberedGroupsAndReplacesEarlierOnes() {
        var h = Harness()
        let code = h.ivRoom(["A", "B"])
        let ack = h.send(1, .createGroups(.selfSelect, [.init(name: " Red ", description: "warm", capacity: 3), .init(name: "Blue")]))
        #expect(ack["type"] == "ack" && ack["groups"] == [1, 2])
        let ev = h.ivGot(2, "groups.created")
        #expect(ev.count == 1 && ev.first?["mode"] == "self-select")
        #expect(ev.first?["groups"]?.arrayValue?.map { $0["name"] } == ["Red", "Blue"])
        #expect(ev.first?["groups"]?.arrayValue?.first?["capacity"] == 3)
        #expect(ev.first?["groups"]?.arrayValue?.last?["capacity"] == nil)
        let g = h.ivRoomState(code).grouping
        #expect(g.mode == .selfSelect && g.groups.map(\.capacity) == [3, nil] && g.groups[0].description == "warm")
        #expect(h.send(2, .joinGroup(1))["type"] == "ack")

        // A new set of groups starts empty.
        #expect(h.send(1, .createGroups(.assigned, [.init(name: "Only")]))["groups"] == [1])
        #expect(h.ivRoomState(code).grouping.groups.map(\.members) == [[]])
        #expect(h.ivRoomState(code).grouping.mode == .assigned)
        let state = h.ivState(code, for: 2, "groups")
        #expect(state["mode"] == "assigned" && state["yourGroup"] == nil && state["saved"] == nil)
    }

    // MARK: Self-select

    @Test func selfSelectJoinMoveLeaveAndCapacityExactly() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E"]) // 2...6
        _ = h.send(1, .createGroups(.selfSelect, [.init(name: "Small", capacity: 3), .init(name: "Open")]))
        h.inbox = [:]
        for c: ConnectionID in [2, 3, 4] {
            let ack = h.send(c, .joinGroup(1))
            #expect(ack["type"] == "ack" && ack["group"] == 1)
        }
        #expect(h.ivGot(6, "group.changed").map { $0["members"] } == [[2], [2, 3], [2, 3, 4]])
        #expect(h.send(5, .joinGroup(1))["code"] == "group_full")
        #expect(members(h, code, 1) == [2, 3, 4])
        #expect(h.send(2, .joinGroup(1))["type"] == "ack", "joining your own full group again is fine")
        #expect(h.ivGot(6, "group.changed").count == 3)

        // Moving frees a seat: two group.changed, one per group.
        h.inbox = [:]
        #expect(h.send(2, .joinGroup(2))["group"] == 2)
        let changed = h.ivGot(6, "group.changed")
        #expect(changed.map { $0["group"] } == [1, 2])
        #expect(changed.map { $0["members"] } == [[3, 4], [2]])
        #expect(h.send(5, .joinGroup(1))["type"] == "ack")
        #expect(h.send(6, .joinGroup(1))["code"] == "group_full")

        // Leaving frees a seat too.
        #expect(h.send(3, .leaveGroup)["type"] == "ack")
        #expect(h.send(3, .leaveGroup)["code"] == "not_in_group")
        #expect(h.send(6, .joinGroup(1))["type"] == "ack")
        #expect(members(h, code, 1).sorted() == [4, 5, 6])
        #expect(h.ivState(code, for: 6, "groups")["yourGroup"] == 1)
        #expect(h.ivState(code, for: 3, "groups")["yourGroup"] == nil)
        #expect(h.send(3, .joinGroup(9))["code"] == "group_not_found")
    }

    @Test func assignedGroupsCannotBeChosen() {
        var h = Harness()
        _ = h.ivRoom(["A", "B"])
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red")]))
        #expect(h.send(2, .joinGroup(1))["code"] == "not_allowed")
        #expect(h.send(2, .leaveGroup)["code"] == "not_allowed")
        #expect(h.send(1, .assignGroups(explicit: [2: 1], strategy: nil))["type"] == "ack")
        #expect(h.send(2, .leaveGroup)["code"] == "not_allowed")
    }

    // MARK: Explicit assignment

    @Test func explicitAssignmentRespectsCapacityExactly() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E"]) // 2...6
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Three", capacity: 3), .init(name: "Any")]))
        h.inbox = [:]
        let ack = h.send(1, .assignGroups(explicit: [2: 1, 3: 1, 4: 1, 5: 2], strategy: nil))
        #expect(ack["type"] == "ack" && ack["assigned"] == 4)
        #expect(members(h, code, 1) == [2, 3, 4] && members(h, code, 2) == [5])
        #expect(h.ivGot(2, "group.changed").map { $0["group"] } == [1, 2])

        let journalled = h.journal.count
        #expect(h.send(1, .assignGroups(explicit: [6: 1], strategy: nil))["code"] == "group_full")
        #expect(h.send(1, .assignGroups(explicit: [5: 1], strategy: nil))["code"] == "group_full")
        #expect(h.journal.count == journalled, "a refused assignment changes nothing")
        // A swap within the same request fits exactly.
        #expect(h.send(1, .assignGroups(explicit: [2: 2, 6: 1], strategy: nil))["type"] == "ack")
        #expect(members(h, code, 1).sorted() == [3, 4, 6] && members(h, code, 2).sorted() == [2, 5])

        #expect(h.send(1, .assignGroups(explicit: [2: 7], strategy: nil))["code"] == "group_not_found")
        #expect(h.send(1, .assignGroups(explicit: [42: 1], strategy: nil))["code"] == "member_not_found")
        _ = h.send(6, .leave)
        #expect(h.send(1, .assignGroups(explicit: [6: 2], strategy: nil))["code"] == "member_not_found")
    }

    // MARK: Strategies

    @Test func balancedPlacesEveryMemberAndSizesDifferByAtMostOne() {
        for seed: UInt64 in [1, 2, 3, 42, 1234] {
            var h = Harness()
            h.coordinator = Coordinator(entropy: SeededEntropy(seed: seed), hasher: TestHasher())
            let code = h.ivRoom((0..<10).map { "Org \($0 % 3)" }) // 2...11
            #expect(h.send(12, .join(.init(code: code, name: "Olga", role: .observer)))["type"] == "ack")
            h.disconnect(11) // offline members are still placed
            _ = h.send(1, .createGroups(.assigned, [.init(name: "A"), .init(name: "B"), .init(name: "C")]))
            let ack = h.send(1, .assignGroups(explicit: nil, strategy: "balanced"))
            #expect(ack["assigned"] == 10)
            #expect(sizes(h, code).sorted() == [3, 3, 4], "seed \(seed)")
            let placed = h.ivRoomState(code).grouping.groups.flatMap(\.members)
            #expect(placed.sorted() == Array(2...11))
            #expect(groupOf(h, code, 1) == nil && groupOf(h, code, 12) == nil)
        }
    }

    @Test func balancedNeverExceedsCapacity() {
        var h = Harness()
        let code = h.ivRoom((0..<10).map { "Org \($0)" })
        _ = h.send(1, .createGroups(.assigned, [.init(name: "A", capacity: 2), .init(name: "B", capacity: 2), .init(name: "C", capacity: 3)]))
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: "balanced"))["assigned"] == 7)
        #expect(sizes(h, code) == [2, 2, 3])
        // Reassigning starts over: nobody is left in two groups, the unplaced are in none.
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: "balanced"))["assigned"] == 7)
        let placed = h.ivRoomState(code).grouping.groups.flatMap(\.members)
        #expect(Set(placed).count == 7 && placed.count == 7)
    }

    /// Found by the coordinator fuzzer: a facilitator sitting in a group took a seat the strategies did not count.
    @Test(arguments: ["balanced", "mixed-organizations", "by-need"])
    func seatsTakenByFacilitatorsCountAgainstCapacity(_ strategy: String) {
        var h = Harness()
        let code = h.ivRoom((0..<6).map { "Org \($0)" })
        _ = h.send(1, .createGroups(.selfSelect, [.init(name: "A", capacity: 2), .init(name: "B", capacity: 2)]))
        #expect(h.send(1, .joinGroup(h.ivRoomState(code).grouping.groups[0].id))["type"] == "ack")
        _ = h.send(1, .assignGroups(explicit: nil, strategy: strategy))
        for g in h.ivRoomState(code).grouping.groups { #expect(g.members.count <= 2, "\(strategy): \(g.name) holds \(g.members)") }
    }

    @Test(arguments: [
        ["A", "A", "A", "A", "A", "A", "B", "B", "B", "C", "C", "C"],
        ["A", "A", "A", "A", "A", "B", "B", "B", "B", "C", "C", "D", "", ""],
    ])
    func mixedOrganizationsSpreadsEveryOrganization(_ orgs: [String]) {
        for (groups, seed) in [(3, UInt64(5)), (4, 6), (2, 7)] {
            var h = Harness()
            h.coordinator = Coordinator(entropy: SeededEntropy(seed: seed), hasher: TestHasher())
            let code = h.ivRoom(orgs)
            _ = h.send(1, .createGroups(.assigned, (0..<groups).map { .init(name: "G\($0)") }))
            #expect(h.send(1, .assignGroups(explicit: nil, strategy: "mixed-organizations"))["assigned"] == Value(orgs.count))
            let gs = h.ivRoomState(code).grouping.groups
            #expect(gs.flatMap(\.members).sorted() == Array(2...(orgs.count + 1)))
            for org in Set(orgs) {
                let perGroup = gs.map { g in g.members.filter { orgs[$0 - 2] == org }.count }
                #expect(perGroup.max()! - perGroup.min()! <= 1, "org \(org) over \(groups) groups: \(perGroup)")
            }
            #expect(gs.map(\.members.count).max()! - gs.map(\.members.count).min()! <= 1, "sizes \(gs.map(\.members.count))")
        }
    }

    /// Needs 1...4 from member 2; a named poll where 3, 4, 5 pick need 1, 2 and 6 need 2, 7 need 3.
    /// Member 9 submitted need 5 and did not vote; member 8 did neither.
    static func needsRoom() -> (Harness, String) {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E", "F", "G", "H"]) // 2...9
        for t in ["Grant writing", "Volunteer retention", "Data systems", "Board training"] {
            #expect(h.send(2, .submitNeed(text: t, tags: []))["type"] == "ack")
        }
        #expect(h.send(9, .submitNeed(text: "Fundraising events", tags: []))["need"] == 5)
        let poll = h.send(1, .createPoll(PollDefinition(question: "Most urgent?", kind: .single, overNeeds: true, anonymous: false), openNow: true))
        let id = Int(poll["poll"]!.intValue!)
        for (c, need) in [(3, 1), (4, 1), (5, 1), (2, 2), (6, 2), (7, 3)] {
            #expect(h.send(ConnectionID(c), .castVote(poll: id, ballot: ["option": Value(need)]))["type"] == "ack")
        }
        h.inbox = [:]
        return (h, code)
    }

    @Test func groupsFromNeedsUseTheTopRankedNeeds() {
        var (h, code) = Self.needsRoom()
        let ack = h.send(1, .groupsFromNeeds(count: 3, capacity: 4))
        #expect(ack["type"] == "ack" && ack["groups"] == [1, 2, 3])
        let g = h.ivRoomState(code).grouping
        #expect(g.mode == .selfSelect)
        #expect(g.groups.map(\.need) == [1, 2, 3])
        #expect(g.groups.map(\.name) == ["Grant writing", "Volunteer retention", "Data systems"])
        #expect(g.groups.allSatisfy { $0.capacity == 4 })
        #expect(h.ivGot(2, "groups.created").first?["groups"]?.arrayValue?.map { $0["need"] } == [1, 2, 3])
        // Members choose among them.
        #expect(h.send(8, .joinGroup(2))["type"] == "ack")

        // Fewer needs than asked for: one group per need.
        #expect(h.send(1, .groupsFromNeeds(count: 50, capacity: nil))["groups"] == [1, 2, 3, 4, 5])
        #expect(h.send(1, .groupsFromNeeds(count: 1, capacity: nil))["groups"] == [1])
        #expect(h.ivRoomState(code).grouping.groups.map(\.need) == [1])
        #expect(h.send(1, .groupsFromNeeds(count: 0, capacity: nil))["code"] == "invalid_field")
        #expect(h.send(1, .groupsFromNeeds(count: 201, capacity: nil))["code"] == "invalid_field")
        #expect(h.send(1, .groupsFromNeeds(count: 2, capacity: 0))["code"] == "invalid_field")
    }

    @Test func byNeedPlacesMembersByTheirTopNeed() {
        var (h, code) = Self.needsRoom()
        _ = h.send(1, .groupsFromNeeds(count: 3, capacity: nil))
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: "by-need"))["assigned"] == 8)
        for m in [3, 4, 5] { #expect(groupOf(h, code, m) == 1, "member \(m) chose need 1") }
        #expect(groupOf(h, code, 2) == 2, "the poll ballot beats the needs member 2 submitted")
        #expect(groupOf(h, code, 6) == 2)
        #expect(groupOf(h, code, 7) == 3)
        // 8 (no need) and 9 (need 5 has no group) are balanced into the smaller groups.
        #expect(Set([groupOf(h, code, 8), groupOf(h, code, 9)]) == [2, 3])
        #expect(sizes(h, code) == [3, 3, 2])
    }

    @Test func byNeedFallsBackToASubmittedNeedAndOverflowsToOtherGroups() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"]) // 2...5
        for c: ConnectionID in [2, 3, 4] { _ = h.send(c, .submitNeed(text: "Need from \(c)", tags: [])) } // needs 1, 2, 3
        _ = h.send(5, .submitNeed(text: "Another", tags: [])) // need 4
        // No poll: the ranking lists needs by id, so the groups are for needs 1 and 2, one seat each.
        _ = h.send(1, .groupsFromNeeds(count: 2, capacity: 1))
        #expect(h.ivRoomState(code).grouping.groups.map(\.need) == [1, 2])
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: "by-need"))["assigned"] == 2, "capacity 1 each")
        #expect(groupOf(h, code, 2) == 1 && groupOf(h, code, 3) == 2)
        #expect(groupOf(h, code, 4) == nil && groupOf(h, code, 5) == nil)
    }

    @Test func unknownStrategyIsRefused() {
        var h = Harness()
        _ = h.ivRoom(["A"])
        _ = h.send(1, .createGroups(.assigned, [.init(name: "A")]))
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: "alphabetical"))["code"] == "invalid_field")
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: nil))["code"] == "invalid_field")
    }

    // MARK: Saved groupings

    @Test func savedGroupingIsListedForFacilitatorsOnly() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"])
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red"), .init(name: "Blue")]))
        _ = h.send(1, .assignGroups(explicit: [2: 1, 3: 1, 4: 2, 5: 2], strategy: nil))
        h.inbox = [:]
        let ack = h.send(1, .saveGrouping(" morning "))
        #expect(ack["type"] == "ack" && ack["name"] == "morning" && ack["members"] == 4)
        #expect(h.ivGot(2, "groups.saved").map { $0["name"] } == ["morning"])
        #expect(h.ivState(code, for: 1, "groups")["saved"] == ["morning"])
        #expect(h.ivState(code, for: 2, "groups")["saved"] == nil)
        #expect(h.ivRoomState(code).grouping.saved["morning"] == [2: "Red", 3: "Red", 4: "Blue", 5: "Blue"])
        #expect(h.send(1, .saveGrouping("  "))["code"] == "invalid_field")
        #expect(h.send(2, .saveGrouping("mine"))["code"] == "not_facilitator")
        #expect(h.send(1, .applyGrouping("evening"))["code"] == "grouping_not_found")
    }

    @Test func reapplyingASavedGroupingRestoresItAndPlacesNewcomers() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D", "E"]) // 2...6
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red", capacity: 3), .init(name: "Blue", capacity: 3)]))
        _ = h.send(1, .assignGroups(explicit: [2: 1, 3: 1, 4: 2, 5: 2, 6: 2], strategy: nil))
        _ = h.send(1, .saveGrouping("morning"))
        // Reshuffled in between; two newcomers arrive.
        _ = h.send(1, .assignGroups(explicit: [2: 2, 4: 1, 5: 1], strategy: nil))
        h.join(7, code, "New One")
        h.join(8, code, "New Two")
        let ack = h.send(1, .applyGrouping("morning"))
        #expect(ack["type"] == "ack" && ack["placed"] == 2)
        #expect(members(h, code, 1).sorted() == [2, 3, 7], "newcomer to the emptier group")
        #expect(members(h, code, 2).sorted() == [4, 5, 6])
        #expect(groupOf(h, code, 8) == nil, "no seat left for the second newcomer")
    }

    @Test func reapplyingASavedGroupingDropsDepartedMembers() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C", "D"]) // 2...5
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red"), .init(name: "Blue")]))
        _ = h.send(1, .assignGroups(explicit: [2: 1, 3: 1, 4: 2, 5: 2], strategy: nil))
        _ = h.send(1, .saveGrouping("morning"))
        #expect(h.send(3, .leave)["type"] == "ack")
        h.join(6, code, "Newcomer")
        #expect(h.send(1, .applyGrouping("morning"))["placed"] == 1)
        #expect(members(h, code, 2).sorted() == [4, 5])
        #expect(groupOf(h, code, 6) != nil)
        let all = h.ivRoomState(code).grouping.groups.flatMap(\.members)
        do {
            #expect(!all.contains(3))
            #expect(members(h, code, 1).sorted() == [2, 6])
        }
    }

    // MARK: Announcements

    @Test func announcementsGoToTheRoomOrOnlyToAGroup() {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C"]) // 2...4
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red"), .init(name: "Blue")]))
        _ = h.send(1, .assignGroups(explicit: [2: 1, 3: 1, 4: 2], strategy: nil))
        h.inbox = [:]
        #expect(h.send(1, .announce(text: "Back in 5", group: nil))["type"] == "ack")
        for c: ConnectionID in [1, 2, 3, 4] {
            let a = h.ivGot(c, "room.announcement")
            #expect(a.count == 1 && a.first?["text"] == "Back in 5" && a.first?["group"] == nil)
        }
        h.inbox = [:]
        let seq = h.ivRoomState(code).seq
        let ack = h.send(1, .announce(text: "Red: wrap up", group: 1))
        #expect(ack["type"] == "ack" && ack["delivered"] == 2)
        for c: ConnectionID in [2, 3] {
            let a = h.ivGot(c, "room.announcement")
            #expect(a.count == 1 && a.first?["text"] == "Red: wrap up" && a.first?["group"] == 1 && a.first?["room"] == .string(code))
        }
        #expect(h.ivGot(4, "room.announcement").isEmpty && h.ivGot(1, "room.announcement").isEmpty)
        #expect(h.ivRoomState(code).seq == seq, "a group announcement is no room event")
        #expect(h.send(1, .announce(text: "x", group: 9))["code"] == "group_not_found")
        #expect(h.send(1, .announce(text: "  ", group: nil))["code"] == "invalid_field")
        #expect(h.send(2, .announce(text: "hi", group: nil))["code"] == "not_facilitator")
    }

    // MARK: Timers

    @Test func timersEndAtTheirTimeWithThePlenaryMessage() {
        var h = Harness()
        let code = h.ivRoom(["A", "B"])
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red")]))
        h.inbox = [:]
        let room = h.send(1, .startTimer(seconds: 90, label: "Break", group: nil))
        let t1 = h.now + 90_000
        #expect(room["type"] == "ack" && room["timer"] == 1 && room["endsAt"] == .int(t1))
        let group = h.send(1, .startTimer(seconds: 60, label: "Breakout", group: 1))
        let t2 = h.now + 60_000
        #expect(group["timer"] == 2 && group["endsAt"] == .int(t2))
        let started = h.ivGot(2, "timer.started")
        #expect(started.map { $0["timer"]?["label"] } == ["Break", "Breakout"])
        #expect(started.last?["timer"]?["group"] == 1 && started.first?["timer"]?["group"] == nil)
        #expect(h.ivState(code, for: 2, "groups")["timers"]?.arrayValue?.count == 2)

        h.ivTick(t2 - 1)
        #expect(h.ivGot(2, "timer.ended").isEmpty)
        h.ivTick(t2)
        var ended = h.ivGot(2, "timer.ended")
        #expect(ended.count == 1)
        #expect(ended.first?["timer"]?["id"] == 2 && ended.first?["message"] == "Time is up: please come back to the plenary.")
        h.ivTick(t1 - 1)
        #expect(h.ivGot(2, "timer.ended").count == 1)
        h.ivTick(t1)
        ended = h.ivGot(2, "timer.ended")
        #expect(ended.count == 2 && ended.last?["timer"]?["id"] == 1 && ended.last?["message"] == "Time is up.")
        h.ivTick(t1 + 1_000_000)
        #expect(h.ivGot(2, "timer.ended").count == 2, "each timer ends once")
        #expect(h.ivRoomState(code).grouping.timers.isEmpty)
        #expect(h.ivGot(1, "timer.ended").count == 2)
    }

    @Test func stoppingATimerEndsItOnce() {
        var h = Harness()
        let code = h.ivRoom(["A"])
        let id = Int(h.send(1, .startTimer(seconds: 600, label: "", group: nil))["timer"]!.intValue!)
        h.inbox = [:]
        #expect(h.send(2, .stopTimer(id))["code"] == "not_facilitator")
        #expect(h.send(1, .stopTimer(id))["type"] == "ack")
        #expect(h.ivGot(2, "timer.ended").count == 1)
        #expect(h.send(1, .stopTimer(id))["code"] == "timer_not_found")
        #expect(h.send(1, .stopTimer(77))["code"] == "timer_not_found")
        h.ivTick(h.now + 700_000)
        #expect(h.ivGot(2, "timer.ended").count == 1)
        // Timer ids keep counting.
        #expect(h.send(1, .startTimer(seconds: 1, label: "next", group: nil))["timer"] == Value(id + 1))
        #expect(h.ivRoomState(code).grouping.timers.count == 1)
    }

    // MARK: Errors

    @Test func everyGroupErrorCode() {
        var h = Harness()
        let code = h.ivRoom(["A", "B"])
        // Before any groups.
        #expect(h.send(1, .assignGroups(explicit: [2: 1], strategy: nil))["code"] == "no_groups")
        #expect(h.send(1, .assignGroups(explicit: nil, strategy: "balanced"))["code"] == "no_groups")
        #expect(h.send(2, .joinGroup(1))["code"] == "not_allowed", "no self-select groups yet")
        #expect(h.send(1, .groupsFromNeeds(count: 3, capacity: nil))["code"] == "no_needs")
        #expect(h.send(1, .startTimer(seconds: 10, label: "x", group: 1))["code"] == "group_not_found")
        #expect(h.send(1, .announce(text: "x", group: 1))["code"] == "group_not_found")
        #expect(h.send(1, .stopTimer(1))["code"] == "timer_not_found")
        #expect(h.send(1, .applyGrouping("none"))["code"] == "grouping_not_found")
        _ = h.send(1, .saveGrouping("empty"))
        #expect(h.send(1, .applyGrouping("empty"))["code"] == "no_groups")

        // Facilitator only.
        #expect(h.send(2, .createGroups(.selfSelect, [.init(name: "x")]))["code"] == "not_facilitator")
        #expect(h.send(2, .assignGroups(explicit: nil, strategy: "balanced"))["code"] == "not_facilitator")
        #expect(h.send(2, .groupsFromNeeds(count: 1, capacity: nil))["code"] == "not_facilitator")
        #expect(h.send(2, .applyGrouping("empty"))["code"] == "not_facilitator")
        #expect(h.send(2, .startTimer(seconds: 10, label: "x", group: nil))["code"] == "not_facilitator")

        // Invalid creations.
        #expect(h.send(1, .createGroups(.assigned, []))["code"] == "invalid_field")
        #expect(h.send(1, .createGroups(.assigned, [.init(name: "ok"), .init(name: " ")]))["code"] == "invalid_field")
        #expect(h.send(1, .createGroups(.assigned, [.init(name: "x", capacity: 0)]))["code"] == "invalid_field")
        #expect(h.send(1, .createGroups(.assigned, (0...200).map { .init(name: "G\($0)") }))["code"] == "too_large")
        #expect(h.send(1, .createGroups(.assigned, [.init(name: String(repeating: "n", count: 201))]))["code"] == "too_large")
        #expect(h.ivRoomState(code).grouping.groups.isEmpty)
        #expect(h.send(1, .startTimer(seconds: 0, label: "x", group: nil))["code"] == "invalid_field")
        #expect(h.send(1, .startTimer(seconds: 86_401, label: "x", group: nil))["code"] == "invalid_field")

        _ = h.send(1, .createGroups(.selfSelect, [.init(name: "One", capacity: 1)]))
        #expect(h.send(2, .joinGroup(2))["code"] == "group_not_found")
        #expect(h.send(2, .leaveGroup)["code"] == "not_in_group")
        #expect(h.send(2, .joinGroup(1))["type"] == "ack")
        #expect(h.send(3, .joinGroup(1))["code"] == "group_full")
        #expect(h.send(9, .joinGroup(1))["code"] == "not_joined")
    }

    // MARK: Durability

    static func busyGrouping() -> (Harness, String) {
        var (h, code) = needsRoom()
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Red", description: "d", capacity: 4), .init(name: "Blue")]))
        _ = h.send(1, .assignGroups(explicit: nil, strategy: "mixed-organizations"))
        _ = h.send(1, .saveGrouping("mixed"))
        _ = h.send(1, .groupsFromNeeds(count: 3, capacity: 3))
        for c: ConnectionID in [2, 3, 4] { _ = h.send(c, .joinGroup(1)) }
        _ = h.send(5, .joinGroup(2))
        _ = h.send(2, .joinGroup(3)) // a move, not a removal (removals: see the test below)
        _ = h.send(1, .saveGrouping("chosen"))
        _ = h.send(1, .announce(text: "Halfway", group: nil))
        _ = h.send(1, .startTimer(seconds: 30, label: "Short", group: 1))
        _ = h.send(1, .startTimer(seconds: 900, label: "Long", group: nil))
        h.ivTick(h.now + 31_000) // the short one ends
        return (h, code)
    }

    @Test func journalReplayAndSnapshotRebuildTheGroupingExactly() throws {
        let (h, code) = Self.busyGrouping()
        let live = h.ivRoomState(code)
        #expect(live.grouping.saved.keys.sorted() == ["chosen", "mixed"] && live.grouping.timers.count == 1)
        #expect(live.grouping.groups.map(\.members) == [[3, 4], [5], [2]])
        #expect(live.grouping.nextTimerID == 3)

        var fresh = Coordinator(entropy: SeededEntropy(seed: 3), hasher: TestHasher())
        for e in h.journal { try fresh.replay(e) }
        #expect(fresh.rooms[code]!.grouping == live.grouping)
        #expect(fresh.rooms[code]!.snapshotValue == live.snapshotValue)

        let restored = try Room(snapshot: live.snapshotValue)
        #expect(restored.grouping == live.grouping)
        #expect(restored.snapshotValue == live.snapshotValue)

        // A restored room's timer still ends, and its saved grouping still applies.
        var c = Coordinator(entropy: SeededEntropy(seed: 3), hasher: TestHasher())
        c.restore(restored)
        let ended = c.tick(at: live.grouping.timers[0].endsAt)
        #expect(ended.contains { if case .journal(let j) = $0 { j.op["op"] == "gr.timerEnded" } else { false } })
    }

    /// `group.leave` (and a strategy that leaves a member unplaced) journals `{"member": id, "group": null}`;
    /// replay must take the member out again.
    @Test func removalsFromGroupsSurviveReplay() throws {
        var h = Harness()
        let code = h.ivRoom(["A", "B", "C"]) // 2...4
        _ = h.send(1, .createGroups(.selfSelect, [.init(name: "Red", capacity: 1), .init(name: "Blue")]))
        _ = h.send(2, .joinGroup(1))
        _ = h.send(3, .joinGroup(2))
        #expect(h.send(2, .leaveGroup)["type"] == "ack")
        _ = h.send(1, .createGroups(.assigned, [.init(name: "Tiny", capacity: 1)]))
        _ = h.send(1, .assignGroups(explicit: [4: 1], strategy: nil))
        _ = h.send(1, .assignGroups(explicit: nil, strategy: "balanced")) // two of three stay unplaced
        let live = h.ivRoomState(code).grouping
        #expect(live.groups.flatMap(\.members).count == 1)
        let moves = h.journal.compactMap { $0.op["op"] == "gr.members" ? $0.op["moves"]?.arrayValue : nil }
        #expect(moves.contains { $0.contains { $0["member"] == 2 && $0["group"] == .null } }, "the leave is journaled")
        var fresh = Coordinator(entropy: SeededEntropy(seed: 3), hasher: TestHasher())
        for e in h.journal { try fresh.replay(e) }
        do {
            #expect(fresh.rooms[code]!.grouping == live)
        }
        var c2 = Harness()
        let code2 = c2.ivRoom(["A"])
        _ = c2.send(1, .createGroups(.selfSelect, [.init(name: "Red")]))
        _ = c2.send(2, .joinGroup(1))
        _ = c2.send(2, .leaveGroup)
        var fresh2 = Coordinator(entropy: SeededEntropy(seed: 3), hasher: TestHasher())
        for e in c2.journal { try fresh2.replay(e) }
        do {
            #expect(fresh2.rooms[code2]!.grouping.groups[0].members == [])
        }
    }
}
