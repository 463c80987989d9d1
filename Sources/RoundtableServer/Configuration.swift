import RoundtableCore
import RoundtableWire

/// Every setting of a Roundtable node, with its default. `Config/roundtable.json` lists them all;
/// docs/PROTOCOL.md ("Limits") and README.md ("Configuration") explain them.
public struct Configuration: Sendable {
    // server
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDir = "data"
    public var webRoot = "web"
    /// Bearer token for `GET /metrics`. nil: metrics only to direct loopback peers (no proxy in between).
    public var metricsToken: String?
    /// The address people use to reach this server (behind a proxy: the public one), e.g.
    /// `https://meet.example.org`; the web client builds join links and QR codes from it. nil: the page's own origin.
    public var publicUrl: String?
    /// libwebsockets' event loop: "libev" (the libwebsockets-evlib-ev plugin, epoll underneath; the default since
    /// it measured cheaper in every scenario, BENCHMARKS.md) or "poll" (built in, walks every socket per pass).
    public var eventLoop = "libev"
    // tls
    public var tlsCertificate: String?
    public var tlsPrivateKey: String?
    // storage
    public var fsync = "always"
    public var snapshotEveryEvents = 50_000
    public var snapshotEverySeconds = 300
    // transport
    public var maxFrameBytes = 65_536
    public var maxConnections = 19_000
    public var maxConnectionsPerAddress = 2_000
    public var sendQueueBytes = 4 << 20
    public var messagesPerSecond = 20.0
    public var messageBurst = 40.0
    /// Rate-limited messages tolerated before the connection is closed with 1008.
    public var rateLimitStrikes = 50
    /// Seconds a connection may stay outside a room. Fractions are allowed (integration tests use them).
    public var joinTimeoutSeconds = 30.0
    /// Quiet seconds before a keep-alive ping; 0: no pings. Fractions are allowed.
    public var pingIntervalSeconds = 30.0
    /// Seconds without any traffic before the connection is dropped; 0: never. Fractions are allowed.
    public var pingTimeoutSeconds = 75.0
    public var allowedOrigins: [String] = []
    // rooms
    public var roomCreateToken: String?
    /// A room nobody is connected to and nothing has happened in for this long is archived to the data
    /// folder (out of memory) until its facilitator comes back. 0 keeps every room in memory.
    public var archiveAfterIdleSeconds = 86_400
    // logging
    public var logLevel = "info"
    // the domain's limits
    public var limits = Limits()
    // calls: ICE servers and signaling limits (the domain's part), and the TURN shared secret (server only)
    public var calls = CallSettings()
    /// coturn's `static-auth-secret`; nil: no TURN credentials are minted. Prefer ROUNDTABLE_CALLS_TURNSECRET.
    public var turnSecret: String?

    public init() {}

    /// A configuration problem, naming the key so the operator can fix the file.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ key: String, _ why: String) { description = "configuration: \(key) \(why)" }
    }

    /// Reads a JSON configuration file's text; unknown keys are refused so typos do not pass silently.
    public static func parse(_ text: String) throws(Invalid) -> Configuration {
        let root: Value
        do { root = try JSON.parse(text, maxDepth: 16) } catch { throw Invalid("file", "is not valid JSON: \(error)") }
        guard let top = root.objectValue else { throw Invalid("file", "must be a JSON object") }
        var c = Configuration()
        try c.apply(top)
        try c.validate()
        return c
    }

    mutating func apply(_ top: Value.Object) throws(Invalid) {
        for (section, value) in top {
            if section.hasPrefix("_") { continue } // comments
            guard let o = value.objectValue else { throw Invalid(section, "must be an object") }
            for (key, v) in o where !key.hasPrefix("_") {
                try set("\(section).\(key)", v)
            }
        }
    }

    /// Sets one setting by its dotted name (also used for environment overrides); the table says its type.
    public mutating func set(_ path: String, _ v: Value) throws(Invalid) {
        guard let setting = Self.settingsByName[path] else { throw Invalid(path, "is not a known setting") }
        if let why = setting.check(v) { throw Invalid(path, why) }
        setting.write(&self, v)
    }

    /// Applies `ROUNDTABLE_SECTION_KEY=value` overrides, e.g. `ROUNDTABLE_SERVER_PORT=9000`.
    public mutating func applyEnvironment(_ env: [String: String]) throws(Invalid) {
        for setting in Self.settings {
            guard let raw = env[setting.environmentName] else { continue }
            let v: Value = (try? JSON.parse(raw, maxDepth: 4)) ?? .string(raw)
            try set(setting.name, v)
        }
        try validate()
    }

    /// The table's bounds and choices, then the rules that involve more than one setting or a shape.
    public func validate() throws(Invalid) {
        try validateBounds()
        if !["always", "everysec", "none"].contains(fsync) { throw Invalid("storage.fsync", "must be always, everysec or none") }
        if let u = publicUrl,
            !(u.hasPrefix("https://") || u.hasPrefix("http://")) || u.count < 9 || u.contains(where: { $0 == " " || $0 == "\"" || $0 == "<" || $0 == ">" })
        {
            throw Invalid("server.publicUrl", "must be an http:// or https:// address such as https://meet.example.org")
        }
        if !["poll", "libev"].contains(eventLoop) { throw Invalid("server.eventLoop", "must be poll or libev") }
        if (tlsCertificate == nil) != (tlsPrivateKey == nil) {
            throw Invalid("tls", "needs both certificate and privateKey, or neither")
        }
        if sendQueueBytes < maxFrameBytes { throw Invalid("transport.sendQueueBytes", "must be at least maxFrameBytes") }
        if limits.roomCodePrefix.count > 3 || !limits.roomCodePrefix.utf8.allSatisfy({ Crockford.alphabet.contains($0) }) {
            throw Invalid("cluster.nodePrefix", "must be 0 to 3 Crockford base32 characters (0-9, A-Z without I, L, O, U)")
        }
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            throw Invalid("logging.level", "must be trace, debug, info, notice, warning, error or critical")
        }
        try validateCalls()
    }
}

extension Configuration {
    func validateCalls() throws(Invalid) {
        if let u = calls.stunUrls.first(where: { !($0.hasPrefix("stun:") || $0.hasPrefix("stuns:")) }) {
            throw Invalid("calls.stunUrls", "entries must start with stun: or stuns: (\(u))")
        }
        if let u = calls.turnUrls.first(where: { !($0.hasPrefix("turn:") || $0.hasPrefix("turns:")) }) {
            throw Invalid("calls.turnUrls", "entries must start with turn: or turns: (\(u))")
        }
        if !calls.turnUrls.isEmpty && (turnSecret ?? "").isEmpty {
            throw Invalid("calls.turnUrls", "need calls.turnSecret (or ROUNDTABLE_CALLS_TURNSECRET): TURN servers are useless without credentials")
        }
    }

    /// The TURN minter for the coordinator, when a secret is configured.
    public var turnMinter: (any TurnCredentialMinter)? {
        guard let s = turnSecret, !s.isEmpty else { return nil }
        return HMACSHA1TurnMinter(secret: s)
    }
}
