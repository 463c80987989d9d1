import Foundation
import Testing

@testable import RoundtableServer

#if canImport(Glibc)
import Glibc
#endif

// Issue #16: HTTP routes on exact paths only, static files never through a symlink, and what lws 4.1.6
// does with a burst of pings (pinned here because the docs state it; unmasked frames: HostileInputTests).

@Suite(.serialized) struct TransportHardeningTests {

    // MARK: Exact routes

    @Test func routeTableIsAWhitelistOfExactPaths() {
        #expect(HTTPRoute(path: "/metrics", wholeURI: true) == .metrics)
        #expect(HTTPRoute(path: "/ws", wholeURI: true) == .webSocketWithoutUpgrade)
        #expect(HTTPRoute(path: "/ws/B8TQ", wholeURI: true) == .webSocketWithoutUpgrade, "the cluster route too")
        #expect(HTTPRoute(path: "/healthz", wholeURI: true) == .healthz)
        #expect(HTTPRoute(path: "/", wholeURI: true) == .clientPage)
        #expect(HTTPRoute(path: "/r/B8TQ", wholeURI: true) == .clientPage)
        #expect(HTTPRoute(path: "/r/b8tq-vj7g", wholeURI: true) == .clientPage)
        #expect(HTTPRoute(path: "/rooms/B8TQ/report.csv", wholeURI: true) == .report(code: "B8TQ", file: "report.csv"))
        #expect(HTTPRoute(path: "/communities/CB8TQ/report.md", wholeURI: true) == .communityReport(id: "CB8TQ", file: "report.md"))
        #expect(HTTPRoute(path: "/app.js", wholeURI: true) == .file(["app.js"]))
        #expect(HTTPRoute(path: "/img/a-b_c.png", wholeURI: true) == .file(["img", "a-b_c.png"]))
        // lws cut the URI at ';' or '&': never a route, whatever the first piece is.
        #expect(HTTPRoute(path: "/metrics", wholeURI: false) == nil)
        #expect(HTTPRoute(path: "/", wholeURI: false) == nil)
        for path in [
            "", "metrics", "/metrics/", "/metrics;", "/metrics x", "/r/", "/r/B8TQ/", "/r/B8TQ/x", "/r/-B8", "/r/B8_Q",
            "/rooms/", "/rooms/B8TQ", "/rooms//report.json", "/rooms/B8TQ/x/report.json", "/ws/", "/ws/B8/x", "/r",
            "/communities", "/communities/", "/communities/CB8", "/communities//report.json", "/communities/CB8/x/report.json",
            "/.env", "/a/.git", "/a//b", "/a/../b", "/./a", "/a/", "/x%2fy", "/a b", "/é.js",
            "/" + String(repeating: "a", count: 129),
        ] {
            #expect(HTTPRoute(path: path, wholeURI: true) == nil, "\(path)")
        }
        #expect(HTTPRoute.isWebSocketPath("/ws", wholeURI: true))
        #expect(HTTPRoute.isWebSocketPath("/ws/B8TQVJ7G", wholeURI: true))
        for path in ["/ws/", "/ws/a/b", "/wsx", "/", "/metrics", "/ws/" + String(repeating: "A", count: 33)] {
            #expect(!HTTPRoute.isWebSocketPath(path, wholeURI: true), "\(path)")
        }
        #expect(!HTTPRoute.isWebSocketPath("/ws", wholeURI: false))
    }

