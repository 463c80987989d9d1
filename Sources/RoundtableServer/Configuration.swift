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
            if section.hasPrefix("_") { continue }  // comments
            guard let o = value.objectValue else { throw Invalid(section, "must be an object") }
            for (key, v) in o where !key.hasPrefix("_") {
                try set("\(section).\(key)", v)
            }
        }
    }

    /// Sets one setting by its dotted name (also used for environment overrides).
    public mutating func set(_ path: String, _ v: Value) throws(Invalid) {
        func str() throws(Invalid) -> String {
            guard let s = v.stringValue else { throw Invalid(path, "must be a string") }
            return s
        }
        func optStr() throws(Invalid) -> String? { v.isNull ? nil : try str() }
        func int() throws(Invalid) -> Int {
            guard let i = v.intValue else { throw Invalid(path, "must be an integer") }
            return Int(i)
        }
        func num() throws(Invalid) -> Double {
            guard let d = v.doubleValue else { throw Invalid(path, "must be a number") }
            return d
        }
        func strings() throws(Invalid) -> [String] {
            guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else { throw Invalid(path, "must be an array of strings") }
            return a.compactMap(\.stringValue)
        }
        switch path {
        case "server.host": host = try str()
        case "server.port": port = try int()
        case "server.dataDir": dataDir = try str()
        case "server.webRoot": webRoot = try str()
        case "server.metricsToken": metricsToken = try optStr()
        case "server.publicUrl": publicUrl = try optStr().map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        case "tls.certificate": tlsCertificate = try optStr()
        case "tls.privateKey": tlsPrivateKey = try optStr()
        case "storage.fsync": fsync = try str()
        case "storage.snapshotEveryEvents": snapshotEveryEvents = try int()
        case "storage.snapshotEverySeconds": snapshotEverySeconds = try int()
        case "transport.maxFrameBytes": maxFrameBytes = try int()
        case "transport.maxConnections": maxConnections = try int()
        case "transport.maxConnectionsPerAddress": maxConnectionsPerAddress = try int()
        case "transport.sendQueueBytes": sendQueueBytes = try int()
        case "transport.messagesPerSecond": messagesPerSecond = try num()
        case "transport.messageBurst": messageBurst = try num()
        case "transport.rateLimitStrikes": rateLimitStrikes = try int()
        case "transport.joinTimeoutSeconds": joinTimeoutSeconds = try num()
        case "transport.pingIntervalSeconds": pingIntervalSeconds = try num()
        case "transport.pingTimeoutSeconds": pingTimeoutSeconds = try num()
        case "transport.allowedOrigins":
            guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                throw Invalid(path, "must be an array of strings")
            }
            allowedOrigins = a.compactMap(\.stringValue)
        case "rooms.createToken": roomCreateToken = try optStr()
        case "rooms.archiveAfterIdleSeconds": archiveAfterIdleSeconds = try int()
        case "logging.level": logLevel = try str()
        case "limits.maxRooms": limits.maxRooms = try int()
        case "limits.maxMembersPerRoom": limits.maxMembersPerRoom = try int()
        case "limits.maxNameLength": limits.maxNameLength = try int()
        case "limits.maxTitleLength": limits.maxTitleLength = try int()
        case "limits.maxTextLength": limits.maxTextLength = try int()
        case "limits.maxTags": limits.maxTags = try int()
        case "limits.maxTagLength": limits.maxTagLength = try int()
        case "limits.maxNeedsPerRoom": limits.maxNeedsPerRoom = try int()
        case "limits.maxPollsPerRoom": limits.maxPollsPerRoom = try int()
        case "limits.maxOptionsPerPoll": limits.maxOptionsPerPoll = try int()
        case "limits.maxGroupsPerRoom": limits.maxGroupsPerRoom = try int()
        case "limits.maxAgendaSteps": limits.maxAgendaSteps = try int()
        case "limits.resumeBufferEvents": limits.resumeBufferEvents = try int()
        case "limits.roomCodeLength": limits.roomCodeLength = try int()
        case "limits.resultsIntervalMs": limits.resultsIntervalMs = Int64(try int())
        case "limits.presenceIntervalMs": limits.presenceIntervalMs = Int64(try int())
        case "limits.presenceEventsUpTo": limits.presenceEventsUpTo = try int()
        case "limits.stateMembersLimit": limits.stateMembersLimit = try int()
        case "calls.stunUrls": calls.stunUrls = try strings()
        case "calls.turnUrls": calls.turnUrls = try strings()
        case "calls.turnSecret": turnSecret = try optStr()
        case "calls.credentialTtlSeconds": calls.credentialTtlSeconds = try int()
        case "calls.maxSignalBytes": calls.maxSignalBytes = try int()
        case "calls.signalsPerSecond": calls.signalsPerSecond = try int()
        case "calls.signalBurst": calls.signalBurst = try int()
        case "cluster.nodePrefix": limits.roomCodePrefix = Crockford.normalize(try optStr() ?? "")
        default: throw Invalid(path, "is not a known setting")
        }
    }

    /// Applies `ROUNDTABLE_SECTION_KEY=value` overrides, e.g. `ROUNDTABLE_SERVER_PORT=9000`.
    public mutating func applyEnvironment(_ env: [String: String]) throws(Invalid) {
        for path in Self.settingNames {
            let name = "ROUNDTABLE_" + path.replacingDots().uppercased()
            guard let raw = env[name] else { continue }
            let v: Value = (try? JSON.parse(raw, maxDepth: 4)) ?? .string(raw)
            try set(path, v)
        }
        try validate()
    }

    public static let settingNames = [
        "server.host", "server.port", "server.dataDir", "server.webRoot", "server.metricsToken", "server.publicUrl", "tls.certificate", "tls.privateKey",
        "storage.fsync", "storage.snapshotEveryEvents", "storage.snapshotEverySeconds", "transport.maxFrameBytes",
        "transport.maxConnections", "transport.maxConnectionsPerAddress", "transport.sendQueueBytes",
        "transport.messagesPerSecond", "transport.messageBurst", "transport.rateLimitStrikes",
        "transport.joinTimeoutSeconds", "transport.pingIntervalSeconds", "transport.pingTimeoutSeconds",
        "transport.allowedOrigins", "rooms.createToken", "rooms.archiveAfterIdleSeconds", "logging.level", "limits.maxRooms", "limits.maxMembersPerRoom",
        "limits.maxNameLength", "limits.maxTitleLength", "limits.maxTextLength", "limits.maxTags", "limits.maxTagLength",
        "limits.maxNeedsPerRoom", "limits.maxPollsPerRoom", "limits.maxOptionsPerPoll", "limits.maxGroupsPerRoom", "limits.maxAgendaSteps",
        "limits.resumeBufferEvents", "limits.roomCodeLength", "limits.resultsIntervalMs", "limits.presenceIntervalMs", "limits.presenceEventsUpTo", "limits.stateMembersLimit", "cluster.nodePrefix",
        "calls.stunUrls", "calls.turnUrls", "calls.turnSecret", "calls.credentialTtlSeconds", "calls.maxSignalBytes",
        "calls.signalsPerSecond", "calls.signalBurst",
    ]

    public func validate() throws(Invalid) {
        if !(0...65535).contains(port) { throw Invalid("server.port", "must be 0...65535") }
        if let u = publicUrl, !(u.hasPrefix("https://") || u.hasPrefix("http://")) || u.count < 9 || u.contains(where: { $0 == " " || $0 == "\"" || $0 == "<" || $0 == ">" }) {
            throw Invalid("server.publicUrl", "must be an http:// or https:// address such as https://meet.example.org")
        }
        if limits.maxAgendaSteps < 1 { throw Invalid("limits.maxAgendaSteps", "must be at least 1") }
        if !["always", "everysec", "none"].contains(fsync) { throw Invalid("storage.fsync", "must be always, everysec or none") }
        if (tlsCertificate == nil) != (tlsPrivateKey == nil) {
            throw Invalid("tls", "needs both certificate and privateKey, or neither")
        }
        if archiveAfterIdleSeconds < 0 { throw Invalid("rooms.archiveAfterIdleSeconds", "must be 0 (never) or more") }
        if maxFrameBytes < 1024 { throw Invalid("transport.maxFrameBytes", "must be at least 1024") }
        if maxConnections < 1 || maxConnections > 19_900 {
            throw Invalid("transport.maxConnections", "must be 1...19900 (the process may hold 20,000 open files)")
        }
        for (name, v) in [
            ("transport.joinTimeoutSeconds", joinTimeoutSeconds), ("transport.pingIntervalSeconds", pingIntervalSeconds),
            ("transport.pingTimeoutSeconds", pingTimeoutSeconds),
        ] where !(v >= 0 && v < 1e9) {
            throw Invalid(name, "must be a number of seconds, 0 or more (fractions allowed)")
        }
        if maxConnectionsPerAddress < 1 { throw Invalid("transport.maxConnectionsPerAddress", "must be at least 1") }
        if sendQueueBytes < maxFrameBytes { throw Invalid("transport.sendQueueBytes", "must be at least maxFrameBytes") }
        if messagesPerSecond <= 0 || messageBurst < 1 { throw Invalid("transport.messagesPerSecond", "and messageBurst must be positive") }
        if limits.roomCodeLength < 6 || limits.roomCodeLength > 16 { throw Invalid("limits.roomCodeLength", "must be 6...16") }
        if limits.roomCodePrefix.count > 3 || !limits.roomCodePrefix.utf8.allSatisfy({ Crockford.alphabet.contains($0) }) {
            throw Invalid("cluster.nodePrefix", "must be 0 to 3 Crockford base32 characters (0-9, A-Z without I, L, O, U)")
        }
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            throw Invalid("logging.level", "must be trace, debug, info, notice, warning, error or critical")
        }
        try validateCalls()
        for (name, v) in [
            ("limits.maxRooms", limits.maxRooms), ("limits.maxMembersPerRoom", limits.maxMembersPerRoom),
            ("limits.maxNameLength", limits.maxNameLength), ("limits.maxTextLength", limits.maxTextLength),
            ("limits.resumeBufferEvents", limits.resumeBufferEvents), ("limits.maxOptionsPerPoll", limits.maxOptionsPerPoll),
            ("limits.presenceIntervalMs", Int(limits.presenceIntervalMs)),
        ] where v < 1 {
            throw Invalid(name, "must be at least 1")
        }
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
        if !(60...86_400).contains(calls.credentialTtlSeconds) { throw Invalid("calls.credentialTtlSeconds", "must be 60...86400") }
        // No upper bound here: a whole request is bounded by transport.maxFrameBytes anyway (close 1009).
        if calls.maxSignalBytes < 1024 { throw Invalid("calls.maxSignalBytes", "must be at least 1024") }
        if calls.signalsPerSecond < 1 || calls.signalBurst < 1 { throw Invalid("calls.signalsPerSecond", "and signalBurst must be at least 1") }
    }

    /// The TURN minter for the coordinator, when a secret is configured.
    public var turnMinter: (any TurnCredentialMinter)? {
        guard let s = turnSecret, !s.isEmpty else { return nil }
        return HMACSHA1TurnMinter(secret: s)
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "_" : $0 }) }
}
