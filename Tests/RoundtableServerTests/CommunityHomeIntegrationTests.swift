import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// Issue 19's member-level requests over real sockets: profile, directory, standing groups, view and a need in
// progress with an owner, all still there after a restart on the same data folder.
@Suite(.serialized) struct CommunityHomeIntegrationTests {

    @Test func profileDirectoryGroupsAndViewSurviveARestart() throws {
        let dir = TestServer.freshDataDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var fac: Value.Object = [:]
        var ana: Value.Object = [:]
        var need: Value = .null
        var group: Value = .null
        do {
            let server = try TestServer.start(dataDir: dir, removeDataOnStop: false)
            defer { server.stop() }
            let admin = try server.client()
            let created = try admin.ack(["type": "community.create", "name": "Peer network"])
            let id = Value.string(try created.string("community"))
            fac = ["community": id, "facilitatorKey": .string(try created.string("facilitatorKey"))]
            let imported = try admin.ack(
                .object(
                    fac.with([
                        "type": "community.import",
                        "members": [["name": "Ana", "organization": "Clinic", "expertise": ["grants"]], ["name": "Ben", "organization": "Hub"]],
                    ])))
            let keys = try (imported["members"]?.arrayValue ?? []).map { try $0.string("communityKey") }
            ana = ["community": id, "communityKey": .string(keys[0])]
            let ben: Value.Object = ["community": id, "communityKey": .string(keys[1])]

            // A session hands a need to the backlog; it goes in progress with a standing group as its owner.
            let host = try server.client()
            let room = try host.ack(.object(fac.with(["type": "room.create", "title": "February", "name": "Fay"])))
            let member = try server.client()
            _ = try member.ack(["type": "room.join", "room": room["room"]!, "communityKey": .string(keys[0])])
            _ = try member.ack(["type": "need.submit", "text": "Grant writing"])
            _ = try host.ack(["type": "room.close"])
            need = try admin.ack(.object(fac.with(["type": "community.export"])))["backlog"]?.arrayValue?.first?["need"] ?? .null
            let groups = try admin.ack(.object(fac.with(["type": "community.groups", "groups": [["name": "Grants team", "focus": [need], "members": [1]]]])))
            group = groups["groups"]?.arrayValue?.first ?? .null
            let status = try admin.ack(.object(fac.with(["type": "community.needStatus", "need": need, "status": "in_progress", "owner": group])))
            #expect(status["status"] == "in_progress" && status["owner"] == group)

            let profile = try admin.ack(.object(ana.with(["type": "community.profile", "bio": "Clinic manager", "expertise": ["grant writing", "data"]])))
            #expect(profile["me"]?["bio"] == "Clinic manager" && profile["me"]?["standingGroup"] == group)
            let found = try admin.ack(.object(ben.with(["type": "community.directory", "tag": "data"])))
            #expect(found["total"] == 1 && found["entries"]?.arrayValue?.first?["name"] == "Ana")
            // The member key is no facilitator key, and a request with both is refused.
            #expect(try admin.errorCode(.object(ana.with(["type": "community.groups", "groups": []]))) == "invalid_field")
            #expect(try admin.errorCode(.object(ben.with(["type": "community.view", "facilitatorKey": fac["facilitatorKey"]!]))) == "invalid_field")
            #expect(try admin.errorCode(.object(ana.with(["type": "community.view", "communityKey": "wrong"]))) == "bad_credentials")
        }
        let server = try TestServer.start(dataDir: dir, removeDataOnStop: false)
        defer { server.stop() }
        let c = try server.client()
        let view = try c.ack(.object(ana.with(["type": "community.view"])))
        #expect(view["role"] == "member" && view["me"]?["bio"] == "Clinic manager" && view["me"]?["expertise"] == ["grant writing", "data"])
        #expect(view["backlog"]?.arrayValue?.first?["status"] == "in_progress" && view["backlog"]?.arrayValue?.first?["owner"] == group)
        #expect(view["groups"]?.arrayValue?.first?["members"]?.arrayValue?.first?["name"] == "Ana")
        #expect(view["sessions"]?.arrayValue?.first?["members"] == 1 && view["sessions"]?.arrayValue?.first?["open"] == false)
        let helpers = try c.ack(.object(fac.with(["type": "community.directory", "need": need])))
        #expect(helpers["entries"]?.arrayValue?.map { $0["name"] } == ["Ana"])
        // The next session starts with the need in progress and the standing group, and places Ana in it.
        let host = try server.client()
        let room = try host.ack(.object(fac.with(["type": "room.create", "title": "March", "name": "Fay"])))
        #expect(room["backlogNeeds"] == 1)
        let member = try server.client()
        _ = try member.ack(["type": "room.join", "room": room["room"]!, "communityKey": ana["communityKey"]!])
        let state = try member.event("room.state")
        #expect(state["you"]?["bio"] == "Clinic manager")
        let g = state["groups"]?["groups"]?.arrayValue?.first
        #expect(g?["standing"] == group && g?["members"]?.arrayValue?.count == 1 && state["groups"]?["mode"] == "self-select")
    }
}

extension Value.Object {
    fileprivate func with(_ other: Value.Object) -> Value.Object {
        var out = self
        for (k, v) in other { out[k] = v }
        return out
    }
}
