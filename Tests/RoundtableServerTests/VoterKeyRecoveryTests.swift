import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableStore
import RoundtableWire
import Testing

// Issue #16: an unusable voter key file must never silently become a new key (a new key is a new
// pseudonym for every member, so everyone who voted in the open anonymous poll could vote again).

/// A data folder holding one room with an open anonymous poll and one ballot in it, the server stopped.
struct VotedFolder {
    let dir: String
    let code: String
    let poll: Int64
    let annToken: String
    let key: String
    var keysDir: String { dir + "/keys" }
    var keyFile: String { keysDir + "/\(code)-\(poll).key" }

    static func make() throws -> VotedFolder {
        let dir = TestServer.freshDataDir()
        let server = try TestServer.start(dataDir: dir, removeDataOnStop: false)
        defer { server.stop() }
        let room = try server.createRoom(title: "Secret ballot")
        let ann = try server.join(room.code, name: "Ann")
        let poll = try room.fac.ack([
            "type": "poll.create", "question": "Which?", "kind": "single", "options": ["a", "b"], "open": true, "anonymous": true,
        ])
        let id = Int64(try poll.int("poll"))
        _ = try ann.client.ack(["type": "vote.cast", "poll": .int(id), "option": 1])
        let key = try String(contentsOfFile: dir + "/keys/\(room.code)-\(id).key", encoding: .utf8)
        return VotedFolder(dir: dir, code: room.code, poll: id, annToken: ann.token, key: key)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// Recovery as the server runs it, on a fresh `Persistence` (its lock released when it goes).
    func recover() throws -> Coordinator {
        var logger = Logger(label: "roundtable.test")
        logger.logLevel = .critical
        let p = try Persistence(path: dir, fsync: .none, logger: logger)
        defer { p.close() }
        return try p.recover(limits: Limits())
    }
}

/// What is at `path` now: a regular file's bytes, "<dir>" or "<missing>".
func onDisk(_ path: String) -> String {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return "<missing>" }
    if isDir.boolValue { return "<dir>" }
    return (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<unreadable>"
}

@Suite(.serialized) struct VoterKeyRecoveryTests {
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case directoryInPlace, garbage, truncated, empty, trailingNewline, keysFolderIsAFile
        var testDescription: String { rawValue }
    }

    @Test(arguments: Damage.allCases) func anUnusableKeyStopsRecoveryAndIsLeftAlone(_ damage: Damage) throws {
        let f = try VotedFolder.make()
        defer { f.remove() }
        let fm = FileManager.default
        var culprit = f.keyFile
        switch damage {
        case .directoryInPlace:
            try fm.removeItem(atPath: f.keyFile)
            try fm.createDirectory(atPath: f.keyFile, withIntermediateDirectories: false)
        case .garbage: try "this is not a voter key, honest!".write(toFile: f.keyFile, atomically: false, encoding: .utf8)
        case .truncated: try String(f.key.prefix(20)).write(toFile: f.keyFile, atomically: false, encoding: .utf8)
        case .empty: try "".write(toFile: f.keyFile, atomically: false, encoding: .utf8)
        case .trailingNewline: try (f.key + "\n").write(toFile: f.keyFile, atomically: false, encoding: .utf8)
        case .keysFolderIsAFile:
            try fm.removeItem(atPath: f.keysDir)
            try "not a folder".write(toFile: f.keysDir, atomically: false, encoding: .utf8)
            culprit = f.keysDir
        }
        let before = onDisk(culprit)
        do {
            _ = try f.recover()
            Issue.record("recovery accepted a \(damage) key")
        } catch let error as KeyFileError {
            #expect(error.file == culprit)
            #expect(error.description.contains(culprit))
            #expect(!error.description.contains(f.key), "the message never quotes key material")
        }
        #expect(onDisk(culprit) == before, "the unusable key is not overwritten")
        #expect(!fm.fileExists(atPath: f.keyFile + ".tmp"))
    }

