import Testing

@testable import RoundtableCore

/// Cluster placement: ids begin with the node's prefix, so a proxy routes on the id alone (docs/SCALING.md).
@Suite struct PlacementTests {
    @Test func communityIdsAndTheirSessionsCarryTheNodePrefix() {
        for prefix in ["", "A", "B1", "C0Z"] {
            var limits = Limits()
            limits.roomCodePrefix = prefix
            var h = Harness(limits: limits)
            for i in 0..<20 {
                let cred = h.createCommunity("Network \(i)", from: 90)
                #expect(cred.id.count == 10 && cred.id.hasPrefix(prefix + "C"), "\(prefix): \(cred.id)")
                #expect(cred.id.utf8.allSatisfy { Crockford.alphabet.contains($0) })
                let code = h.openSession(cred, from: ConnectionID(100 + i))
                #expect(code.hasPrefix(prefix) && code.count == limits.roomCodeLength, "\(prefix): \(code)")
                #expect(h.coordinator.rooms[code]?.settings.community == cred.id)
            }
            #expect(h.coordinator.communities.byID.count == 20)
        }
    }

    @Test func aCommunityIdIsFoundHoweverItIsTyped() {
        var limits = Limits()
        limits.roomCodePrefix = "B1"
        var h = Harness(limits: limits)
        let cred = h.createCommunity()
        let typed = Community.Credentials(id: String(cred.id.lowercased().map { $0 == "1" ? "l" : $0 }), key: cred.key)
        #expect(h.send(90, .exportCommunity(typed))["type"] == "ack")
    }
}
