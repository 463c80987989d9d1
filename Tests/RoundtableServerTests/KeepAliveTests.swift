import Foundation
import Testing

// Keep-alive is the server's own (not libwebsockets' validity timers): a quiet connection gets a
// ping after `pingIntervalSeconds`, and one that sends nothing at all for `pingTimeoutSeconds` is
// dropped. These fail if the scan stops pinging, stops dropping dead peers, or drops live ones.

@Suite(.serialized) struct KeepAliveTests {
    static func start() throws -> TestServer {
        try TestServer.start {
            // Fractions of a second (the scan and the ticker follow): the same story as 30 s / 75 s, faster.
            $0.pingIntervalSeconds = 0.25
            $0.pingTimeoutSeconds = 0.75
            $0.joinTimeoutSeconds = 60
        }
    }

    @Test func deadPeerIsPingedThenDropped() throws {
        let server = try Self.start()
        defer { server.stop() }
        let dead = try server.raw(timeout: 4)
        dead.autoPong = false // a peer that is gone: it never answers
        let start = ContinuousClock.now
        var pinged = false
        var closed = false
        while ContinuousClock.now - start < .seconds(4) {
            let message: WSTestClient.Message
            do {
                message = try dead.receive(timeout: 4)
            } catch WSTestError.connectionClosed {
                closed = true
                break
            }
            if case .ping = message { pinged = true }
            if case .close = message {
                closed = true
                break
            }
        }
        let took = ContinuousClock.now - start
        #expect(pinged, "no keep-alive ping before the drop")
        #expect(closed, "a peer silent for pingTimeoutSeconds was not dropped")
        #expect(took >= .milliseconds(650) && took < .seconds(3), "dropped after \(took)")
        try server.assertServing("after a keep-alive drop")
    }

    @Test func peerThatAnswersPingsStays() throws {
        let server = try Self.start()
        defer { server.stop() }
        let live = try server.raw(timeout: 4) // answers pings (autoPong) and sends nothing else
        let start = ContinuousClock.now
        var pings = 0
        while ContinuousClock.now - start < .milliseconds(2_000) {
            do {
                if case .ping = try live.receive(timeout: 0.2) { pings += 1 }
            } catch WSTestError.timeout {
                continue
            }
        }
        #expect(pings >= 2, "expected repeated keep-alive pings, got \(pings)")
        // Well past pingTimeoutSeconds and still open: it answers our own ping.
        try live.sendPing([7])
        var answered = false
        for _ in 0..<5 {
            if case .pong([7]) = try live.receive(timeout: 2) {
                answered = true
                break
            }
        }
        #expect(answered)
    }
}
