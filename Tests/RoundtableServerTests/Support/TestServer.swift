import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The real server, in this process, on an ephemeral loopback port, plus a thin JSON layer over
// WSTestClient so integration tests read like scripts:
//
//     let server = try TestServer.start()
//     defer { server.stop() }
//     let fac = try server.client()
//     let created = try fac.ack(["type": "room.create", "title": "T", "name": "F"])
//
// Keep the server alive with `defer { server.stop() }` (Swift may release a local after its last
// use, and releasing it stops the server) and keep a client alive with an explicit `close()` or
// `withExtendedLifetime` when the test depends on it staying connected.

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The repository root, found from this file's path (Tests/RoundtableServerTests/Support/TestServer.swift).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
}()

final class TestServer: @unchecked Sendable {
    let node: Node
    let port: Int
    let dataDir: String
    let config: Configuration
    private var removeData: Bool
    private var stopped = false

    /// A configuration for tests: ephemeral port, fresh data folder, the repository's web root,
    /// and a rate limit loose enough that scripted tests never hit it by accident.
    static func defaultConfig(dataDir: String) -> Configuration {
        var c = Configuration()
        c.host = "127.0.0.1"
        c.port = 0
        c.dataDir = dataDir
        c.webRoot = repositoryRoot + "/web"
        c.fsync = "none"
        c.messagesPerSecond = 1_000
        c.messageBurst = 1_000
        return c
    }

