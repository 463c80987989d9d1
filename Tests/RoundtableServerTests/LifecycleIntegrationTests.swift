import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// Issue "operations": room.close and idle archiving against the real server, its data folder and HTTP.

@Suite(.serialized) struct LifecycleIntegrationTests {
    func metric(_ server: TestServer, _ name: String) throws -> Double? { try server.metric(name) }

    /// Polls until `condition` holds; bounded, so a broken feature fails instead of hanging.
    func eventually(_ what: String, within seconds: Double = 15, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        throw TestFailure("not within \(seconds) s: \(what)")
    }

    func archiveFiles(_ server: TestServer) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/archive")) ?? []).filter { $0.hasSuffix(".room") }
    }

    @Test func closingFreezesTheSessionForEveryone() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom(title: "Last meeting")
        let ann = try server.join(room.code, name: "Ann")
        let poll = try room.fac.ack(["type": "poll.create", "question": "Best?", "kind": "single", "options": ["a", "b"], "open": true])
        let id = try poll.int("poll")
        _ = try ann.client.ack(["type": "vote.cast", "poll": .int(Int64(id)), "option": 1])
        #expect(try ann.client.errorCode(["type": "room.close"]) == "not_facilitator")
        let closed = try room.fac.ack(["type": "room.close"])
        #expect(closed["closedAt"]?.intValue != nil)
        _ = try ann.client.event("poll.closed")
        let event = try ann.client.event("room.closed")
        #expect(event["closedAt"] == closed["closedAt"])
        let results = try ann.client.waitFor { $0["type"] == "poll.results" && $0["final"] == true }
        #expect(results["ballots"] == 1)
        #expect(try ann.client.errorCode(["type": "vote.cast", "poll": .int(Int64(id)), "option": 2]) == "room_closed")
        #expect(try ann.client.errorCode(["type": "need.submit", "text": "More time"]) == "room_closed")
        let late = try server.client()
        #expect(try late.errorCode(["type": "room.join", "room": .string(room.code), "name": "Late"]) == "room_closed")
        // A returning member reads the frozen state.
        let again = try server.client()
        _ = try again.ack(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)])
        let state = try again.event("room.state")
        #expect(state["closedAt"] == closed["closedAt"])
    }

    @Test func idleRoomsAreArchivedAndTheirFacilitatorReopensThem() throws {
        let server = try TestServer.start {
            $0.archiveAfterIdleSeconds = 1; $0.fsync = "always"
        }
        defer { server.stop() }
        let room = try server.createRoom(title: "Quiet circle")
        let ann = try server.join(room.code, name: "Ann", organization: "Food Bank")
        _ = try ann.client.ack(["type": "need.submit", "text": "Volunteer scheduling"])
        let poll = try room.fac.ack([
            "type": "poll.create", "question": "Which?", "kind": "single", "options": ["a", "b"], "open": true, "anonymous": true,
        ])
        let id = Int64(try poll.int("poll"))
        _ = try ann.client.ack(["type": "vote.cast", "poll": .int(id), "option": 1])
        // Someone connected keeps a room live however quiet it is.
        usleep(1_500_000)
        #expect(try metric(server, "roundtable_rooms_archived") == 0)
        room.fac.ws.close()
        ann.client.ws.close()

        try eventually("the room is archived") { try metric(server, "roundtable_rooms_archived") == 1 }
        #expect(try metric(server, "roundtable_rooms") == 0)
        #expect(archiveFiles(server).count == 1)
        let member = try server.client()
        #expect(try member.errorCode(["type": "room.join", "room": .string(room.code), "name": "New"]) == "room_archived")
        let annBack = try server.client()
        #expect(try annBack.errorCode(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)]) == "room_archived")
        let wrong = try server.client()
        #expect(try wrong.errorCode(["type": "room.join", "room": .string(room.code), "name": "F", "facilitatorKey": "nope"]) == "bad_credentials")

        // The report reads the archive without reopening it.
        let report = try HTTPTestClient.get(
            port: server.port, path: "/rooms/\(room.code)/report.json", headers: ["Authorization": "Bearer \(room.facilitatorKey)"])
        #expect(report.status == 200)
        #expect(String(decoding: report.body, as: UTF8.self).contains("Volunteer scheduling"))
        #expect(try metric(server, "roundtable_rooms_archived") == 1)

        let fac = try server.client()
        let ack = try fac.ack(["type": "room.join", "room": .string(room.code), "name": "Fay", "facilitatorKey": .string(room.facilitatorKey)])
        #expect(ack["role"] == "facilitator")
        let state = try fac.event("room.state")
        #expect(state["title"] == "Quiet circle")
        #expect(state["needs"]?.arrayValue?.count == 1)
        #expect(state["polls"]?.arrayValue?.first?["results"]?["ballots"] == 1)
        #expect(try metric(server, "roundtable_rooms_archived") == 0)
        #expect(try metric(server, "roundtable_rooms_reopened_total") == 1)
        try eventually("the archive file is deleted once the reopen is durable") { archiveFiles(server).isEmpty }

        // Members' tokens work again, and the anonymous poll kept its voter key: Ann's new vote replaces her old one.
        let annAgain = try server.client()
        _ = try annAgain.ack(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)])
        _ = try annAgain.ack(["type": "vote.cast", "poll": .int(id), "option": 2])
        let results = try fac.waitFor { $0["type"] == "poll.results" && $0["poll"] == .int(id) }
        #expect(results["ballots"] == 1)
    }

    @Test func anArchivedRoomStaysArchivedAcrossARestartAndStillReopens() throws {
        let dir = TestServer.freshDataDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var code = ""
        var facToken = ""
        do {
            let first = try TestServer.start(dataDir: dir, removeDataOnStop: false) { $0.archiveAfterIdleSeconds = 1 }
            defer { first.stop() }
            let room = try first.createRoom(title: "Across restarts")
            _ = try room.fac.ack(["type": "need.submit", "text": "Shared storage"])
            code = room.code
            facToken = room.token
            // A live room too: the clean stop then writes a final snapshot, which must carry the archive index.
            let busy = try first.createRoom(title: "Still busy")
            room.fac.ws.close()
            try eventually("the room is archived") { try metric(first, "roundtable_rooms_archived") == 1 }
            _ = try busy.fac.ack(["type": "need.submit", "text": "Keep me live"])
        }
        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/snapshots")) ?? []
        #expect(snapshots.contains { $0.hasSuffix(".snap") }, "the clean stop wrote a final snapshot")
        let second = try TestServer.start(dataDir: dir, removeDataOnStop: false) { $0.archiveAfterIdleSeconds = 0 }
        defer { second.stop() }
        #expect(try metric(second, "roundtable_rooms_archived") == 1)
        #expect(try metric(second, "roundtable_rooms") == 1)
        let fac = try second.client()
        let ack = try fac.ack(["type": "room.join", "room": .string(code), "token": .string(facToken)])
        #expect(ack["role"] == "facilitator")
        let state = try fac.event("room.state")
        #expect(state["title"] == "Across restarts")
        #expect(state["needs"]?.arrayValue?.first?["text"] == "Shared storage")
    }
}
