/// The HTTP routes, matched on exact paths (a whitelist). Anything that is not one of these shapes is a 404.
///
/// What the server can and cannot see of the request target: libwebsockets 4.1.6 rewrites the URI while it
/// parses the request line, before any callback (`lws_parse_urldecode` in lib/roles/http/parsers.c): it
/// decodes `%XX`, turns `+` into a space, collapses `//`, drops `/./`, resolves `/../`, and cuts the path at
/// an unescaped `;` or `&` into separate fragments of the URI header. It keeps no copy of the raw request
/// line. So `//metrics`, `/./metrics`, `/x/../metrics` and `/%6detrics` reach the server as `/metrics` and
/// cannot be told apart from it; those spellings must be refused in front (the shipped nginx file does).
/// The cut at `;`/`&` is visible (the URI header then has more than one fragment) and such requests are
/// refused here: `/metrics;x` is a 404.
enum HTTPRoute: Equatable {
    case healthz
    case readyz
    case metrics
    /// `GET /config.json`: what the web client needs to know about this deployment (`server.publicUrl`).
    case deploymentConfig
    /// `GET /ws` or `/ws/{code}` without an upgrade (426).
    case webSocketWithoutUpgrade
    /// `/rooms/{code}/report.{json,csv,md}`; the format is checked by `serveReport`.
    case report(code: String, file: String)
    /// `/communities/{id}/report.{json,csv,md}`; the format is checked by `serveCommunityReport`.
    case communityReport(id: String, file: String)
    /// `/` and `/r/{code}`: the web client's page.
    case clientPage
    /// `/{name}` or `/{dir}/.../{name}`: a file under the web root.
    case file([String])

    /// `path` is the decoded path lws hands over; `wholeURI` says whether it is the whole URI header
    /// (false when lws cut it at `;` or `&`).
    init?(path: String, wholeURI: Bool) {
        guard wholeURI else { return nil }
        switch path {
        case "/healthz": self = .healthz
        case "/readyz": self = .readyz
        case "/metrics": self = .metrics
        case "/config.json": self = .deploymentConfig
        case "/": self = .clientPage
        default:
            guard path.first == "/" else { return nil }
            // `/ws` and `/ws/{code}` take upgrades; a plain GET there is told to upgrade, on either route.
            if Self.isWebSocketPath(path, wholeURI: true) {
                self = .webSocketWithoutUpgrade
                return
            }
            let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, parts[0] == "r", Self.isCode(parts[1]) {
                self = .clientPage
            } else if parts.count == 3, parts[0] == "rooms", Self.isCode(parts[1]), parts[2].hasPrefix("report.") {
                self = .report(code: parts[1], file: parts[2])
            } else if parts.count == 3, parts[0] == "communities", Self.isCode(parts[1]), parts[2].hasPrefix("report.") {
                self = .communityReport(id: parts[1], file: parts[2])
            } else if parts.allSatisfy(Self.isFileName), !["r", "rooms", "communities", "ws"].contains(parts[0]) {
                self = .file(parts)
            } else {
                return nil
            }
        }
    }

    /// WebSocket upgrades are accepted on `/ws` and `/ws/{code}` only.
    static func isWebSocketPath(_ path: String, wholeURI: Bool) -> Bool {
        guard wholeURI else { return false }
        if path == "/ws" { return true }
        guard path.hasPrefix("/ws/") else { return false }
        return isCode(String(path.dropFirst(4)))
    }

    /// A room code as it can appear in a path: 1 to 32 ASCII letters, digits and `-` (codes are shown
    /// grouped with dashes; `Crockford.normalize` drops them and upper-cases), starting with a letter or digit.
    static func isCode(_ s: String) -> Bool {
        guard let first = s.utf8.first, isAlnum(first), s.utf8.count <= 32 else { return false }
        return s.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// One path component of a static file: ASCII letters, digits, `_`, `-` and `.`, not starting with `.`
    /// (so no `.`, `..` or dot-files), at most 128 bytes.
    static func isFileName(_ s: String) -> Bool {
        guard let first = s.utf8.first, first != UInt8(ascii: "."), s.utf8.count <= 128 else { return false }
        return s.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}
