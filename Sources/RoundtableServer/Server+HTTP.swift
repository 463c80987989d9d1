import CLibWebSockets
import Logging
import RoundtableCore
import RoundtableWire

#if canImport(Glibc)
import Glibc
#endif

/// A dynamic HTTP response waiting for its WRITEABLE callback.
struct HTTPResponse {
    var body: [UInt8]
}

extension RoundtableServer {
    /// Routes plain HTTP on the WebSocket port: health, readiness, metrics, facilitator reports, the web client.
    func http(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
        switch path {
        case "/healthz":
            return respond(wsi, 200, "application/json", Array("{\"status\":\"ok\",\"version\":\"\(RoundtableVersion.string)\"}".utf8))
        case "/readyz":
            return ready
                ? respond(wsi, 200, "application/json", Array("{\"ready\":true}".utf8))
                : respond(wsi, 503, "application/json", Array("{\"ready\":false}".utf8))
        case "/ws":
            return respond(wsi, 426, "text/plain", Array("Upgrade to WebSocket here.\n".utf8))
        case "/metrics":
            return serveMetrics(wsi)
        case "/config.json":
            // What the web client needs to know about this deployment: the public address for join links and QR codes.
            let url: Value = config.publicUrl.map { .string($0) } ?? .null
            return respond(wsi, 200, "application/json", JSON.serialize(["publicUrl": url]))
        case _ where path.hasPrefix("/rooms/"):
            return serveReport(wsi, path)
        default:
            return serveStatic(wsi, path)
        }
    }

    /// Files under the web root; `/` and `/r/{code}` get the client page. `..` never leaves the root.
    private func serveStatic(_ wsi: OpaquePointer, _ path: String) -> Int32 {
        var relative = path
        if relative == "/" || relative.hasPrefix("/r/") { relative = "/index.html" }
        let parts = relative.split(separator: "/")
        guard !parts.contains(where: { $0 == ".." || $0.hasPrefix(".") }) else {
            return respond(wsi, 404, "text/plain", Array("not found\n".utf8))
        }
        let file = config.webRoot + "/" + parts.joined(separator: "/")
        var st = stat()
        guard stat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return respond(wsi, 404, "text/plain", Array("not found\n".utf8))
        }
        let rc = lws_serve_http_file(wsi, file, mimeType(file), nil, 0)
        if rc < 0 { return -1 }
        if rc > 0 && lws_http_transaction_completed(wsi) != 0 { return -1 }
        return 0
    }

    private func mimeType(_ file: String) -> String {
        switch file.split(separator: ".").last ?? "" {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "md": "text/markdown; charset=utf-8"
        case "csv": "text/csv; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// Writes status and headers now; the body goes out on HTTP_WRITEABLE (see `Server+Reports.swift`
    /// for the variant with extra headers, which this forwards to).
    func respond(_ wsi: OpaquePointer, _ status: UInt32, _ contentType: String, _ body: [UInt8]) -> Int32 {
        respond(wsi, status, contentType, body, extraHeaders: [])
    }

    func httpWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard let response = httpResponses.removeValue(forKey: wsi) else { return 0 }
        let n = response.body.count
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: pre + max(n, 1))
        defer { buf.deallocate() }
        response.body.withUnsafeBufferPointer { (buf + pre).update(from: $0.baseAddress!, count: n) }
        if lws_write(wsi, buf + pre, n, LWS_WRITE_HTTP_FINAL) != n { return -1 }
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }
}

/// Routes lws' own log lines into swift-log (errors and warnings only: the rest is noise).
nonisolated(unsafe) private var lwsLogger: Logger?

func installLWSLogging(_ logger: Logger) {
    lwsLogger = logger
    lws_set_log_level(Int32(LLL_ERR) | Int32(LLL_WARN)) { level, line in
        guard let line else { return }
        var text = String(cString: line)
        while text.last == "\n" { text.removeLast() }
        if level & Int32(LLL_ERR) != 0 {
            lwsLogger?.error("lws: \(text)")
        } else {
            lwsLogger?.warning("lws: \(text)")
        }
    }
}
