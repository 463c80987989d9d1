import Testing

@testable import RoundtableCore

/// What a session starts with when the backlog is long: at most `maxOptionsPerPoll` open needs, the best
/// ranked first, so its poll over needs opens at once, members can still add needs, and every joiner's
/// `room.state` stays the same size whatever the backlog holds (BENCHMARKS.md, community joins).
@Suite struct SessionSeedTests {
    @Test func aLongBacklogSeedsOnlyWhatOnePollCanRank() {
        var h = Harness()
        let cred = h.createCommunity()
        _ = h.openSession(cred, from: 1)
        for n in 0..<150 { #expect(h.send(1, .submitNeed(text: "Need \(n)", tags: []))["type"] == "ack") }
        #expect(h.send(1, .closeRoom)["type"] == "ack")
        #expect(h.coordinator.communities[cred.id]!.openBacklog.count == 150)

        let code = h.openSession(cred, from: 2)
        let room = h.coordinator.rooms[code]!
        #expect(room.needs.count == Limits().maxOptionsPerPoll)
        #expect(room.activeNeeds.map(\.text) == (0..<100).map { "Need \($0)" })
        // The poll over needs opens at once, and there is room for the session's own needs.
        let poll = h.send(2, .createPoll(PollDefinition(question: "Most urgent?", kind: .single, overNeeds: true), openNow: true))
        #expect(poll["type"] == "ack", "\(poll)")
        #expect(h.send(2, .submitNeed(text: "A new one", tags: []))["type"] == "ack")
        // Nothing left out is lost: the other 50 stay open in the backlog for later sessions.
        #expect(h.coordinator.communities[cred.id]!.openBacklog.count == 150)
        let keys = h.importMembers(cred, [Roster.Row(name: "Ana")])
        _ = h.joinWithKey(3, code, keys["Ana"]!)
        let state = h.inbox[3]!.last { $0.type == "room.state" }!.body
        #expect(state["needs"]?.arrayValue?.count == 101)
    }
}
