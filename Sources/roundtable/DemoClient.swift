import CLibWebSockets
import Foundation
import RoundtableCore
import RoundtableWire

#if canImport(Glibc)
import Glibc
#endif

/// A small blocking WebSocket client (RFC 6455, plain `ws://`), enough for `roundtable demo` to talk to a
/// running node without anything installed beside the binary. Every read waits at most `timeout` seconds.
final class DemoClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    let timeout: Double

    init(host: String, port: Int, path: String = "/ws", timeout: Double = 5) throws {
        self.timeout = timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw Failure("cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var connected: Int32 = -1
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor, connected < 0 {
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { connected = s } else { Glibc.close(s) }
            }
            cursor = ai.pointee.ai_next
        }
        guard connected >= 0 else {
            throw Failure("cannot connect to \(host):\(port): is the server running? (Scripts/run.sh)")
        }
        fd = connected
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try handshake(host: host, port: port, path: path)
    }

    deinit { Glibc.close(fd) }

    private func handshake(host: String, port: Int, path: String) throws {
        let key = Data(randomBytes(16)).base64EncodedString()
        try writeAll(
            Array(
                ("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        while !buffer.ends(with: Array("\r\n\r\n".utf8)) { try fill(1) }
        let head = String(decoding: buffer, as: UTF8.self)
        buffer.removeAll()
        let lines = head.split(separator: "\r\n")
        guard let status = lines.first, status.hasPrefix("HTTP/1.1 101") else {
            throw Failure("the server refused the WebSocket upgrade: \(lines.first ?? "")")
        }
        // RFC 6455 §4.1: the accept value proves the answer comes from a WebSocket server that read our key.
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        var input = Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)
        _ = SHA1(&input, input.count, &digest)
        let expected = Data(digest).base64EncodedString()
        guard lines.contains(where: { $0.lowercased() == "sec-websocket-accept: \(expected.lowercased())" }) else {
            throw Failure("the server's WebSocket accept does not match")
        }
    }

    /// Sends one request; returns what the server said until the reply with the same `ref`, reply last.
    func request(_ body: Value.Object, ref: Value) throws -> [Value.Object] {
        var message = body
        message["ref"] = ref
        try sendText(JSON.string(.object(message)))
        var seen: [Value.Object] = []
        while true {
            let m = try receive()
            seen.append(m)
            if m["ref"] == ref, let type = m["type"]?.stringValue, type == "ack" || type == "error" { return seen }
        }
    }

    /// The next text message as a JSON object, answering pings on the way.
    func receive() throws -> Value.Object {
        while true {
            try fill(2)
            let opcode = buffer[0] & 0x0F
            var length = Int(buffer[1] & 0x7F)
            var header = 2
            if length == 126 {
                try fill(4)
                length = Int(buffer[2]) << 8 | Int(buffer[3])
                header = 4
            } else if length == 127 {
                try fill(10)
                length = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
                header = 10
            }
            try fill(header + length)
            let payload = Array(buffer[header..<header + length])
            buffer.removeFirst(header + length)
            switch opcode {
            case 0x1:
                guard case .object(let o) = try JSON.parse(payload, maxDepth: 64) else { throw Failure("a message that is not an object") }
                return o
            case 0x8:
                let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
                throw Failure("the server closed the connection (\(code) \(String(decoding: payload.dropFirst(2), as: UTF8.self)))")
            case 0x9: try sendFrame(opcode: 0xA, payload: payload)
            default: continue
            }
        }
    }

    func close() {
        try? sendFrame(opcode: 0x8, payload: [0x03, 0xE8])
    }

    private func sendText(_ text: String) throws { try sendFrame(opcode: 0x1, payload: Array(text.utf8)) }

    /// Client frames are masked (RFC 6455 §5.1).
    private func sendFrame(opcode: UInt8, payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask = randomBytes(4)
        frame += mask
        for (i, b) in payload.enumerated() { frame.append(b ^ mask[i & 3]) }
        try writeAll(frame)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw Failure("the connection broke while sending") }
            sent += n
        }
    }

    private func fill(_ count: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while buffer.count < count {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { throw Failure("the server closed the connection") }
            if n < 0 { throw Failure(errno == EAGAIN ? "no answer within \(Int(timeout)) s" : "read failed (errno \(errno))") }
            buffer += chunk[0..<n]
        }
    }

    private func randomBytes(_ n: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
}

extension Array where Element: Equatable {
    fileprivate func ends(with suffix: [Element]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
