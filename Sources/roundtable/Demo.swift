import ArgumentParser
import Foundation
import RoundtableCore
import RoundtableWire

/// `roundtable demo`: the README's two-minute demo with nothing but the binary. It talks to a running node
/// over the WebSocket protocol, like any client: a facilitator opens a room, a member joins and submits a
/// need, and it prints what each side receives and the links to open in a browser.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a room on a running node, join a member and submit a need; print the links to open.")

    @Option(help: "The node's address, as a browser would open it.")
    var url: String = "http://127.0.0.1:8080"

    @Option(help: "The room's title.")
    var title: String = "Peer network launch"

    @Option(name: .customLong("create-token"), help: "The node's rooms.createToken, when it has one (creating from loopback needs none).")
    var createToken: String?

    func run() throws {
        guard let target = NodeAddress(url) else { throw ValidationError("--url must look like http://HOST:PORT") }
        try demo(target)
    }

    private func demo(_ node: NodeAddress) throws {
        print("Facilitator Fay opens a room on \(node.http):")
        let fay = try DemoClient(host: node.host, port: node.port)
        var create: Value.Object = ["type": "room.create", "title": .string(title), "name": "Fay", "organization": "TTA program"]
        if let createToken { create["createToken"] = .string(createToken) }
        let created = try show(fay.request(create, ref: 1), as: "Fay")
        guard created["type"] == "ack", let code = created["room"]?.stringValue, let key = created["facilitatorKey"]?.stringValue else {
            throw DemoClient.Failure("room.create was refused: \(created["message"]?.stringValue ?? "no reason given")")
        }
        _ = try fay.receive() // room.state

        print("\nMember Ann joins with the room code and submits her organization's need:")
        let ann = try DemoClient(host: node.host, port: node.port, path: "/ws/\(code)")
        let joined = try show(
            ann.request(["type": "room.join", "room": .string(code), "name": "Ann", "organization": "Food Bank"], ref: "a1"), as: "Ann")
        guard joined["type"] == "ack" else { throw DemoClient.Failure("room.join was refused: \(joined["message"]?.stringValue ?? "")") }
        _ = try ann.receive() // room.state
        _ = try show(ann.request(["type": "need.submit", "text": "Volunteer scheduling across sites", "tags": ["volunteers"]], ref: "a2"), as: "Ann")

        print("\nWhat Fay's connection received meanwhile:")
        var got = Set<String>()
        while !got.contains("need.added") {
            let m = try fay.receive()
            print("  Fay ← " + JSON.string(.object(m)))
            if let t = m["type"]?.stringValue { got.insert(t) }
        }
        ann.close()
        fay.close()
        print(
            """

            Room \(code) is open. In a browser:
              members:      \(node.http)/r/\(code)
              facilitator:  \(node.http)/r/\(code)#key=\(key)
              wall screen:  \(node.http)/r/\(code)?view=projector
            The facilitator key is shown once: keep it to run the room.
            """)
    }

    @discardableResult
    private func show(_ messages: [Value.Object], as who: String) -> Value.Object {
        for m in messages { print("  \(who) ← " + JSON.string(.object(m))) }
        return messages.last ?? [:]
    }
}

/// `http://host:port` (or `ws://`) split into what a socket needs.
struct NodeAddress {
    var host: String
    var port: Int
    var http: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    init?(_ url: String) {
        var rest = Substring(url)
        for scheme in ["http://", "ws://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        if rest.hasPrefix("https://") || rest.hasPrefix("wss://") { return nil }
        rest = rest.prefix { $0 != "/" }
        let hostPart: Substring
        let portPart: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            portPart = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            hostPart = rest
            portPart = nil
        }
        guard !hostPart.isEmpty, let port = Int(portPart ?? "80"), (1...65535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }
}
