import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A deliberately dumb, blocking WebSocket client for integration tests. It speaks
// RFC 6455 over a raw socket so tests can also send frames that every real client
// library refuses to produce (unmasked, reserved opcodes, RSV bits, lying lengths).
// Every blocking call is bounded by a deadline so a misbehaving server fails a test
// instead of hanging the whole run.

enum WSTestError: Error, Equatable, CustomStringConvertible {
    case connectFailed(String)
    /// The server answered the upgrade request with something other than 101.
    case handshakeFailed(status: Int, body: String)
    /// 101 came back, but the response is not a valid WebSocket accept.
    case badHandshake(String)
    case timeout
    /// EOF (or reset) without a close frame.
    case connectionClosed
    /// A close frame arrived where a data message was expected.
    case closed(code: UInt16?, reason: String)
    case protocolViolation(String)
    case unexpectedMessage(String)
    case io(operation: String, errno: Int32)
    case notConnected

    var description: String {
        switch self {
        case .connectFailed(let why): return "connect failed: \(why)"
        case .handshakeFailed(let status, let body): return "WebSocket upgrade refused with HTTP \(status): \(body)"
        case .badHandshake(let why): return "bad WebSocket handshake: \(why)"
        case .timeout: return "timed out"
        case .connectionClosed: return "connection closed by peer without a close frame"
        case .closed(let code, let reason):
            return "peer sent close \(code.map(String.init) ?? "(no code)") \(reason)"
        case .protocolViolation(let why): return "protocol violation: \(why)"
        case .unexpectedMessage(let what): return "unexpected message: \(what)"
        case .io(let op, let e): return "\(op) failed: \(String(cString: strerror(e))) (errno \(e))"
        case .notConnected: return "socket already closed"
        }
    }
}

// Not Sendable on purpose: a client belongs to the one test that created it; sharing a
// socket between tasks would interleave frames, which is exactly the bug class we want to
// catch in the server, not introduce in the harness.
final class WSTestClient {
    enum Message: Equatable, Sendable, CustomStringConvertible {
        case text(String)
        case binary([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        case close(code: UInt16?, reason: String)

        var description: String {
            switch self {
            case .text(let s): return "text(\(s.count > 200 ? String(s.prefix(200)) + "…" : s))"
            case .binary(let b): return "binary(\(b.count) bytes)"
            case .ping(let b): return "ping(\(b))"
            case .pong(let b): return "pong(\(b))"
            case .close(let code, let reason): return "close(\(code.map(String.init) ?? "nil"), \(reason))"
            }
        }
    }

    enum Opcode {
        static let continuation: UInt8 = 0x0
        static let text: UInt8 = 0x1
        static let binary: UInt8 = 0x2
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
        static let pong: UInt8 = 0xA
    }

    /// Default deadline, in seconds, for every call that does not pass its own.
    var timeout: Double
    /// Off lets a test check how the server treats a client that never answers pings.
    var autoPong = true
    /// Off lets a test check the server's close timeout against a client that never echoes close.
    var autoReplyToClose = true
    /// True once a close frame or EOF has been seen from the server.
    private(set) var isClosedByPeer = false
    private(set) var sentClose = false
    /// Response headers of the successful upgrade, names lowercased.
    let handshakeHeaders: [String: String]

    private let socket: TestTCPSocket
    // Fragment state lives on the instance so a receive() that times out mid-message can resume.
    private var fragmentOpcode: UInt8?
    private var fragments: [UInt8] = []

    // Bounds memory if the server (or a bug) announces an absurd frame length.
    private static let maxFramePayload: UInt64 = 256 << 20

    /// Pass an `extraHeaders` entry with the same name as a default handshake header to
    /// replace it; an empty value removes it (for malformed-handshake tests).
    /// `receiveBuffer` sets SO_RCVBUF before connecting: a small one makes the server's sends to this client
    /// partial as soon as it stops reading.
    init(
        port: Int, path: String = "/ws", host: String = "127.0.0.1", origin: String? = nil,
        extraHeaders: [String: String] = [:], timeout: Double = 5, receiveBuffer: Int32? = nil
    ) throws {
        self.timeout = timeout
        let deadline = TestDeadline(seconds: timeout)
        let socket = try TestTCPSocket(host: host, port: port, deadline: deadline, receiveBuffer: receiveBuffer)

        let key = Data(randomBytes(16)).base64EncodedString()
        var headers: [(String, String)] = [
            ("Host", "\(host):\(port)"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
        ]
        if let origin { headers.append(("Origin", origin)) }
        for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) {
            if let i = headers.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
                if value.isEmpty { headers.remove(at: i) } else { headers[i].1 = value }
            } else if !value.isEmpty {
                headers.append((name, value))
            }
        }
        var request = "GET \(path) HTTP/1.1\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try socket.write(Array(request.utf8), deadline: deadline)

        let head = try HTTPTestResponseReader.readHead(socket, deadline: deadline)
        guard head.status == 101 else {
            let body = (try? HTTPTestResponseReader.readBody(socket, head: head, method: "GET", deadline: deadline)) ?? []
            socket.close()
            throw WSTestError.handshakeFailed(status: head.status, body: String(decoding: body, as: UTF8.self))
        }
        guard head.headers["upgrade"]?.lowercased() == "websocket" else {
            socket.close()
            throw WSTestError.badHandshake("Upgrade header is \(head.headers["upgrade"] ?? "missing")")
        }
        guard let connection = head.headers["connection"],
            connection.lowercased().split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "upgrade" })
        else {
            socket.close()
            throw WSTestError.badHandshake("Connection header is \(head.headers["connection"] ?? "missing")")
        }
        let expectedAccept = Data(TestSHA1.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
            .base64EncodedString()
        guard head.headers["sec-websocket-accept"] == expectedAccept else {
            socket.close()
            throw WSTestError.badHandshake(
                "Sec-WebSocket-Accept is \(head.headers["sec-websocket-accept"] ?? "missing"), expected \(expectedAccept)")
        }
        self.socket = socket
        self.handshakeHeaders = head.headers
    }

