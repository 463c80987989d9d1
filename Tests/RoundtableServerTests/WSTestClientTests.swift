import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The harness is itself tested against an independent implementation (Python `websockets`),
// so a failing server test can be blamed on the server rather than on our client.

private struct PythonServerError: Error, CustomStringConvertible {
    let description: String
}

/// A Python `websockets` echo server plus a plain HTTP server for chunked / read-to-EOF bodies.
private final class PythonTestServers {
    let wsPort: Int
    let httpPort: Int
    private let process: Process

    private static let script = #"""
        import os, signal, sys, threading
        # The test runner hands children SIGTERM ignored and blocked; stop() relies on it.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        try:
            import websockets
            from websockets.sync.server import serve
        except Exception as exc:
            print("IMPORT-FAILED", repr(exc), flush=True)
            sys.exit(3)
        import logging
        from http import HTTPStatus
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        # Protocol errors provoked on purpose would otherwise be logged to a pipe nobody reads.
        logging.getLogger("websockets").addHandler(logging.NullHandler())
        logging.getLogger("websockets").propagate = False

        # Never outlive a crashed test run.
        threading.Timer(30, lambda: os._exit(0)).start()

        def echo(ws):
            for msg in ws:
                if msg == "ping-me":
                    pong = ws.ping(b"are-you-there")
                    ws.send("pong-ok" if pong.wait(5) else "pong-missing")
                elif len(msg) > 65536:
                    # Fragment big echoes so the client's reassembly is exercised for real.
                    ws.send([msg[i:i + 50000] for i in range(0, len(msg), 50000)])
                else:
                    ws.send(msg)

        def process_request(connection, request):
            if request.path == "/nope":
                return connection.respond(HTTPStatus.NOT_FOUND, "nope\n")
            return None

