import CLibWebSockets
import RoundtableCore
import RoundtableStore
import RoundtableWire

#if canImport(Glibc)
import Glibc
#endif

/// The three report documents and how each is served; `roundtable export` writes the same bytes.
public enum ReportFormat: String, CaseIterable, Sendable {
    case json, csv, md

    init?(file: Substring) {
        guard file.hasPrefix("report."), let f = ReportFormat(rawValue: String(file.dropFirst("report.".count))) else { return nil }
        self = f
    }

    public var contentType: String {
        switch self {
        case .json: "application/json"
        case .csv: "text/csv; charset=utf-8; header=present"
        case .md: "text/markdown; charset=utf-8"
        }
    }

    public func body(_ report: RoomReport) -> [UInt8] { body(json: report.json, csv: report.csv, markdown: report.markdown) }

    public func body(_ report: CommunityReport) -> [UInt8] { body(json: report.json, csv: report.csv, markdown: report.markdown) }

    /// Only the requested format is built: the autoclosures defer the other two.
    private func body(json: @autoclosure () -> Value, csv: @autoclosure () -> String, markdown: @autoclosure () -> String) -> [UInt8] {
        switch self {
        case .json:
            var bytes = JSON.serialize(json())
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        case .csv: return Array(csv().utf8)
        case .md: return Array(markdown().utf8)
        }
    }
}

/// What every report route checks first, in this order; `answered` means the refusal is already sent.
enum ReportPrelude {
    case proceed(ReportFormat, key: String)
    case answered(Int32)
}

extension RoundtableServer {
    /// A known format, then a bearer key (refused before any lookup), then a node that has finished recovering.
    func reportPrelude(_ wsi: OpaquePointer, file: String, keyOwner: String) -> ReportPrelude {
        guard let format = ReportFormat(file: Substring(file)) else { return .answered(reportNotFound(wsi)) }
        guard let key = bearerToken(wsi) else {
            return .answered(reportError(wsi, 401, "unauthorized", "send \(keyOwner) facilitator key as Authorization: Bearer KEY"))
        }
        guard ready else {
            return .answered(reportError(wsi, 503, "not_ready", "the server is still recovering; retry in a moment"))
        }
        return .proceed(format, key: key)
    }
}

extension RoundtableServer {
    /// `GET /rooms/{code}/report.{json,csv,md}` with `Authorization: Bearer FACILITATOR_KEY`.
    ///
    /// Runs on the service thread, so the room is read in place and the document reflects every change
    /// acknowledged so far. A missing or malformed header is refused before any lookup; a wrong key and a
    /// missing room are told apart because room codes are not secret (room.join says the same).
    /// `code` and `file` come from `HTTPRoute.report`; any other path under `/rooms/` gets `reportNotFound`.
    func serveReport(_ wsi: OpaquePointer, code rawCode: String, file: String) -> Int32 {
        let format: ReportFormat, key: String
        switch reportPrelude(wsi, file: file, keyOwner: "the room's") {
        case .answered(let status): return status
        case .proceed(let f, let k): (format, key) = (f, k)
        }
        let code = Crockford.normalize(rawCode)
        guard let keyHash = coordinator.rooms[code]?.facilitatorKeyHash ?? coordinator.archived[code]?.facilitatorKeyHash else {
            return reportError(wsi, 404, "room_not_found", "no room has this code")
        }
        guard constantTimeEquals(SHA256Hasher().digest(key), keyHash) else {
            logger.notice("report refused: wrong facilitator key", metadata: ["room": "\(code)"])
            return reportError(wsi, 401, "unauthorized", "this facilitator key is not valid in this room")
        }
        let room: Room
        if let live = coordinator.rooms[code] {
            room = live
        } else {
            // An archived room is read from its file for the report; it stays archived.
            do {
                guard let a = coordinator.archived[code], let journal else { throw ArchiveLoadError(description: "no data folder") }
                room = try Persistence.archivedRoom(in: journal.directory.path, code: code, seq: a.seq)
            } catch {
                logger.error("report: could not read an archived room", metadata: ["room": "\(code)", "error": "\(error)"])
                return reportError(wsi, 500, "archive_unavailable", "the archived room could not be read back")
            }
        }
        let body = format.body(RoomReport(room: room, generatedAt: wallClockMillis()))
        logger.info("report exported", metadata: ["room": "\(code)", "format": "\(format.rawValue)", "bytes": "\(body.count)"])
        var headers: [(String, String)] = []
        if format != .json {
            // Browsers save these as files with a useful name instead of showing them.
            headers.append(("content-disposition:", "attachment; filename=\"\(code)-report.\(format.rawValue)\""))
        }
        return respond(wsi, 200, format.contentType, body, extraHeaders: headers)
    }

    /// The token of `Authorization: Bearer TOKEN` (scheme case-insensitive, RFC 7235), or nil.
    func bearerToken(_ wsi: OpaquePointer) -> String? {
        let n = Int(lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION))
        // Keys are a few dozen characters; a huge header is not one.
        guard n > 0, n <= 1024 else { return nil }
        var buf = [CChar](repeating: 0, count: n + 1)
        guard lws_hdr_copy(wsi, &buf, Int32(buf.count), WSI_TOKEN_HTTP_AUTHORIZATION) >= 0 else { return nil }
        let value = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let words = value.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, words[0].lowercased() == "bearer" else { return nil }
        return String(words[1])
    }

    func reportNotFound(_ wsi: OpaquePointer) -> Int32 {
        reportError(
            wsi, 404, "not_found", "reports are at /rooms/{code}/report.json, report.csv or report.md, and /communities/{id}/report.json, .csv or .md")
    }

    func reportError(_ wsi: OpaquePointer, _ status: UInt32, _ code: String, _ message: String) -> Int32 {
        let body = JSON.serialize(["error": .string(code), "message": .string(message)])
        // RFC 6750: a 401 names the scheme it wants.
        let headers = status == 401 ? [("www-authenticate:", "Bearer realm=\"roundtable\"")] : []
        return respond(wsi, status, "application/json", body, extraHeaders: headers)
    }

    /// `respond` with more headers (`name:` lower-case with its colon, as lws wants it).
    func respond(
        _ wsi: OpaquePointer, _ status: UInt32, _ contentType: String, _ body: [UInt8], extraHeaders: [(String, String)]
    ) -> Int32 {
        let size = pre + 2048
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer { buf.deallocate() }
        let start = buf + pre
        var p: UnsafeMutablePointer<UInt8>? = start
        let end = buf + size
        if lws_add_http_common_headers(wsi, status, contentType, lws_filepos_t(body.count), &p, end) != 0 { return 1 }
        if lws_add_http_header_by_name(wsi, "cache-control:", "no-store", 8, &p, end) != 0 { return 1 }
        for (name, value) in extraHeaders {
            let v = Array(value.utf8)
            if lws_add_http_header_by_name(wsi, name, v, Int32(v.count), &p, end) != 0 { return 1 }
        }
        if lws_finalize_write_http_header(wsi, start, &p, end) != 0 { return 1 }
        httpResponses[wsi] = HTTPResponse(body: body)
        lws_callback_on_writable(wsi)
        return 0
    }
}
