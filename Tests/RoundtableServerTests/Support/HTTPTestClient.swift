import Foundation

// One request per connection (Connection: close) keeps the reader simple and means a
// test never depends on the server's keep-alive behaviour by accident.
struct HTTPTestClient {
    typealias Response = (status: Int, headers: [String: String], body: [UInt8])

    /// Header names in the result are lowercased; repeated headers are joined with ", ".
    static func get(port: Int, path: String, headers: [String: String] = [:], timeout: Double = 5) throws -> Response {
        try request(method: "GET", port: port, path: path, headers: headers, timeout: timeout)
    }

    static func request(
        method: String, port: Int, path: String, host: String = "127.0.0.1", headers: [String: String] = [:],
        body: [UInt8] = [], timeout: Double = 5
    ) throws -> Response {
        let deadline = TestDeadline(seconds: timeout)
        let socket = try TestTCPSocket(host: host, port: port, deadline: deadline)
        defer { socket.close() }

        var fields: [(String, String)] = [("Host", "\(host):\(port)"), ("Connection", "close")]
        if !body.isEmpty || method == "POST" || method == "PUT" { fields.append(("Content-Length", String(body.count))) }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let i = fields.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
                fields[i].1 = value
            } else {
                fields.append((name, value))
            }
        }
        var head = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in fields { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try socket.write(Array(head.utf8) + body, deadline: deadline)

        var response = try HTTPTestResponseReader.readHead(socket, deadline: deadline)
        // Interim 1xx responses (other than an upgrade) precede the real one.
        while (100..<200).contains(response.status) && response.status != 101 {
            response = try HTTPTestResponseReader.readHead(socket, deadline: deadline)
        }
        let payload = try HTTPTestResponseReader.readBody(socket, head: response, method: method, deadline: deadline)
        return (response.status, response.headers, payload)
    }
}

/// HTTP/1.1 response parsing shared by HTTPTestClient and the WebSocket upgrade.
enum HTTPTestResponseReader {
    struct Head {
        var status: Int
        var reason: String
        var headers: [String: String]
    }

    private static let crlf: [UInt8] = [13, 10]

    static func readHead(_ socket: TestTCPSocket, deadline: TestDeadline) throws -> Head {
        guard let raw = try socket.readUntil(crlf + crlf, limit: 64 * 1024, deadline: deadline) else {
            throw WSTestError.connectionClosed
        }
        let text = String(decoding: raw.dropLast(4), as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw WSTestError.protocolViolation("bad HTTP status line: \(statusLine)")
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw WSTestError.protocolViolation("bad HTTP header line: \(line)")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return Head(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
    }

    static func readBody(_ socket: TestTCPSocket, head: Head, method: String, deadline: TestDeadline) throws -> [UInt8] {
        if method == "HEAD" || (100..<200).contains(head.status) || head.status == 204 || head.status == 304 {
            return []
        }
        if let te = head.headers["transfer-encoding"], te.lowercased().contains("chunked") {
            return try readChunked(socket, deadline: deadline)
        }
        if let lengthText = head.headers["content-length"] {
            guard let length = Int(lengthText.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                throw WSTestError.protocolViolation("bad Content-Length: \(lengthText)")
            }
            return try socket.readExactly(length, deadline: deadline)
        }
        return try socket.readToEOF(deadline: deadline)
    }

    private static func readChunked(_ socket: TestTCPSocket, deadline: TestDeadline) throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            guard let sizeLine = try socket.readUntil(crlf, limit: 4096, deadline: deadline) else {
                throw WSTestError.connectionClosed
            }
            let text = String(decoding: sizeLine.dropLast(2), as: UTF8.self)
            let sizeField = text.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw WSTestError.protocolViolation("bad chunk size line: \(text)")
            }
            if size == 0 {
                // Trailer section ends with an empty line.
                while let line = try socket.readUntil(crlf, limit: 64 * 1024, deadline: deadline), line.count > 2 {}
                return body
            }
            body += try socket.readExactly(size, deadline: deadline)
            guard try socket.readExactly(2, deadline: deadline) == crlf else {
                throw WSTestError.protocolViolation("chunk not followed by CRLF")
            }
        }
    }
}
