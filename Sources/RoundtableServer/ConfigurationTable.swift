import RoundtableCore

/// The one table of settings: parsing, environment overrides, range checks and the documentation's tables
/// (`roundtable settings`, checked against docs/OPERATIONS.md, README.md and Config/roundtable.json by tests)
/// all come from it, so a setting is written once.
extension Configuration {
    public struct Setting: Sendable {
        public enum Kind: String, Sendable { case string, optionalString = "string or null", integer, number, strings = "array of strings" }
        public let name: String
        public let kind: Kind
        /// Inclusive bounds for integer and number settings, checked by `validate()`.
        public let bounds: ClosedRange<Double>?
        /// The only values a string setting may take.
        public let choices: [String]
        public let about: String
        let read: @Sendable (Configuration) -> Value
        let write: @Sendable (inout Configuration, Value) -> Void

        /// `ROUNDTABLE_` + section + `_` + key, upper-cased.
        public var environmentName: String { "ROUNDTABLE_" + String(name.map { $0 == "." ? "_" : $0 }).uppercased() }

        /// Converts a JSON value to this setting's type, or says what it must be.
        func check(_ v: Value) -> String? {
            switch kind {
            case .string: if v.stringValue == nil { return "must be a string" }
            case .optionalString: if !v.isNull && v.stringValue == nil { return "must be a string or null" }
            case .integer: if v.intValue == nil { return "must be an integer" }
            case .number: if v.doubleValue == nil { return "must be a number" }
            case .strings:
                guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else { return "must be an array of strings" }
            }
            if !choices.isEmpty, let s = v.stringValue, !choices.contains(s) {
                return "must be " + choices.dropLast().joined(separator: ", ") + " or " + choices.last!
            }
            return nil
        }

        /// The bounds as people write them: "1...19900", "0 or more".
        public var boundsText: String {
            guard let b = bounds else { return choices.isEmpty ? "" : choices.joined(separator: " / ") }
            func n(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
            return b.upperBound >= 1e15 ? "\(n(b.lowerBound)) or more" : "\(n(b.lowerBound))...\(n(b.upperBound))"
        }
    }

