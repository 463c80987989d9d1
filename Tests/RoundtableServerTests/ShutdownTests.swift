import Foundation
import RoundtableServer
import Testing

// Issue #16: a clean stop that cannot write its final snapshot must not look like a clean stop.

@Suite(.serialized) struct ShutdownTests {
    func stopService(_ server: TestServer) {
        server.node.server.stop()
        server.node.server.wait()
    }

    @Test func aFinalSnapshotThatCannotBeWrittenIsReported() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom(title: "Stopping")
        _ = try room.fac.ack(["type": "need.submit", "text": "Keep me"])
        stopService(server)
        // A regular file where the snapshot folder should be: every snapshot write fails.
        let snapshots = server.dataDir + "/snapshots"
        try? FileManager.default.removeItem(atPath: snapshots)
        try "not a folder".write(toFile: snapshots, atomically: false, encoding: .utf8)
        #expect(server.node.close() == false)
        #expect(server.node.server.recoveryFailure == nil)
    }

    @Test func aWrittenFinalSnapshotIsACleanStop() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom(title: "Stopping")
        _ = try room.fac.ack(["type": "need.submit", "text": "Keep me"])
        stopService(server)
        #expect(server.node.close() == true)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/snapshots")) ?? []
        #expect(files.contains { $0.hasSuffix(".snap") })
    }
}