    deinit { socket.close() }

    // MARK: Sending

    func sendText(_ s: String) throws { try sendFrame(opcode: Opcode.text, payload: Array(s.utf8)) }

    func sendBinary(_ b: [UInt8]) throws { try sendFrame(opcode: Opcode.binary, payload: b) }

    func sendPing(_ payload: [UInt8] = []) throws { try sendFrame(opcode: Opcode.ping, payload: payload) }

    func sendClose(code: UInt16 = 1000, reason: String = "") throws {
        try sendFrame(opcode: Opcode.close, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    /// Builds exactly the frame asked for, valid or not. `rsv` is the 3-bit RSV1..RSV3 field;
    /// `declaredLength` replaces the real payload length in the header while the real
    /// payload bytes are still sent.
    func sendFrame(
        opcode: UInt8, payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv: UInt8 = 0,
        declaredLength: UInt64? = nil
    ) throws {
        let frame = Self.frame(opcode: opcode, payload: payload, fin: fin, masked: masked, rsv: rsv, declaredLength: declaredLength)
        try socket.write(frame, deadline: TestDeadline(seconds: timeout))
        if opcode == Opcode.close { sentClose = true }
    }

    /// The bytes `sendFrame` would write: several of them sent with one `sendRaw` reach the server in one read.
    static func frame(
        opcode: UInt8, payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv: UInt8 = 0,
        declaredLength: UInt64? = nil
    ) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 14)
        frame.append((fin ? 0x80 : 0) | ((rsv & 0x07) << 4) | (opcode & 0x0F))
        let length = declaredLength ?? UInt64(payload.count)
        let maskBit: UInt8 = masked ? 0x80 : 0
        if length < 126 {
            frame.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            frame.append(maskBit | 126)
            frame.append(UInt8(length >> 8))
            frame.append(UInt8(length & 0xFF))
        } else {
            frame.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        }
        if masked {
            let key = randomBytes(4)
            frame.append(contentsOf: key)
            for (i, byte) in payload.enumerated() { frame.append(byte ^ key[i & 3]) }
        } else {
            frame.append(contentsOf: payload)
        }
        return frame
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        try socket.write(bytes, deadline: TestDeadline(seconds: timeout))
    }