    @Test func everyOtherSpellingOfARouteIs404() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let code = room.code
        // The canonical spellings work.
        #expect(try server.get("/healthz").status == 200)
        #expect(try server.get("/readyz").status == 200)
        #expect(try server.get("/metrics").status == 200)
        #expect(try server.get("/metrics?x=1").status == 200)
        #expect(try server.get("/ws").status == 426)
        #expect(try server.get("/").status == 200)
        #expect(try server.get("/r/\(code)").status == 200)
        #expect(try server.get("/app.js").status == 200)
        #expect(try server.get("/rooms/\(code)/report.json").status == 401)
        // Spellings lws would have cut at ';' or '&' (it used to serve the first piece), and near misses.
        var spellings: [String] = []
        for route in ["/metrics", "/healthz", "/readyz", "/ws", "/", "/r/\(code)", "/app.js", "/rooms/\(code)/report.json"] {
            // `/ws/x` is the route of room X (426 without an upgrade); one more component is not.
            spellings += [route + ";", route + ";x", route + "&x", route + ";x=1?y=2", route + "%3Bx", route + (route == "/ws" ? "/x/y" : "/x")]
        }
        spellings += [
            "/metrics/", "/METRICS", "/metrics%20", "/metrics+", "/r/\(code)/", "/r/\(code)/x", "/r/", "/index.html;x",
            "/.hidden", "/rooms/\(code)", "/rooms/\(code)/report.pdf",
        ]
        for path in spellings {
            let r = try server.get(path)
            #expect(r.status == 404, "\(path) -> \(r.status): \(String(decoding: r.body.prefix(80), as: UTF8.self))")
        }
        // An absolute-form target: lws refuses it itself (403), never the route.
        #expect(try [403, 404].contains(server.get("http://127.0.0.1/metrics").status))
        try server.assertServing("path spellings")
    }

    /// lws 4.1.6 normalises these while parsing the request line and keeps no raw copy: the server cannot
    /// tell them from `/metrics` (docs/SECURITY.md). Pinned so an lws upgrade that changes it is noticed;
    /// the proxy in front refuses them (Scripts/tests/check_proxy_paths.py).
    @Test func spellingsLwsNormalisesAreIndistinguishable() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        for path in ["//metrics", "/./metrics", "/x/../metrics", "/%6detrics", "/%2e/metrics", "///healthz"] {
            #expect(try server.get(path).status == 200, "\(path)")
        }
    }

    /// Because the spellings above are indistinguishable, `/metrics` is kept internal by who asks: a request
    /// relayed by a proxy (any forwarding header) gets 404 in every spelling, even from loopback.
    @Test func metricsRefuseRelayedRequestsInEverySpelling() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let spellings = ["/metrics", "//metrics", "/./metrics", "/x/../metrics", "/%6detrics", "/metrics?x=1"]
        let relayed: [[String: String]] = [
            ["X-Forwarded-For": "203.0.113.7"], ["x-forwarded-for": "10.0.0.1, 127.0.0.1"],
            ["Forwarded": "for=203.0.113.7"], ["FORWARDED": "for=unknown"], ["X-Real-IP": "203.0.113.7"],
        ]
        for path in spellings {
            for headers in relayed {
                let r = try HTTPTestClient.get(port: server.port, path: path, headers: headers)
                #expect(r.status == 404, "\(path) \(headers)")
                #expect(!String(decoding: r.body, as: UTF8.self).contains("roundtable_"), "\(path) \(headers)")
            }
        }
        #expect(try server.get("/metrics").status == 200, "a direct loopback scrape still works")
        #expect(try HTTPTestClient.get(port: server.port, path: "/healthz", headers: relayed[0]).status == 200)
    }

    /// With `server.metricsToken`, the token decides, in every spelling and from anywhere.
    @Test func metricsTokenIsRequiredWhenConfigured() throws {
        let server = try TestServer.start { $0.metricsToken = "scrape-secret" }
        defer { server.stop() }
        for path in ["/metrics", "//metrics", "/%6detrics"] {
            #expect(try server.get(path).status == 404, "\(path) without the token")
            let wrong = try HTTPTestClient.get(port: server.port, path: path, headers: ["Authorization": "Bearer nope"])
            #expect(wrong.status == 404, "\(path) with a wrong token")
            let right = try HTTPTestClient.get(port: server.port, path: path, headers: ["Authorization": "Bearer scrape-secret"])
            #expect(right.status == 200, "\(path) with the token")
            let relayed = try HTTPTestClient.get(
                port: server.port, path: path, headers: ["Authorization": "Bearer scrape-secret", "X-Forwarded-For": "203.0.113.7"])
            #expect(relayed.status == 200, "\(path): the token is enough, through a proxy too")
        }
    }

    @Test func webSocketUpgradesOnlyOnWsPaths() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let a = try WSTestClient(port: server.port, path: "/ws")
        a.close()
        let b = try WSTestClient(port: server.port, path: "/ws/B8TQVJ7G")
        b.close()
        for path in ["/", "/metrics", "/ws;x", "/ws&x", "/ws/", "/wsx", "/ws/a/b", "/r/B8TQ", "/app.js"] {
            do {
                let c = try WSTestClient(port: server.port, path: path)
                c.close()
                Issue.record("\(path) was upgraded")
            } catch WSTestError.handshakeFailed(let status, _) {
                #expect(status == 404, "\(path)")
            }
        }
        try server.assertServing("upgrade paths")
    }

    // MARK: Static files and symlinks

    @Test func staticFilesNeverFollowSymlinks() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("rt-webroot-\(UUID().uuidString.prefix(8))").path
        defer { try? fm.removeItem(atPath: base) }
        let root = base + "/web", outside = base + "/outside"
        try fm.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "<!doctype html><p>page</p>\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "console.log(1)\n".write(toFile: root + "/app.js", atomically: true, encoding: .utf8)
        try "ok\n".write(toFile: root + "/sub/ok.txt", atomically: true, encoding: .utf8)
        try "SECRET\n".write(toFile: outside + "/secret.txt", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/leak.txt", withDestinationPath: outside + "/secret.txt")
        try fm.createSymbolicLink(atPath: root + "/rel.txt", withDestinationPath: "../outside/secret.txt")
        try fm.createSymbolicLink(atPath: root + "/out", withDestinationPath: outside)
        try fm.createSymbolicLink(atPath: root + "/inside.js", withDestinationPath: root + "/app.js")
        try fm.createSymbolicLink(atPath: root + "/dangling.txt", withDestinationPath: base + "/nothing")
        #expect(mkfifo(root + "/fifo.txt", 0o600) == 0)

        let server = try TestServer.start { $0.webRoot = root }
        defer { server.stop() }
        #expect(String(decoding: try server.get("/").body, as: UTF8.self) == "<!doctype html><p>page</p>\n")
        #expect(String(decoding: try server.get("/r/ABCD").body, as: UTF8.self) == "<!doctype html><p>page</p>\n")
        #expect(String(decoding: try server.get("/app.js").body, as: UTF8.self) == "console.log(1)\n")
        #expect(String(decoding: try server.get("/sub/ok.txt").body, as: UTF8.self) == "ok\n")
        for path in ["/leak.txt", "/rel.txt", "/out/secret.txt", "/inside.js", "/dangling.txt", "/fifo.txt", "/sub", "/missing.js"] {
            let r = try server.get(path)
            #expect(r.status == 404, "\(path) -> \(r.status)")
            #expect(!String(decoding: r.body, as: UTF8.self).contains("SECRET"), "\(path)")
        }
        // The web root itself may be a symlink (the operator's choice, as with a versioned release folder).
        try fm.createSymbolicLink(atPath: base + "/current", withDestinationPath: root)
        let viaLink = try TestServer.start { $0.webRoot = base + "/current" }
        defer { viaLink.stop() }
        #expect(try viaLink.get("/app.js").status == 200)
        #expect(try viaLink.get("/out/secret.txt").status == 404)
    }

    @Test func anIndexPageThatIsASymlinkIsNotServed() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("rt-webroot-\(UUID().uuidString.prefix(8))").path
        defer { try? fm.removeItem(atPath: base) }
        try fm.createDirectory(atPath: base + "/web", withIntermediateDirectories: true)
        try "SECRET\n".write(toFile: base + "/secret.html", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: base + "/web/index.html", withDestinationPath: base + "/secret.html")
        let server = try TestServer.start { $0.webRoot = base + "/web" }
        defer { server.stop() }
        #expect(try server.get("/").status == 404)
        #expect(try server.get("/r/ABCD").status == 404)
    }

    // MARK: lws 4.1.6 frame handling the docs describe

    /// A masked client frame built by hand, so several can go out in one write.
    private static func maskedFrame(opcode: UInt8, payload: [UInt8]) -> [UInt8] {
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var f: [UInt8] = [0x80 | opcode, 0x80 | UInt8(payload.count)] + key
        for (i, b) in payload.enumerated() { f.append(b ^ key[i & 3]) }
        return f
    }

    /// Autobahn 2.10: ten pings in one burst. lws 4.1.6 keeps one pending pong and drops pings that arrive
    /// while it is pending, so a burst read in one go gets one pong, carrying the FIRST payload (RFC 6455
    /// 5.5.3 allows answering only the most recent; lws answers the oldest). The server never sees pings
    /// (4.1.6 has no callback for them), so it cannot change this; PROTOCOL.md says so.
    @Test func tenPingsInOneBurstGetOnePongForTheFirst() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.raw()
        var burst: [UInt8] = []
        for i in 1...10 { burst += Self.maskedFrame(opcode: WSTestClient.Opcode.ping, payload: Array("ping \(i)".utf8)) }
        try c.sendRaw(burst)
        var pongs: [[UInt8]] = []
        while let m = try? c.receive(timeout: 1) {
            if case .pong(let p) = m { pongs.append(p) } else { Issue.record("unexpected \(m)") }
        }
        #expect(pongs == [Array("ping 1".utf8)])
        // Once that pong is out, the next ping is answered with its own payload.
        try c.sendPing(Array("later".utf8))
        #expect(try c.receive() == .pong(Array("later".utf8)))
    }
}