    static func freshDataDir() -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("roundtable-it-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Starts a server and waits until `/readyz` answers 200 (recovery runs on its own thread).
    /// Pass `dataDir` to reopen an existing data folder (a restart); it is then kept on `stop()`
    /// unless `removeDataOnStop` says otherwise.
    static func start(
        dataDir: String? = nil, removeDataOnStop: Bool? = nil, _ configure: (inout Configuration) -> Void = { _ in }
    ) throws -> TestServer {
        let dir = dataDir ?? freshDataDir()
        var config = defaultConfig(dataDir: dir)
        configure(&config)
        config.port = 0
        config.dataDir = dir
        try config.validate()
        var logger = Logger(label: "roundtable.test")
        let level = ProcessInfo.processInfo.environment["RT_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .error
        let node = try Node.open(config: config, logger: logger)
        do {
            try node.server.start()
        } catch {
            node.close()
            throw error
        }
        let server = TestServer(
            node: node, port: node.server.port, dataDir: dir, config: config,
            removeData: removeDataOnStop ?? (dataDir == nil))
        do {
            try server.waitReady()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    private init(node: Node, port: Int, dataDir: String, config: Configuration, removeData: Bool) {
        self.node = node
        self.port = port
        self.dataDir = dataDir
        self.config = config
        self.removeData = removeData
    }

    deinit { stop() }

    private func waitReady(seconds: Double = 15) throws {
        let deadline = TestDeadline(seconds: seconds)
        var last = "no answer"
        while deadline.remainingSeconds > 0 {
            if let r = try? HTTPTestClient.get(port: port, path: "/readyz", timeout: 2) {
                if r.status == 200 { return }
                last = "HTTP \(r.status)"
            }
            usleep(20_000)
        }
        throw TestFailure("server on port \(port) not ready within \(seconds) s (/readyz: \(last))")
    }

    /// Stops the server (close 1001 to every client), waits for its thread, flushes and closes
    /// the data folder. Idempotent. `keepData` keeps the folder for a restart.
    func stop(keepData: Bool = false) {
        guard !stopped else { return }
        stopped = true
        node.server.stop()
        node.server.wait()
        node.close()
        // Node.close() flushes but keeps the data folder's flock until the Persistence object is
        // deallocated (a process exit, for the real binary). A restart inside this process needs it now.
        node.persistence.directory.unlock()
        if removeData && !keepData { try? FileManager.default.removeItem(atPath: dataDir) }
    }

    /// Deletes the data folder of a server stopped with `keepData` once the test is done with it.
    func removeDataFolder() { try? FileManager.default.removeItem(atPath: dataDir) }

    func client(timeout: Double = 5, receiveBuffer: Int32? = nil) throws -> RTClient {
        try RTClient(port: port, timeout: timeout, receiveBuffer: receiveBuffer)
    }

    func raw(timeout: Double = 5) throws -> WSTestClient { try WSTestClient(port: port, timeout: timeout) }

    func get(_ path: String) throws -> HTTPTestClient.Response { try HTTPTestClient.get(port: port, path: path) }

    /// A counter or gauge without labels from `/metrics`.
    func metric(_ name: String) throws -> Double? {
        let text = String(decoding: try get("/metrics").body, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ")[1])
        }
        return nil
    }

    /// A complete, normal scenario on fresh connections: create a room, join it, see each other's
    /// events, leave. Used after hostile input to prove the server still serves everybody else.
    @discardableResult
    func assertServing(_ why: String = "") throws -> String {
        let fac = try client()
        defer { fac.close() }
        let created = try fac.ack(["type": "room.create", "title": .string("Still serving \(why)"), "name": "Facilitator"])
        let code = try created.string("room")
        _ = try fac.event("room.state")
        let member = try client()
        defer { member.close() }
        let joined = try member.ack(["type": "room.join", "room": .string(code), "name": "Member"])
        guard joined["member"] == 2 else { throw TestFailure("join after \(why): \(joined)") }
        let state = try member.event("room.state")
        guard state["members"]?.arrayValue?.count == 2 else { throw TestFailure("state after \(why): \(state)") }
        let seen = try fac.event("member.joined")
        guard seen["member"]?["id"] == 2 else { throw TestFailure("member.joined after \(why): \(seen)") }
        _ = try member.ack(["type": "member.update", "bio": "hello"])
        _ = try fac.event("member.updated")
        _ = try member.ack(["type": "room.leave"])
        _ = try fac.event("member.left")
        return code
    }
}

// MARK: - JSON client

/// A reply of type "error" where an ack was expected.
struct ErrorReply: Error, CustomStringConvertible {
    let code: String
    let message: String
    let reply: Value
    var description: String { "error reply \(code): \(message)" }
}

/// One WebSocket connection speaking the Roundtable protocol. Messages that arrive while waiting
/// for something else are kept, in order, in `backlog`, so no event is lost to a wait.
final class RTClient {
    let ws: WSTestClient
    private var nextRef = 1
    private(set) var backlog: [Value] = []

    init(port: Int, timeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        ws = try WSTestClient(port: port, timeout: timeout, receiveBuffer: receiveBuffer)
    }

    var timeout: Double { ws.timeout }

    func send(_ v: Value) throws { try ws.sendText(JSON.string(v)) }

    func sendText(_ s: String) throws { try ws.sendText(s) }

    /// Sends a request (adding a `ref` unless it has one) and returns its reply, ack or error.
    func request(_ v: Value, timeout: Double? = nil) throws -> Value {
        guard var o = v.objectValue else { throw TestFailure("request must be an object: \(v)") }
        let ref: Value
        if let r = o["ref"] {
            ref = r
        } else {
            ref = .string("r\(nextRef)")
            nextRef += 1
            o["ref"] = ref
        }
        try send(.object(o))
        return try reply(to: ref, timeout: timeout)
    }

    /// The ack or error carrying `ref`.
    func reply(to ref: Value, timeout: Double? = nil) throws -> Value {
        try waitFor(timeout: timeout) { m in
            m["ref"] == ref && (m["type"] == "ack" || m["type"] == "error")
        }
    }

    /// Sends a request and returns its ack; an error reply throws `ErrorReply`.
    @discardableResult
    func ack(_ v: Value, timeout: Double? = nil) throws -> Value {
        let r = try request(v, timeout: timeout)
        if r["type"] == "error" {
            throw ErrorReply(code: r["code"]?.stringValue ?? "?", message: r["message"]?.stringValue ?? "", reply: r)
        }
        return r
    }

    /// Sends a request and returns the code of its error reply; an ack throws.
    func errorCode(_ v: Value, timeout: Double? = nil) throws -> String {
        let r = try request(v, timeout: timeout)
        guard r["type"] == "error", let code = r["code"]?.stringValue else {
            throw TestFailure("expected an error reply to \(JSON.string(v)), got \(JSON.string(r))")
        }
        return code
    }

    /// The next message, from the backlog first.
    func next(timeout: Double? = nil) throws -> Value {
        if !backlog.isEmpty { return backlog.removeFirst() }
        return try receiveOne(timeout: timeout)
    }

    /// The first message (backlog first) matching `predicate`; others stay in the backlog, in order.
    func waitFor(timeout: Double? = nil, _ predicate: (Value) -> Bool) throws -> Value {
        if let i = backlog.firstIndex(where: predicate) { return backlog.remove(at: i) }
        let deadline = TestDeadline(seconds: timeout ?? ws.timeout)
        while true {
            let m = try receiveOne(timeout: deadline.remainingSeconds)
            if predicate(m) { return m }
            backlog.append(m)
        }
    }

    /// The first message of this type.
    func event(_ type: String, timeout: Double? = nil) throws -> Value {
        try waitFor(timeout: timeout) { $0["type"] == .string(type) }
    }

    /// The first error reply with this code (for errors sent without a `ref`).
    func error(_ code: String, timeout: Double? = nil) throws -> Value {
        try waitFor(timeout: timeout) { $0["type"] == "error" && $0["code"] == .string(code) }
    }

    /// Room events only (they carry `seq`), skipping replies and notices; backlog first.
    func nextEvent(timeout: Double? = nil) throws -> Value {
        try waitFor(timeout: timeout) { $0["seq"]?.intValue != nil && $0["type"] != "room.state" }
    }

    /// Everything that arrives within `seconds` (backlog included), without failing on silence.
    func drain(for seconds: Double) throws -> [Value] {
        var out = backlog
        backlog = []
        let deadline = TestDeadline(seconds: seconds)
        while deadline.remainingSeconds > 0 {
            do {
                out.append(try receiveOne(timeout: deadline.remainingSeconds))
            } catch WSTestError.timeout {
                break
            }
        }
        return out
    }

    /// Whatever has already arrived (backlog included), without waiting.
    func drainNow() throws -> [Value] {
        var out = backlog
        backlog = []
        while true {
            do {
                out.append(try receiveOne(timeout: 0))
            } catch WSTestError.timeout {
                return out
            }
        }
    }

    /// Skips everything up to the close frame; nil when TCP closed without one.
    func expectClose(timeout: Double? = nil) throws -> UInt16? { try ws.expectClose(timeout: timeout) }

    func close() { ws.close() }

    private func receiveOne(timeout: Double?) throws -> Value {
        let text = try ws.receiveText(timeout: timeout)
        do {
            return try JSON.parse(text)
        } catch {
            throw TestFailure("server sent invalid JSON: \(text.prefix(200))")
        }
    }
}

// MARK: - Scenario helpers

extension Value {
    /// A required string field, or a failure naming the message.
    func string(_ key: String) throws -> String {
        guard let s = self[key]?.stringValue else { throw TestFailure("no string \(key) in \(JSON.string(self))") }
        return s
    }

    func int(_ key: String) throws -> Int {
        guard let i = self[key]?.intValue else { throw TestFailure("no integer \(key) in \(JSON.string(self))") }
        return Int(i)
    }

    var seq: Int? { self["seq"]?.intValue.map(Int.init) }
    var type: String? { self["type"]?.stringValue }
}

/// A created room: the facilitator's client and credentials.
struct CreatedRoom {
    let fac: RTClient
    let code: String
    let facilitatorKey: String
    let token: String
    /// The room's seq in the facilitator's `room.state`.
    let seq: Int
}

/// A joined member: client, id and token.
struct JoinedMember {
    let client: RTClient
    let id: Int
    let token: String
    let state: Value
}

extension TestServer {
    func createRoom(title: String = "Room", name: String = "Facilitator", organization: String = "Org") throws -> CreatedRoom {
        let fac = try client()
        let ack = try fac.ack(["type": "room.create", "title": .string(title), "name": .string(name), "organization": .string(organization)])
        let state = try fac.event("room.state")
        return CreatedRoom(
            fac: fac, code: try ack.string("room"), facilitatorKey: try ack.string("facilitatorKey"), token: try ack.string("token"),
            seq: try state.int("seq"))
    }

    func join(_ code: String, name: String, organization: String = "Org", role: String = "member") throws -> JoinedMember {
        let c = try client()
        let ack = try c.ack([
            "type": "room.join", "room": .string(code), "name": .string(name), "organization": .string(organization),
            "role": .string(role),
        ])
        let state = try c.event("room.state")
        return JoinedMember(client: c, id: try ack.int("member"), token: try ack.string("token"), state: state)
    }
}

/// Resident set size of this process (the server runs in it), in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0
        return digits * 1024
    }
    return 0
}