        class Plain(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args):
                pass
            def do_GET(self):
                if self.path == "/chunked":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for part in (b"hello, ", b"chunked ", b"world"):
                        self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
                elif self.path == "/eof":
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"until the end")
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                self.close_connection = True

        with serve(echo, "127.0.0.1", 0, process_request=process_request, max_size=2**20) as server:
            http = ThreadingHTTPServer(("127.0.0.1", 0), Plain)
            threading.Thread(target=http.serve_forever, daemon=True).start()
            print(server.socket.getsockname()[1], http.server_address[1], flush=True)
            server.serve_forever()
        """#

    init() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let line = Self.readLine(stdout.fileHandleForReading.fileDescriptor, deadline: TestDeadline(seconds: 15))
        let fields = line.split(separator: " ")
        if fields.count == 2, let ws = Int(fields[0]), let http = Int(fields[1]) {
            self.process = process
            wsPort = ws
            httpPort = http
            return
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let errText = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if line.hasPrefix("IMPORT-FAILED") {
            throw PythonServerError(
                description: """
                    python3 cannot import the `websockets` package (\(line)); these tests need it as an \
                    independent reference server: pip install websockets
                    """)
        }
        throw PythonServerError(
            description: """
                python3 websockets test server did not start (exit \(process.terminationStatus)); \
                stdout: \(line) stderr: \(errText)
                """)
    }

    /// Bounded read of the port line: a wedged interpreter must fail the test, not hang it.
    private static func readLine(_ fd: Int32, deadline: TestDeadline) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while !bytes.contains(10) {
            let ms = deadline.remainingMilliseconds
            if ms == 0 { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, ms) <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = TestDeadline(seconds: 3)
            while process.isRunning && deadline.remainingSeconds > 0 { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { stop() }
}

@Suite(.serialized)
struct WSTestClientTests {
    @Test func sha1MatchesKnownVectors() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(TestSHA1.digest(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(TestSHA1.digest([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        // Two-block message: padding crosses a 64-byte boundary.
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(hex(TestSHA1.digest(long)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        // The worked example from RFC 6455 section 1.3.
        let accept = Data(TestSHA1.digest(Array("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)))
        #expect(accept.base64EncodedString() == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func textAndBinaryEcho() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        #expect(client.handshakeHeaders["upgrade"]?.lowercased() == "websocket")

        try client.sendText("hello, round table ✓")
        #expect(try client.receive() == .text("hello, round table ✓"))

        try client.sendBinary([0, 1, 2, 254, 255])
        #expect(try client.receive() == .binary([0, 1, 2, 254, 255]))

        // Client-side fragmentation: the server must see one message "abcd".
        try client.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("ab".utf8), fin: false)
        try client.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: Array("cd".utf8))
        #expect(try client.receiveText() == "abcd")
    }

    @Test func largeMessageIsReassembled() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")

        let big = String((0..<200_000).map { i in Character(UnicodeScalar(UInt8(97 + i % 26))) })
        try client.sendText(big)
        #expect(try client.receiveText() == big)

        let blob = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try client.sendBinary(blob)
        #expect(try client.receiveBinary() == blob)
    }

    @Test func pingPongBothWays() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")

        try client.sendPing([1, 2, 3])
        #expect(try client.receive() == .pong([1, 2, 3]))

        // The server pings us and reports whether our automatic pong reached it.
        try client.sendText("ping-me")
        #expect(try client.receive() == .ping(Array("are-you-there".utf8)))
        #expect(try client.receiveText() == "pong-ok")
    }

    @Test func closeHandshake() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        try client.sendClose(code: 1000, reason: "bye")
        #expect(try client.expectClose() == 1000)
        #expect(client.isClosedByPeer)
    }

    @Test func receiveTimesOutWithoutLosingTheStream() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        let start = ContinuousClock.now
        #expect(throws: WSTestError.timeout) { _ = try client.receive(timeout: 0.2) }
        #expect(ContinuousClock.now - start < .seconds(2))
        try client.sendText("still here")
        #expect(try client.receiveText() == "still here")
    }

    @Test func unmaskedClientFrameIsAProtocolError() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        try client.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("naked".utf8), masked: false)
        #expect(try client.expectClose() == 1002)
    }

    @Test func reservedOpcodeIsAProtocolError() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        try client.sendFrame(opcode: 0x3, payload: [])
        #expect(try client.expectClose() == 1002)
    }

    @Test func rsvBitsWithoutExtensionAreAProtocolError() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        try client.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("x".utf8), rsv: 0b100)
        #expect(try client.expectClose() == 1002)
    }

    @Test func lyingLengthBeyondLimitIsRefused() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        try client.sendFrame(opcode: WSTestClient.Opcode.binary, payload: [1, 2, 3], declaredLength: 1 << 40)
        #expect(try client.expectClose() == 1009)
    }

    @Test func rawOneByteClosePayloadIsAProtocolError() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        // FIN+close, masked, length 1, all-zero mask key, payload 0x03.
        try client.sendRaw([0x88, 0x81, 0, 0, 0, 0, 0x03])
        #expect(try client.expectClose() == 1002)
    }

    @Test func writingAfterServerHangUpThrowsInsteadOfSIGPIPE() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        let client = try WSTestClient(port: servers.wsPort, path: "/")
        // Killing the peer makes the kernel reset the connection, so a write soon hits EPIPE.
        servers.stop()
        #expect(throws: WSTestError.self) {
            for _ in 0..<200 {
                try client.sendText("anyone?")
                usleep(10_000)
            }
        }
        client.close()
        client.close()
        #expect(throws: WSTestError.notConnected) { try client.sendText("after close") }
    }

    @Test func refusedUpgradeReportsStatusAndBody() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }
        #expect(throws: WSTestError.handshakeFailed(status: 404, body: "nope\n")) {
            _ = try WSTestClient(port: servers.wsPort, path: "/nope")
        }
        // A handshake missing its key must be refused too; proves extraHeaders can remove defaults.
        #expect {
            _ = try WSTestClient(port: servers.wsPort, path: "/", extraHeaders: ["Sec-WebSocket-Key": ""])
        } throws: { error in
            guard case WSTestError.handshakeFailed(let status, _) = error else { return false }
            return status == 400
        }
    }

    @Test func httpClientBodies() throws {
        let servers = try PythonTestServers()
        defer { servers.stop() }

        let plain = try HTTPTestClient.get(port: servers.wsPort, path: "/")
        #expect((400..<500).contains(plain.status), "plain GET on a WebSocket endpoint got \(plain.status)")

        let missing = try HTTPTestClient.get(port: servers.wsPort, path: "/nope")
        #expect(missing.status == 404)
        #expect(missing.headers["content-length"] == "5")
        #expect(missing.body == Array("nope\n".utf8))

        let chunked = try HTTPTestClient.get(port: servers.httpPort, path: "/chunked")
        #expect(chunked.status == 200)
        #expect(String(decoding: chunked.body, as: UTF8.self) == "hello, chunked world")

        let toEOF = try HTTPTestClient.get(port: servers.httpPort, path: "/eof", headers: ["X-Test": "1"])
        #expect(toEOF.status == 200)
        #expect(String(decoding: toEOF.body, as: UTF8.self) == "until the end")
    }

    @Test func connectingToAClosedPortFailsFast() throws {
        // The port of a listener that just went away: connect must fail, not hang.
        let servers = try PythonTestServers()
        let port = servers.wsPort
        servers.stop()
        #expect(throws: WSTestError.self) { _ = try WSTestClient(port: port, timeout: 2) }
    }
}
