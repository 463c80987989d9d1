import Testing

@testable import RoundtableCore

/// `needs.ranking` lists at most `maxHelpersPerNeed` helper ids per need, the earliest-joined current members
/// whose expertise matches, with `helperCount` the total: everyone gets the ranking, so uncapped it grew with
/// members × needs in every notice (docs/PROTOCOL.md, needs.ranking).
@Suite struct NeedsHelpersCapTests {
    /// Members 2…9 join in order; member 3 leaves, member 5 goes offline.
    func room(cap: Int) -> (Harness, String, grants: Int, both: Int) {
        var limits = Limits()
        limits.maxHelpersPerNeed = cap
        var h = Harness.polls(limits: limits)
        let code = h.pollRoom(members: 8)
        let expertise: [ConnectionID: [String]] = [
            2: ["data"], 3: ["grants"], 5: ["grants", "data"], 6: ["data"], 7: ["grants"], 8: ["grants"], 9: ["grants"],
        ]
        for (c, tags) in expertise.sorted(by: { $0.key < $1.key }) { _ = h.send(c, .updateMember(.init(expertise: tags))) }
        let grants = h.need(2, "Federal grants", tags: ["grants"])
        let both = h.need(4, "Grant data", tags: ["data", "grants"])
        _ = h.send(1, .removeMember(3))
        h.disconnect(5)
        h.flushAndDrain()
        return (h, code, grants, both)
    }

    func entry(_ ranking: Value?, _ need: Int) -> Value? {
        ranking?["needs"]?.arrayValue?.first { $0["need"]?.intValue == Int64(need) }
    }

    @Test func helpersAreCappedToTheEarliestJoinedCurrentMembersWithTheTotalCount() {
        var (h, code, grants, both) = room(cap: 3)
        for forFacilitator in [true, false] {
            let ranking = Value.object(h.coordinator.rankingValue(h.coordinator.rooms[code]!, forFacilitator: forFacilitator))
            // grants: 5, 7, 8, 9 match (3 left); the offline member 5 still counts and comes first.
            #expect(entry(ranking, grants)?["helpers"] == [5, 7, 8])
            #expect(entry(ranking, grants)?["helperCount"] == 4)
            // Either tag: 2, 5, 6, 7, 8, 9, each once (5 declares both).
            #expect(entry(ranking, both)?["helpers"] == [2, 5, 6])
            #expect(entry(ranking, both)?["helperCount"] == 6)
        }
        // A joiner's room.state and the next needs.ranking notice carry the same capped lists.
        h.join(20, code, "Late")
        let state = h.coordinator.stateNotice(code, for: 10).body["ranking"]
        #expect(entry(state, both)?["helpers"] == [2, 5, 6])
        #expect(entry(state, both)?["helperCount"] == 6)
        _ = h.send(2, .submitNeed(text: "Another", tags: []))
        h.tick(at: h.now + 10_000)
        let notice = h.received(6, "needs.ranking").last.map(Value.object)
        #expect(entry(notice, grants)?["helpers"] == [5, 7, 8])
        #expect(entry(notice, grants)?["helperCount"] == 4)
    }

    @Test func atOrBelowTheCapEveryHelperIsListed() {
        let (h, code, grants, both) = room(cap: 20)
        let ranking = Value.object(h.coordinator.rankingValue(h.coordinator.rooms[code]!, forFacilitator: false))
        #expect(entry(ranking, grants)?["helpers"] == [5, 7, 8, 9])
        #expect(entry(ranking, both)?["helpers"] == [2, 5, 6, 7, 8, 9])
        #expect(entry(ranking, both)?["helperCount"] == 6)
    }

    @Test func theDefaultCapHoldsInALargeRoom() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 30)
        for c in 2...31 { _ = h.send(ConnectionID(c), .updateMember(.init(expertise: ["grants"]))) }
        let need = h.need(2, "Federal grants", tags: ["grants"])
        let ranking = Value.object(h.coordinator.rankingValue(h.coordinator.rooms[code]!, forFacilitator: true))
        #expect(Limits().maxHelpersPerNeed == 20)
        #expect(entry(ranking, need)?["helpers"]?.arrayValue?.count == 20)
        #expect(entry(ranking, need)?["helpers"] == .array((2...21).map { Value($0) }))
        #expect(entry(ranking, need)?["helperCount"] == 30)
    }

    @Test func mergingListsCountsEachPositionOnce() {
        func merged(_ lists: [[Int]], _ cap: Int) -> [Int] {
            let (first, count) = Coordinator.firstHelpers(lists, cap: cap)
            return first + [count]
        }
        #expect(merged([], 5) == [0])
        #expect(merged([[0, 3, 4]], 2) == [0, 3, 3])
        #expect(merged([[1, 4, 9], [0, 4, 5], [4]], 3) == [0, 1, 4, 5])
        #expect(merged([[1, 2], [2, 3]], 0) == [3])
    }
}
