@testable import RoundtableCore

/// A hasher for tests: readable, deterministic, and obviously not the secret itself.
struct TestHasher: SecretHasher {
    func digest(_ secret: String) -> String { "h(" + secret + ")" }
}

/// Drives a coordinator the way the server does, and keeps what each connection received.
struct Harness {
    var coordinator = Coordinator(entropy: SeededEntropy(seed: 42), hasher: TestHasher())
    var now: Millis = 1_800_000_000_000
    var inbox: [ConnectionID: [(type: String, body: Value.Object, seq: UInt64?)]] = [:]
    var journal: [JournalEntry] = []
    var closed: [ConnectionID: UInt16] = [:]
    var secrets: [String: String] = [:]
    /// `loadArchive` requests (room, seq, connection) and archive files the coordinator let go.
    var archiveLoads: [(room: String, seq: UInt64, from: ConnectionID)] = []
    var discardedArchives: [String] = []

    init(limits: Limits = Limits()) {
        coordinator = Coordinator(limits: limits, entropy: SeededEntropy(seed: 42), hasher: TestHasher())
    }

    @discardableResult
    mutating func send(_ c: ConnectionID, _ command: Command, ref: Value? = nil) -> Value.Object {
        now += 10
        let effects = coordinator.handle(command, ref: ref, from: c, at: now)
        run(effects)
        let reply = effects.compactMap { e -> Value.Object? in
            guard case .reply(let r, _, let to) = e, to == c else { return nil }
            return Self.wireShape(r)
        }
        return reply.first ?? [:]
    }

    /// A reply as a client reads it: the body with `type` ("ack" or "error"), and `code`/`message` for errors.
    static func wireShape(_ r: Reply) -> Value.Object {
        switch r {
        case .ack(var body):
            body["type"] = "ack"
            return body
        case .error(let e):
            return ["type": "error", "code": .string(e.code), "message": .string(e.message)]
        }
    }

    mutating func disconnect(_ c: ConnectionID) {
        now += 10
        run(coordinator.disconnected(c, at: now))
    }

    mutating func run(_ effects: [Effect]) {
        for e in effects {
            switch e {
            case .journal(let j): journal.append(j)
            case .broadcast(let ev, let to):
                for c in to { inbox[c, default: []].append((ev.type, ev.payload, ev.seq)) }
            case .send(let n, _, let to):
                for c in to { inbox[c, default: []].append((n.type, n.body, nil)) }
            case .reply(.ack(let body), _, let to):
                inbox[to, default: []].append(("ack", body, nil))
            case .reply(.error(let e), _, let to):
                inbox[to, default: []].append(("error", ["code": .string(e.code), "message": .string(e.message)], nil))
            case .close(let c, let code, _): closed[c] = code
            case .secret(let name, let value): secrets[name] = value
            case .loadArchive(let room, let seq, _, _, let from): archiveLoads.append((room, seq, from))
            case .discardArchive(let room, _): discardedArchives.append(room)
            }
        }
    }

    mutating func drain(_ c: ConnectionID) -> [(type: String, body: Value.Object, seq: UInt64?)] {
        defer { inbox[c] = [] }
        return inbox[c] ?? []
    }

    /// Creates a room from connection 1; returns (code, facilitator key, token).
    mutating func createRoom() -> (code: String, key: String, token: String) {
        let ack = send(1, .createRoom(.init(title: "Launch", name: "Fay", organization: "TTA")))
        return (ack["room"]!.stringValue!, ack["facilitatorKey"]!.stringValue!, ack["token"]!.stringValue!)
    }

    @discardableResult
    mutating func join(_ c: ConnectionID, _ code: String, _ name: String, org: String = "") -> Value.Object {
        send(c, .join(.init(code: code, name: name, organization: org)))
    }
}