    /// Every setting in documentation order. Cross-field rules (TLS pairs, queue ≥ frame, URL shapes) stay in `validate()`.
    public static let settings: [Setting] = [
        text("server.host", \.host, "address to listen on"),
        int("server.port", \.port, 0...65535, "port; 0 = any free port"),
        text("server.dataDir", \.dataDir, "folder for the journal, snapshots, keys and archive"),
        text("server.webRoot", \.webRoot, "folder with the web client's static files"),
        optionalText("server.metricsToken", \.metricsToken, "bearer token for GET /metrics; null: direct loopback peers only"),
        optionalText(
            "server.publicUrl", \.publicUrl, "the address people open behind a proxy; join links and QR codes use it",
            normalize: { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }),
        text(
            "server.eventLoop", \.eventLoop, "poll: lws' own loop; libev: its libev plugin (no walk of idle sockets per pass)",
            choices: ["poll", "libev"]),
        optionalText("tls.certificate", \.tlsCertificate, "PEM certificate (with tls.privateKey: serve wss:// and https://)"),
        optionalText("tls.privateKey", \.tlsPrivateKey, "PEM private key"),
        text("storage.fsync", \.fsync, "when an acknowledged change is on disk", choices: ["always", "everysec", "none"]),
        int("storage.snapshotEveryEvents", \.snapshotEveryEvents, 1...Double.infinity, "journal events between snapshots"),
        int("storage.snapshotEverySeconds", \.snapshotEverySeconds, 1...Double.infinity, "seconds between snapshots"),
        int("transport.maxFrameBytes", \.maxFrameBytes, 1024...Double.infinity, "largest WebSocket message accepted (close 1009 above)"),
        int("transport.maxConnections", \.maxConnections, 1...19_900, "open connections (the process may hold 20,000 files)"),
        int("transport.maxConnectionsPerAddress", \.maxConnectionsPerAddress, 1...Double.infinity, "open connections per client address"),
        int("transport.sendQueueBytes", \.sendQueueBytes, 1024...Double.infinity, "bytes queued to one slow client before it is dropped"),
        number("transport.messagesPerSecond", \.messagesPerSecond, 0.001...Double.infinity, "sustained requests per connection"),
        number("transport.messageBurst", \.messageBurst, 1...Double.infinity, "request burst per connection"),
        int("transport.rateLimitStrikes", \.rateLimitStrikes, 1...Double.infinity, "rate-limited requests tolerated before close 1008"),
        number("transport.joinTimeoutSeconds", \.joinTimeoutSeconds, 0...1e9 - 1, "seconds a connection may stay outside a room"),
        number("transport.pingIntervalSeconds", \.pingIntervalSeconds, 0...1e9 - 1, "quiet seconds before a keep-alive ping; 0: none"),
        number("transport.pingTimeoutSeconds", \.pingTimeoutSeconds, 0...1e9 - 1, "seconds without traffic before a drop; 0: never"),
        strings("transport.allowedOrigins", \.allowedOrigins, "browser origins allowed to connect; []: any"),
        optionalText("rooms.createToken", \.roomCreateToken, "room.create must carry it; null: rooms are created from loopback only"),
        int("rooms.archiveAfterIdleSeconds", \.archiveAfterIdleSeconds, 0...Double.infinity, "idle rooms move to DATA/archive; 0: never"),
        optionalText(
            "cluster.nodePrefix", \.limits.roomCodePrefix, "leading characters of this node's room codes and community ids (docs/SCALING.md)",
            normalize: { Crockford.normalize($0) }, nullAs: ""),
        strings("calls.stunUrls", \.calls.stunUrls, "STUN servers handed to partners (stun: or stuns:)"),
        strings("calls.turnUrls", \.calls.turnUrls, "TURN servers handed to partners (turn: or turns:); need calls.turnSecret"),
        optionalText("calls.turnSecret", \.turnSecret, "coturn's static-auth-secret; prefer the environment variable"),
        int("calls.credentialTtlSeconds", \.calls.credentialTtlSeconds, 60...86_400, "lifetime of minted TURN credentials"),
        int("calls.maxSignalBytes", \.calls.maxSignalBytes, 1024...Double.infinity, "largest call.signal payload"),
        int("calls.signalsPerSecond", \.calls.signalsPerSecond, 1...Double.infinity, "sustained call signals per member"),
        int("calls.signalBurst", \.calls.signalBurst, 1...Double.infinity, "call signal burst per member"),
        text("logging.level", \.logLevel, "log level", choices: ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        int("limits.maxRooms", \.limits.maxRooms, 1...Double.infinity, "rooms on this node"),
        int("limits.maxMembersPerRoom", \.limits.maxMembersPerRoom, 1...Double.infinity, "members in one room"),
        int("limits.maxNameLength", \.limits.maxNameLength, 1...Double.infinity, "characters in a member's or group's name"),
        int("limits.maxTitleLength", \.limits.maxTitleLength, 1...Double.infinity, "characters in a room, poll or step title"),
        int("limits.maxTextLength", \.limits.maxTextLength, 1...Double.infinity, "characters in a need, answer or announcement"),
        int("limits.maxTags", \.limits.maxTags, 0...Double.infinity, "expertise tags per member"),
        int("limits.maxTagLength", \.limits.maxTagLength, 1...Double.infinity, "characters in a tag"),
        int("limits.maxNeedsPerRoom", \.limits.maxNeedsPerRoom, 1...Double.infinity, "needs in one room"),
        int("limits.maxPollsPerRoom", \.limits.maxPollsPerRoom, 1...Double.infinity, "polls in one room"),
        int("limits.maxOptionsPerPoll", \.limits.maxOptionsPerPoll, 1...Double.infinity, "options in one poll"),
        int("limits.maxHelpersPerNeed", \.limits.maxHelpersPerNeed, 0...Double.infinity, "helper ids listed per need in the needs ranking"),
        int("limits.maxGroupsPerRoom", \.limits.maxGroupsPerRoom, 1...Double.infinity, "groups in one room"),
        int("limits.maxAgendaSteps", \.limits.maxAgendaSteps, 1...Double.infinity, "steps in one agenda"),
        int("limits.resumeBufferEvents", \.limits.resumeBufferEvents, 1...Double.infinity, "recent events kept per room for resume"),
        int("limits.roomCodeLength", \.limits.roomCodeLength, 6...16, "characters in a room code"),
        int64("limits.resultsIntervalMs", \.limits.resultsIntervalMs, 1...Double.infinity, "least milliseconds between live results of one poll"),
        int64("limits.presenceIntervalMs", \.limits.presenceIntervalMs, 1...Double.infinity, "least milliseconds between room.presence counts (large rooms)"),
        int("limits.presenceEventsUpTo", \.limits.presenceEventsUpTo, 0...Double.infinity, "rooms up to this size get member.joined/left; larger get counts"),
        int("limits.stateMembersLimit", \.limits.stateMembersLimit, 0...Double.infinity, "members listed in a member's room.state (facilitators get all)"),
        int("limits.maxCommunities", \.limits.maxCommunities, 1...Double.infinity, "communities on this node"),
        int("limits.maxMembersPerCommunity", \.limits.maxMembersPerCommunity, 1...Double.infinity, "members on one community's roster"),
        int("limits.maxRosterBytes", \.limits.maxRosterBytes, 1...Double.infinity, "bytes in one community.import roster (larger rosters go in parts)"),
        int(
            "limits.maxHighlightsPerMember", \.limits.maxHighlightsPerMember, 0...Double.infinity,
            "accepted interview highlights a community profile keeps (oldest drop out)"),
    ]

    static let settingsByName: [String: Setting] = Dictionary(uniqueKeysWithValues: settings.map { ($0.name, $0) })

    public static var settingNames: [String] { settings.map(\.name) }

    /// Every setting's current value, by name (the defaults for `Configuration()`).
    public func value(of name: String) -> Value? { Self.settingsByName[name].map { $0.read(self) } }

    /// The bounds in the table, checked for every integer and number setting.
    func validateBounds() throws(Invalid) {
        for s in Self.settings {
            guard let b = s.bounds, let d = s.read(self).doubleValue else { continue }
            if !b.contains(d) { throw Invalid(s.name, "must be \(s.boundsText)") }
        }
    }

    /// The Markdown table in docs/OPERATIONS.md: `roundtable settings` prints it and a test compares.
    public static func markdownTable() -> String {
        var lines = ["| setting | environment variable | type | default | allowed | meaning |", "|---|---|---|---|---|---|"]
        let defaults = Configuration()
        for s in settings {
            let d = s.read(defaults).jsonText
            lines.append("| `\(s.name)` | `\(s.environmentName)` | \(s.kind.rawValue) | `\(d)` | \(s.boundsText) | \(s.about) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

// Builders: one line per setting above. Key paths are Sendable literals.
extension Configuration {
    private typealias Path<T> = any WritableKeyPath<Configuration, T> & Sendable

    private static func text(_ name: String, _ p: Path<String>, _ about: String, choices: [String] = []) -> Setting {
        Setting(
            name: name, kind: .string, bounds: nil, choices: choices, about: about,
            read: { .string($0[keyPath: p]) }, write: { $0[keyPath: p] = $1.stringValue ?? "" })
    }
    private static func optionalText(
        _ name: String, _ p: Path<String?>, _ about: String,
        normalize: @escaping @Sendable (String) -> String = { $0 }
    ) -> Setting {
        Setting(
            name: name, kind: .optionalString, bounds: nil, choices: [], about: about,
            read: { $0[keyPath: p].map(Value.string) ?? .null }, write: { $0[keyPath: p] = $1.stringValue.map(normalize) })
    }
    /// A string setting stored non-optional, where null means `nullAs`.
    private static func optionalText(
        _ name: String, _ p: Path<String>, _ about: String,
        normalize: @escaping @Sendable (String) -> String, nullAs: String
    ) -> Setting {
        Setting(
            name: name, kind: .optionalString, bounds: nil, choices: [], about: about,
            read: { $0[keyPath: p] == nullAs ? .null : .string($0[keyPath: p]) },
            write: { $0[keyPath: p] = normalize($1.stringValue ?? nullAs) })
    }
    private static func int(_ name: String, _ p: Path<Int>, _ bounds: ClosedRange<Double>, _ about: String) -> Setting {
        Setting(
            name: name, kind: .integer, bounds: bounds, choices: [], about: about,
            read: { .int(Int64($0[keyPath: p])) }, write: { $0[keyPath: p] = Int(clamping: $1.intValue ?? 0) })
    }
    private static func int64(_ name: String, _ p: Path<Int64>, _ bounds: ClosedRange<Double>, _ about: String) -> Setting {
        Setting(
            name: name, kind: .integer, bounds: bounds, choices: [], about: about,
            read: { .int($0[keyPath: p]) }, write: { $0[keyPath: p] = $1.intValue ?? 0 })
    }
    private static func number(_ name: String, _ p: Path<Double>, _ bounds: ClosedRange<Double>, _ about: String) -> Setting {
        Setting(
            name: name, kind: .number, bounds: bounds, choices: [], about: about,
            read: { v in
                let d = v[keyPath: p]; return d == d.rounded() && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
            },
            write: { $0[keyPath: p] = $1.doubleValue ?? 0 })
    }
    private static func strings(_ name: String, _ p: Path<[String]>, _ about: String) -> Setting {
        Setting(
            name: name, kind: .strings, bounds: nil, choices: [], about: about,
            read: { .array($0[keyPath: p].map(Value.string)) }, write: { $0[keyPath: p] = $1.arrayValue?.compactMap(\.stringValue) ?? [] })
    }
}

extension Value {
    /// Compact JSON for the documentation tables.
    var jsonText: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(\.jsonText).joined(separator: ", ") + "]"
        case .object: "{…}"
        case .shared(let box): box.value.jsonText
        }
    }
}
