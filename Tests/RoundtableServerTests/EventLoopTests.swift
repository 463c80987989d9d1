import Foundation
import RoundtableCore
import RoundtableServer
import Testing

// server.eventLoop = libev: lws runs on its libev plugin (a loop the server owns, run one pass at a time).
// The same protocol must come out: joins, votes, a broadcast to everyone, and close 1001 to every client on stop.

@Suite(.serialized) struct EventLoopTests {
    static var pluginInstalled: Bool { FileManager.default.isReadableFile(atPath: RoundtableServer.libevPluginPath) }

    @Test(.enabled(if: pluginInstalled)) func libevServesJoinsVotesAndABroadcast() throws {
        let server = try TestServer.start { $0.eventLoop = "libev" }
        defer { server.stop() }
        #expect(server.node.server.eventLoopName == "libev (epoll)")
        let room = try server.createRoom(title: "On libev")
        let members = try (1...20).map { try server.join(room.code, name: "M\($0)") }
        let poll = try room.fac.ack(["type": "poll.create", "question": "Which?", "kind": "single", "options": ["a", "b"], "open": true])
        let id = Int64(try poll.int("poll"))
        for (i, m) in members.enumerated() {
            _ = try m.client.ack(["type": "vote.cast", "poll": .int(id), "option": .int(Int64(1 + i % 2))])
        }
        // The broadcast: every member (and the facilitator) sees the results of all 20 ballots.
        for c in members.map(\.client) + [room.fac] {
            let r = try c.waitFor { $0["type"] == "poll.results" && $0["poll"] == .int(id) && $0["ballots"] == 20 }
            #expect(r["ballots"] == 20)
        }
        try server.assertServing("on libev")
    }

    @Test(.enabled(if: pluginInstalled)) func libevStopSends1001ToEveryClient() throws {
        let server = try TestServer.start { $0.eventLoop = "libev" }
        defer { server.stop() }
        let room = try server.createRoom(title: "Closing on libev")
        // Enough clients that closes span several loop passes; plus one that never joined a room.
        let members = try (1...150).map { try server.join(room.code, name: "M\($0)") }
        let idle = try server.raw()
        server.node.server.stop()
        for c in members.map(\.client) + [room.fac] {
            #expect(try c.expectClose() == 1001)
        }
        #expect(try idle.expectClose() == 1001)
        server.node.server.wait()
    }

    @Test(.enabled(if: pluginInstalled)) func libevStopReachesEveryClientBeyondOneBatch() throws {
        let server = try TestServer.start { $0.eventLoop = "libev" }
        defer { server.stop() }
        // More than RoundtableServer.stopBatch (256): the 1001s go out a batch at a time, and all of them must.
        let clients = try (0..<700).map { _ in try server.raw() }
        server.node.server.stop()
        var codes: [UInt16?] = []
        for c in clients { codes.append(try c.expectClose()) }
        #expect(codes.filter { $0 == 1001 }.count == clients.count)
        server.node.server.wait()
    }

    @Test func libevIsTheDefaultAndPollStillServes() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        #expect(server.node.server.eventLoopName == "libev (epoll)")
        let poll = try TestServer.start { $0.eventLoop = "poll" }
        defer { poll.stop() }
        #expect(poll.node.server.eventLoopName == "poll")
        try poll.assertServing("on poll")
    }

    @Test func onlyPollAndLibevAreAccepted() throws {
        var c = Configuration()
        #expect(c.eventLoop == "libev")
        c.eventLoop = "libuv"
        #expect(throws: Configuration.Invalid.self) { try c.validate() }
        c.eventLoop = "poll"
        try c.validate()
    }
}