    // MARK: Receiving

    /// Next complete message. Control frames are returned too (after auto-replying),
    /// so tests can assert on them; use `receiveText` to skip them.
    func receive(timeout: Double? = nil) throws -> Message {
        let deadline = TestDeadline(seconds: timeout ?? self.timeout)
        while true {
            let (fin, opcode, payload) = try readFrame(deadline: deadline)
            switch opcode {
            case Opcode.continuation:
                guard let started = fragmentOpcode else {
                    throw WSTestError.protocolViolation("continuation frame without a message in progress")
                }
                fragments.append(contentsOf: payload)
                if fin {
                    let whole = fragments
                    fragmentOpcode = nil
                    fragments = []
                    return try dataMessage(opcode: started, payload: whole)
                }
            case Opcode.text, Opcode.binary:
                guard fragmentOpcode == nil else {
                    throw WSTestError.protocolViolation("new data frame while a fragmented message is in progress")
                }
                if fin { return try dataMessage(opcode: opcode, payload: payload) }
                fragmentOpcode = opcode
                fragments = payload
            case Opcode.close:
                isClosedByPeer = true
                var code: UInt16?
                var reason = ""
                if payload.count >= 2 {
                    code = UInt16(payload[0]) << 8 | UInt16(payload[1])
                    reason = String(decoding: payload[2...], as: UTF8.self)
                }
                if autoReplyToClose && !sentClose {
                    // The peer may already have dropped TCP; the echo is a courtesy, not a check.
                    try? sendFrame(opcode: Opcode.close, payload: Array(payload.prefix(2)))
                }
                return .close(code: code, reason: reason)
            case Opcode.ping:
                if autoPong && !sentClose { try? sendFrame(opcode: Opcode.pong, payload: payload) }
                return .ping(payload)
            case Opcode.pong:
                return .pong(payload)
            default:
                throw WSTestError.protocolViolation("server sent reserved opcode \(opcode)")
            }
        }
    }

    /// Skips ping/pong; a close becomes `WSTestError.closed`.
    func receiveText(timeout: Double? = nil) throws -> String {
        let deadline = TestDeadline(seconds: timeout ?? self.timeout)
        while true {
            switch try receive(timeout: deadline.remainingSeconds) {
            case .text(let s): return s
            case .ping, .pong: continue
            case .close(let code, let reason): throw WSTestError.closed(code: code, reason: reason)
            case let other: throw WSTestError.unexpectedMessage("wanted text, got \(other)")
            }
        }
    }

    func receiveBinary(timeout: Double? = nil) throws -> [UInt8] {
        let deadline = TestDeadline(seconds: timeout ?? self.timeout)
        while true {
            switch try receive(timeout: deadline.remainingSeconds) {
            case .binary(let b): return b
            case .ping, .pong: continue
            case .close(let code, let reason): throw WSTestError.closed(code: code, reason: reason)
            case let other: throw WSTestError.unexpectedMessage("wanted binary, got \(other)")
            }
        }
    }

    /// Discards everything up to the close frame; nil means the server dropped TCP without one.
    func expectClose(timeout: Double? = nil) throws -> UInt16? {
        let deadline = TestDeadline(seconds: timeout ?? self.timeout)
        while true {
            do {
                if case .close(let code, _) = try receive(timeout: deadline.remainingSeconds) { return code }
            } catch WSTestError.connectionClosed {
                return nil
            }
        }
    }

    /// Drops the TCP connection without a close handshake; use `sendClose` for a polite goodbye.
    func close() { socket.close() }