    @Test func theServerRefusesToServeAndSaysWhy() throws {
        let f = try VotedFolder.make()
        defer { f.remove() }
        try "0123".write(toFile: f.keyFile, atomically: false, encoding: .utf8)
        var logger = Logger(label: "roundtable.test")
        logger.logLevel = .critical
        let node = try Node.open(config: TestServer.defaultConfig(dataDir: f.dir), logger: logger)
        try node.server.start()
        node.server.wait() // recovery failing stops the server by itself
        #expect(node.close(), "nothing to snapshot: the failed recovery loaded no state")
        node.persistence.directory.unlock()
        let why = try #require(node.server.recoveryFailure)
        #expect(why.contains(f.keyFile))
        #expect(onDisk(f.keyFile) == "0123")
    }

    @Test func aValidKeyComesBackAndTheVoterKeepsTheirPseudonym() throws {
        let f = try VotedFolder.make()
        defer { f.remove() }
        try "stale".write(toFile: f.keyFile + ".tmp", atomically: false, encoding: .utf8)
        let c = try f.recover()
        #expect(c.rooms[f.code]?.polls[Int(f.poll)]?.voterKey == f.key)
        #expect(!FileManager.default.fileExists(atPath: f.keyFile + ".tmp"), "a leftover temp file (key material) is deleted")

        let server = try TestServer.start(dataDir: f.dir, removeDataOnStop: false)
        defer { server.stop() }
        let ann = try server.client()
        _ = try ann.ack(["type": "room.join", "room": .string(f.code), "token": .string(f.annToken)])
        let state = try ann.event("room.state")
        let poll = state["polls"]?.arrayValue?.first
        #expect(poll?["yourBallot"]?["option"] == 1, "the same key gives Ann the same pseudonym")
        _ = try ann.ack(["type": "vote.cast", "poll": .int(f.poll), "option": 2])
        let results = try ann.waitFor { $0["type"] == "poll.results" && $0["poll"] == .int(f.poll) }
        #expect(results["ballots"] == 1, "Ann's second vote replaces her first")
        #expect(onDisk(f.keyFile) == f.key)
    }

    @Test func aMissingKeyIsReplacedAndTheLossIsKnown() throws {
        // Documented: a removed key file (the operator's way past a damaged one) means a new key.
        let f = try VotedFolder.make()
        defer { f.remove() }
        try FileManager.default.removeItem(atPath: f.keyFile)
        let c = try f.recover()
        let fresh = onDisk(f.keyFile)
        #expect(KeyStore.isWellFormed(fresh.utf8))
        #expect(fresh != f.key)
        #expect(c.rooms[f.code]?.polls[Int(f.poll)]?.voterKey == fresh)
    }

    @Test func aDamagedKeyRefusesTheReopenOfAnArchivedRoomAndTheServerGoesOn() throws {
        let server = try TestServer.start { $0.archiveAfterIdleSeconds = 1 }
        defer { server.stop() }
        let room = try server.createRoom(title: "Archived ballot")
        let ann = try server.join(room.code, name: "Ann")
        let poll = try room.fac.ack([
            "type": "poll.create", "question": "Which?", "kind": "single", "options": ["a", "b"], "open": true, "anonymous": true,
        ])
        let id = try poll.int("poll")
        _ = try ann.client.ack(["type": "vote.cast", "poll": .int(Int64(id)), "option": 1])
        room.fac.ws.close()
        ann.client.ws.close()
        let deadline = Date().addingTimeInterval(15)
        func archived() throws -> Bool {
            String(decoding: try server.get("/metrics").body, as: UTF8.self).contains("\nroundtable_rooms_archived 1")
        }
        while Date() < deadline, !(try archived()) { usleep(100_000) }
        #expect(try archived())
        let keyFile = server.dataDir + "/keys/\(room.code)-\(id).key"
        try "ffff".write(toFile: keyFile, atomically: false, encoding: .utf8)

        let fac = try server.client()
        let code = try fac.errorCode([
            "type": "room.join", "room": .string(room.code), "name": "Fay", "facilitatorKey": .string(room.facilitatorKey),
        ])
        #expect(code == "archive_unavailable")
        #expect(onDisk(keyFile) == "ffff")
        try server.assertServing("after a refused reopen")
    }
}
