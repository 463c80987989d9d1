import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// Issue 19: a community over real sockets, across a restart of the server on the same data folder.
@Suite(.serialized) struct CommunityIntegrationTests {

    @Test func aCommunityKeepsItsMembersAndBacklogAcrossARestart() throws {
        let dir = TestServer.freshDataDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cred: Value.Object = [:]
        var keys: [String] = []
        var firstRoom = ""
        do {
            let server = try TestServer.start(dataDir: dir, removeDataOnStop: false)
            defer { server.stop() }
            let admin = try server.client()
            let created = try admin.ack(["type": "community.create", "name": "Peer network"])
            cred = ["community": .string(try created.string("community")), "facilitatorKey": .string(try created.string("facilitatorKey"))]
            let imported = try admin.ack(
                .object(
                    cred.merging([
                        "type": "community.import",
                        "members": [["name": "Ana", "organization": "Clinic", "expertise": ["grants"]], ["name": "Ben", "organization": "Hub"]],
                    ])))
            keys = try (imported["members"]?.arrayValue ?? []).map { try $0.string("communityKey") }
            #expect(keys.count == 2)

            let fac = try server.client()
            let room = try fac.ack(.object(cred.merging(["type": "room.create", "title": "February", "name": "Fay"])))
            firstRoom = try room.string("room")
            _ = try fac.event("room.state")
            let walkIn = try server.client()
            #expect(try walkIn.errorCode(["type": "room.join", "room": .string(firstRoom), "name": "Walk-in"]) == "community_key_required")
            let ana = try server.client()
            let joined = try ana.ack(["type": "room.join", "room": .string(firstRoom), "communityKey": .string(keys[0])])
            #expect(joined["communityMember"] == 1)
            let state = try ana.event("room.state")
            #expect(state["you"]?["name"] == "Ana" && state["you"]?["expertise"] == ["grants"])
            _ = try ana.ack(["type": "need.submit", "text": "Grant writing"])
            _ = try fac.ack(["type": "room.close"])
        }
        // The clean stop wrote a final snapshot with the community; the restart reads it back (the journal before
        // the snapshot's LSN is not replayed, so a snapshot without communities would lose this one).
        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/snapshots")) ?? []
        #expect(snapshots.contains { $0.hasSuffix(".snap") })
        let server = try TestServer.start(dataDir: dir, removeDataOnStop: false)
        defer { server.stop() }
        let admin = try server.client()
        let export = try admin.ack(.object(cred.merging(["type": "community.export"])))
        #expect(export["members"]?.arrayValue?.map { $0["name"] } == ["Ana", "Ben"])
        #expect(export["backlog"]?.arrayValue?.first?["text"] == "Grant writing")
        #expect(export["sessions"]?.arrayValue?.first?["room"] == .string(firstRoom))

        let fac = try server.client()
        let room = try fac.ack(.object(cred.merging(["type": "room.create", "title": "March", "name": "Fay"])))
        #expect(room["backlogNeeds"] == 1)
        let facState = try fac.event("room.state")
        #expect(facState["needs"]?.arrayValue?.first?["text"] == "Grant writing")
        let ben = try server.client()
        let joined = try ben.ack(["type": "room.join", "room": room["room"]!, "communityKey": .string(keys[1])])
        #expect(joined["communityMember"] == 2)

        // A reissued key works at once; the old one no longer does.
        let re = try admin.ack(.object(cred.merging(["type": "community.reissueKey", "member": 2])))
        let stale = try server.client()
        #expect(try stale.errorCode(["type": "room.join", "room": room["room"]!, "communityKey": .string(keys[1])]) == "bad_credentials")
        let fresh = try server.client()
        #expect(try fresh.ack(["type": "room.join", "room": room["room"]!, "communityKey": re["communityKey"]!])["member"] == joined["member"])
    }

    @Test func communityCreationFollowsTheRoomCreationPolicy() throws {
        let server = try TestServer.start { $0.roomCreateToken = "let-me-in" }
        defer { server.stop() }
        let c = try server.client()
        #expect(try c.errorCode(["type": "community.create", "name": "Peers"]) == "not_allowed")
        #expect(try c.ack(["type": "community.create", "name": "Peers", "createToken": "let-me-in"])["name"] == "Peers")
    }
}

extension Value.Object {
    fileprivate func merging(_ other: Value.Object) -> Value.Object {
        var out = self
        for (k, v) in other { out[k] = v }
        return out
    }
}