    // MARK: Internals

    private func dataMessage(opcode: UInt8, payload: [UInt8]) throws -> Message {
        if opcode == Opcode.binary { return .binary(payload) }
        guard let s = String(validating: payload, as: UTF8.self) else {
            throw WSTestError.protocolViolation("text message is not valid UTF-8")
        }
        return .text(s)
    }

    // Parses only from the buffer and consumes a frame once it is complete, so a timeout
    // leaves the stream intact for the next call.
    private func readFrame(deadline: TestDeadline) throws -> (fin: Bool, opcode: UInt8, payload: [UInt8]) {
        func need(_ n: Int) throws {
            guard try socket.ensureBuffered(n, deadline: deadline) else {
                isClosedByPeer = true
                throw WSTestError.connectionClosed
            }
        }
        try need(2)
        let b0 = socket.buffered(0), b1 = socket.buffered(1)
        var headerLength = 2
        var length = UInt64(b1 & 0x7F)
        if length == 126 {
            try need(4)
            length = UInt64(socket.buffered(2)) << 8 | UInt64(socket.buffered(3))
            headerLength = 4
        } else if length == 127 {
            try need(10)
            length = (2..<10).reduce(UInt64(0)) { $0 << 8 | UInt64(socket.buffered($1)) }
            headerLength = 10
        }
        let masked = b1 & 0x80 != 0
        if masked { headerLength += 4 }
        guard length <= Self.maxFramePayload else {
            throw WSTestError.protocolViolation("server frame announces \(length) bytes")
        }
        try need(headerLength + Int(length))
        var payload = socket.bufferedBytes(headerLength..<(headerLength + Int(length)))
        if masked {
            let key = socket.bufferedBytes((headerLength - 4)..<headerLength)
            for i in payload.indices { payload[i] ^= key[i & 3] }
        }
        socket.consume(headerLength + Int(length))
        return (b0 & 0x80 != 0, b0 & 0x0F, payload)
    }
}

