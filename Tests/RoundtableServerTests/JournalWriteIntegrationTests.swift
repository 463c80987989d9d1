import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// Where the journal is written: under storage.fsync none and everysec the service thread writes it itself and
// releases the acks in the same pass (no writer thread waking the loop); always keeps the writer thread.

@Suite struct JournalWriteIntegrationTests {
    func metric(_ server: TestServer, _ name: String) throws -> Double? { try server.metric(name) }

    @Test(arguments: ["none", "everysec", "always"])
    func acksWaitForTheWriteAndOnlyAlwaysWakesTheLoopForThem(fsync: String) throws {
        let dir = TestServer.freshDataDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var code = ""
        var annToken = ""
        do {
            let server = try TestServer.start(dataDir: dir, removeDataOnStop: false) { $0.fsync = fsync }
            defer { server.stop() }
            let room = try server.createRoom(title: "Journal")
            let ann = try server.join(room.code, name: "Ann")
            code = room.code
            annToken = ann.token
            for i in 0..<30 { _ = try ann.client.ack(["type": "member.update", "bio": .string("bio \(i)")]) }
            let entries = try #require(try metric(server, "roundtable_journal_entries_total"))
            #expect(entries >= 32, "the updates were not journaled")
            let wakeups = try #require(try metric(server, "roundtable_journal_writer_wakeups_total"))
            if fsync == "always" {
                #expect(wakeups > 0, "under always the writer thread reports, and its report wakes the loop")
            } else {
                #expect(wakeups == 0, "under \(fsync) the service thread writes itself: nothing may wake it")
            }
            #expect(try metric(server, "roundtable_journal_pending_batches") == 0)
        }
        // Everything acknowledged is on disk: a restart brings back the last update.
        let second = try TestServer.start(dataDir: dir, removeDataOnStop: false) { $0.fsync = fsync }
        defer { second.stop() }
        let ann = try second.client()
        _ = try ann.ack(["type": "room.join", "room": .string(code), "token": .string(annToken)])
        let state = try ann.event("room.state")
        let profile = state["members"]?.arrayValue?.first { $0["id"] == 2 }
        #expect(profile?["bio"] == "bio 29")
    }
}
