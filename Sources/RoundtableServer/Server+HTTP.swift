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
    /// Exact paths only (`HTTPRoute`); lws passes the URI cut at its first unescaped `;` or `&`, with `len`
    /// counting every piece, so a cut URI is told by its length and refused.
    func http(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        guard let input else { return notFound(wsi) }
        let path = String(cString: input.assumingMemoryBound(to: CChar.self))
        guard let route = HTTPRoute(path: path, wholeURI: path.utf8.count == len) else {
            return path.hasPrefix("/rooms/") || path.hasPrefix("/communities/") ? reportNotFound(wsi) : notFound(wsi)
        }
        switch route {
        case .healthz:
            return respond(wsi, 200, "application/json", Array("{\"status\":\"ok\",\"version\":\"\(RoundtableVersion.string)\"}".utf8))
        case .readyz:
            return ready
                ? respond(wsi, 200, "application/json", Array("{\"ready\":true}".utf8))
                : respond(wsi, 503, "application/json", Array("{\"ready\":false}".utf8))
        case .webSocketWithoutUpgrade:
            return respond(wsi, 426, "text/plain", Array("Upgrade to WebSocket here.\n".utf8))
        case .metrics:
            return serveMetrics(wsi)
        case .report(let code, let file):
            return serveReport(wsi, code: code, file: file)
        case .communityReport(let id, let file):
            return serveCommunityReport(wsi, id: id, file: file)
        case .deploymentConfig:
            // What the web client needs to know about this deployment: the public address for join links and QR codes.
            let url: Value = config.publicUrl.map { .string($0) } ?? .null
            return respond(wsi, 200, "application/json", JSON.serialize(["publicUrl": url]))
        case .clientPage:
            return serveStatic(wsi, ["index.html"])
        case .file(let components):
            return serveStatic(wsi, components)
        }
    }

    /// The path of the request being upgraded, for `HTTPRoute.isWebSocketPath` (h1: the GET URI; h2: `:path`).
    func upgradeRequestIsForWebSocketPath(_ wsi: OpaquePointer) -> Bool {
        for token in [WSI_TOKEN_GET_URI, WSI_TOKEN_HTTP_COLON_PATH] {
            let total = Int(lws_hdr_total_length(wsi, token))
            guard total > 0 else { continue }
            guard total < 256 else { return false }
            var buf = [CChar](repeating: 0, count: total + 1)
            guard lws_hdr_copy_fragment(wsi, &buf, Int32(buf.count), token, 0) >= 0 else { return false }
            let path = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return HTTPRoute.isWebSocketPath(path, wholeURI: path.utf8.count == total)
        }
        return false
    }

    func notFound(_ wsi: OpaquePointer) -> Int32 {
        respond(wsi, 404, "text/plain", Array("not found\n".utf8))
    }

    /// A file under the web root, opened one component at a time with `O_NOFOLLOW`: a symlink anywhere
    /// below the web root (to a file or a directory, pointing inside or outside) is a 404, and so is
    /// anything but a regular file. lws then opens `/proc/self/fd/N`, the very file checked here, so a
    /// path swapped for a symlink between the check and the open changes nothing.
    private func serveStatic(_ wsi: OpaquePointer, _ components: [String]) -> Int32 {
        guard let fd = Self.openBeneath(config.webRoot, components) else { return notFound(wsi) }
        defer { close(fd) }
        let rc = lws_serve_http_file(wsi, "/proc/self/fd/\(fd)", mimeType(components.last ?? ""), nil, 0)
        if rc < 0 { return -1 }
        if rc > 0 && lws_http_transaction_completed(wsi) != 0 { return -1 }
        return 0
    }

    /// An fd open for reading on the regular file `root/components...`, or nil if any component is missing,
    /// is a symlink, or the last one is not a regular file. `root` itself may be a symlink (the operator's choice).
    static func openBeneath(_ root: String, _ components: [String]) -> Int32? {
        guard !components.isEmpty else { return nil }
        var dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        for (i, name) in components.enumerated() {
            let last = i == components.count - 1
            // O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it anyway.
            let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY)
            let next = openat(dir, name, flags)
            close(dir)
            guard next >= 0 else { return nil }
            dir = next
        }
        var st = stat()
        guard fstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(dir)
            return nil
        }
        return dir
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