private func randomBytes(_ n: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

// MARK: - Socket plumbing shared with HTTPTestClient

struct TestDeadline {
    let instant: ContinuousClock.Instant

    init(seconds: Double) {
        instant = .now + .nanoseconds(Int64(max(0, min(seconds, 86_400)) * 1e9))
    }

    var remainingSeconds: Double {
        let left = instant - .now
        guard left > .zero else { return 0 }
        let c = left.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// Rounded up so a sub-millisecond remainder still polls instead of spinning.
    var remainingMilliseconds: Int32 {
        let s = remainingSeconds
        return s <= 0 ? 0 : Int32(clamping: Int((s * 1000).rounded(.up)))
    }
}

private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

// Non-blocking underneath, with poll() for waiting: that way neither connect, read nor a
// large write can outlive its deadline, even if the peer stops reading.
final class TestTCPSocket {
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    #if canImport(Glibc)
    // MSG_NOSIGNAL: writing to a socket the server already closed must throw, not SIGPIPE the test runner.
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let sendFlags: Int32 = 0
    private static let streamType = SOCK_STREAM
    #endif

    init(host: String, port: Int, deadline: TestDeadline, receiveBuffer: Int32? = nil) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Self.streamType
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw WSTestError.connectFailed("\(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }

        var lastError = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate {
            candidate = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if s < 0 { lastError = errno; continue }
            _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
            if var size = receiveBuffer {
                _ = setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            #if !canImport(Glibc)
            var on: Int32 = 1
            _ = setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else { lastError = errno; closeDescriptor(s); continue }
                do {
                    try Self.wait(s, for: Int16(POLLOUT), deadline: deadline)
                } catch {
                    closeDescriptor(s)
                    throw error
                }
                var soError: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(s, SOL_SOCKET, SO_ERROR, &soError, &len)
                if soError != 0 { lastError = soError; closeDescriptor(s); continue }
            }
            // Frames are small and tests are latency-bound; Nagle would only add delay.
            var one: Int32 = 1
            _ = setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            fd = s
            return
        }
        throw WSTestError.connectFailed("\(host):\(port): \(String(cString: strerror(lastError)))")
    }

    deinit { close() }

    func close() {
        guard fd >= 0 else { return }
        closeDescriptor(fd)
        fd = -1
    }

    private static func wait(_ fd: Int32, for events: Int16, deadline: TestDeadline) throws {
        while true {
            let ms = deadline.remainingMilliseconds
            if ms == 0 { throw WSTestError.timeout }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, ms)
            // Readiness includes HUP/ERR; the following recv/send reports the actual condition.
            if r > 0 { return }
            if r < 0 && errno != EINTR { throw WSTestError.io(operation: "poll", errno: errno) }
        }
    }

    func write(_ bytes: [UInt8], deadline: TestDeadline) throws {
        guard fd >= 0 else { throw WSTestError.notConnected }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Self.sendFlags)
            }
            if n >= 0 { offset += n; continue }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try Self.wait(fd, for: Int16(POLLOUT), deadline: deadline)
            case EPIPE, ECONNRESET: throw WSTestError.connectionClosed
            default: throw WSTestError.io(operation: "send", errno: e)
            }
        }
    }

    /// Reads at least one more chunk; false on EOF. Data already in the kernel is taken even
    /// when the deadline has passed, so a zero timeout still drains what has arrived.
    func fill(deadline: TestDeadline) throws -> Bool {
        guard fd >= 0 else { throw WSTestError.notConnected }
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buffer.append(contentsOf: scratch[0..<n]); return true }
            if n == 0 { return false }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try Self.wait(fd, for: Int16(POLLIN), deadline: deadline)
            // A reset after the server's close is just a rude EOF for our purposes.
            case ECONNRESET: return false
            default: throw WSTestError.io(operation: "recv", errno: e)
            }
        }
    }

    func ensureBuffered(_ count: Int, deadline: TestDeadline) throws -> Bool {
        while buffer.count < count {
            if try !fill(deadline: deadline) { return false }
        }
        return true
    }

    var bufferedCount: Int { buffer.count }
    func buffered(_ i: Int) -> UInt8 { buffer[i] }
    func bufferedBytes(_ r: Range<Int>) -> [UInt8] { Array(buffer[r]) }
    func consume(_ n: Int) { buffer.removeFirst(n) }

    func take(_ n: Int) -> [UInt8] {
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    func readExactly(_ n: Int, deadline: TestDeadline) throws -> [UInt8] {
        guard try ensureBuffered(n, deadline: deadline) else { throw WSTestError.connectionClosed }
        return take(n)
    }

    /// Bytes up to and including `delimiter`; nil on EOF before it.
    func readUntil(_ delimiter: [UInt8], limit: Int, deadline: TestDeadline) throws -> [UInt8]? {
        var searchFrom = 0
        while true {
            if buffer.count >= delimiter.count {
                var i = searchFrom
                while i + delimiter.count <= buffer.count {
                    if buffer[i..<(i + delimiter.count)].elementsEqual(delimiter) { return take(i + delimiter.count) }
                    i += 1
                }
                searchFrom = i
            }
            if buffer.count > limit { throw WSTestError.protocolViolation("no \(delimiter) within \(limit) bytes") }
            if try !fill(deadline: deadline) { return nil }
        }
    }

    func readToEOF(deadline: TestDeadline) throws -> [UInt8] {
        while try fill(deadline: deadline) {}
        return take(buffer.count)
    }
}

// MARK: - SHA-1, only for checking Sec-WebSocket-Accept (Foundation has none on Linux)

enum TestSHA1 {
    static func digest(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }

        func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
        var w = [UInt32](repeating: 0, count: 80)
        for block in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = block + 4 * i
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for i in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch i {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, rotl(b, 30), a, t)
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
        }
        return h.flatMap { v in [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    }
}
