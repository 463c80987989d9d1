import RoundtableCore

/// The node's decisions about connections, as a value: admission, per-address limits, rate limits,
/// keep-alive and join deadlines.
///
/// In the style of async-http-client's `HTTP1ConnectionStateMachine`: one mutating function per event,
/// each returning what the driver must do. It reads time only from its `now` parameters (monotonic
/// seconds), takes no locks and calls nothing: `RoundtableServer` (the libwebsockets driver) feeds it
/// events from the service thread and runs the actions in one `switch`. Tests drive it with a fake clock
/// (Tests/RoundtableServerTests/NodeMachineTests.swift).
///
/// Keep-alive is ours, not libwebsockets': lws 4.1.6 keeps its per-connection validity timers
/// (`retry_and_idle_policy`) in one sorted list inserted from the head, so every new connection and
/// every pong walked all connections (BENCHMARKS.md, "Profiles of the misses"). With the policy's hangup
/// at 0 lws schedules nothing, and `scanDeadlines` (once a second, or faster for sub-second settings)
/// does the job in O(connections) per scan. A connection quiet for `pingIntervalSeconds` gets a ping;
/// one that sent nothing at all (no frame, no pong) for `pingTimeoutSeconds` is dropped; 0 turns either off.
///
/// Thread: owned by the service thread (the driver holds the only copy).
struct NodeMachine {
    /// The settings it decides by, taken from `Configuration`.
    struct Settings {
        var maxConnections: Int
        var maxConnectionsPerAddress: Int
        var messagesPerSecond: Double
        var messageBurst: Double
        /// Rate-limited messages tolerated within a burst before the connection is closed with 1008.
        var rateLimitStrikes: Int
        /// A connection that has not joined a room within this many seconds is closed with 1008.
        var joinTimeout: Double
        /// A connection quiet this long gets a ping; 0 turns pings off.
        var pingInterval: Double
        /// A connection that sent nothing at all (no frame, no pong) this long is dropped; 0: never.
        var pingTimeout: Double

        /// A snapshot after this many journal entries, or after `snapshotEverySeconds` with any.
        var snapshotEveryEvents: Int
        var snapshotEverySeconds: Double
        /// Idle seconds before a room is archived; 0: never.
        var archiveAfterIdle: Double

        init(_ c: Configuration) {
            archiveAfterIdle = Double(c.archiveAfterIdleSeconds)
            snapshotEveryEvents = c.snapshotEveryEvents
            snapshotEverySeconds = Double(c.snapshotEverySeconds)
            maxConnections = c.maxConnections
            maxConnectionsPerAddress = c.maxConnectionsPerAddress
            messagesPerSecond = c.messagesPerSecond
            messageBurst = c.messageBurst
            rateLimitStrikes = c.rateLimitStrikes
            joinTimeout = c.joinTimeoutSeconds
            pingInterval = c.pingIntervalSeconds
            pingTimeout = c.pingTimeoutSeconds
        }
    }

    /// What the machine knows of one WebSocket connection. Kept to 40 bytes, as the table holds one per
    /// connection: at 5,050 members (8,192 buckets) the first, 80-byte version (address, strikes, padding
    /// between the flags) made it a 768 KiB block, 156 bytes per connection; now 448 KiB, 91
    /// (BENCHMARKS.md, "Idle memory after the node machine"). The address stays with the driver, which
    /// passes it on close; strikes are in `strikes`, for the few connections that ever hit the rate limit.
    struct ConnectionState: Equatable {
        /// When the connection opened, or last left a room: the join deadline counts from here.
        var openedAt: Double
        /// When anything (a data frame or a pong) last arrived: keep-alive pings and hangs up from this.
        var lastHeard: Double
        /// Token bucket for messages per second.
        var tokens: Double
        var lastRefill: Double
        var joined = false
        /// A ping went out and nothing was heard since: no second one until the peer is heard.
        var pinged = false
        /// A close is scheduled: no more pings, deadlines or rate decisions.
        var closing = false

        /// The join deadline.
        func joinDeadline(_ s: Settings) -> Double { openedAt + s.joinTimeout }
    }

    let settings: Settings
    private(set) var connections: [ConnectionID: ConnectionState] = [:]
    private(set) var perAddress: [String: Int] = [:]
    /// Rate-limit strikes of connections that were over their rate: abuse within a burst; a client that
    /// calmed down for 10 s starts afresh. Absent means no strikes (most connections never get one).
    private(set) var strikes: [ConnectionID: (count: Int, last: Double)] = [:]

    // Storage (NodeMachine+Storage.swift).
    /// Where the node stands with its data folder.
    var phase: Phase = .recovering
    /// Effects held until their journal ticket is durable, in ticket order.
    var pending = HeadQueue<(ticket: UInt64, effects: [Effect])>(compactAfter: 1024, keepCapacityUpTo: 4095)
    var durableTicket: UInt64 = 0
    var lastTicket: UInt64 = 0
    var entriesSinceSnapshot = 0
    var lastSnapshotAt: Double
    var snapshotInFlight = false
    /// A snapshot copied while its state was not yet durable: written once `ticket` is.
    var pendingSnapshot: (snapshot: Snapshot, ticket: UInt64)?

    // Lifecycle (NodeMachine+Lifecycle.swift).
    /// Set when the node began stopping: it stops when everyone has gone or at this time.
    var stopDeadline: Double?
    /// Rooms whose archive file is being written, and rooms whose file failed (by their seq then).
    var archiving: Set<String> = []
    var archiveRefused: [String: UInt64] = [:]

    /// - Parameter now: monotonic seconds at start; the snapshot interval counts from here.
    init(settings: Settings, now: Double) {
        self.settings = settings
        self.lastSnapshotAt = now
    }

    // MARK: Admission

    enum OpenAction: Equatable {
        case accept
        /// Close after the handshake, with this code; `limit` says a connection limit refused it (counted).
        case refuse(code: UInt16, reason: String, limit: Bool)
    }

    /// A WebSocket handshake completed.
    mutating func connectionOpened(_ id: ConnectionID, address: String, now: Double) -> OpenAction {
        connections[id] = ConnectionState(openedAt: now, lastHeard: now, tokens: settings.messageBurst, lastRefill: now)
        perAddress[address, default: 0] += 1
        let action: OpenAction
        if isStopping {
            action = .refuse(code: 1001, reason: "server shutting down", limit: false)
        } else if connections.count > settings.maxConnections {
            action = .refuse(code: 1013, reason: "server is at its connection limit", limit: true)
        } else if perAddress[address, default: 0] > settings.maxConnectionsPerAddress {
            action = .refuse(code: 1008, reason: "too many connections from this address", limit: true)
        } else {
            action = .accept
        }
        if case .refuse = action { connections[id]?.closing = true }
        return action
    }

    /// The connection is gone (lws' CLOSED); `address` is the one it opened with.
    mutating func connectionClosed(_ id: ConnectionID, address: String) {
        guard connections.removeValue(forKey: id) != nil else { return }
        strikes[id] = nil
        if let n = perAddress[address] { perAddress[address] = n > 1 ? n - 1 : nil }
    }

    /// The driver scheduled a close (a reply that closes, a slow reader, shutdown): stop deciding for it.
    mutating func closeScheduled(_ id: ConnectionID) {
        connections[id]?.closing = true
    }

    // MARK: Traffic

    /// Any frame from the peer, pongs included.
    mutating func heard(_ id: ConnectionID, now: Double) {
        guard connections[id] != nil else { return }
        connections[id]!.lastHeard = now
        connections[id]!.pinged = false
    }

    enum MessageAction: Equatable {
        case process
        /// Over the rate: answer `rate_limited` (and do nothing else).
        case rateLimited(DomainError)
        /// Over the rate too often: close with 1008.
        case close(code: UInt16, reason: String)
    }

    /// A complete text message arrived: the token bucket decides.
    mutating func messageReceived(_ id: ConnectionID, now: Double) -> MessageAction {
        guard var c = connections[id] else { return .process }
        defer { connections[id] = c }
        c.tokens = min(settings.messageBurst, c.tokens + (now - c.lastRefill) * settings.messagesPerSecond)
        c.lastRefill = now
        if c.tokens >= 1 {
            c.tokens -= 1
            return .process
        }
        var strike = strikes[id] ?? (0, 0)
        if now - strike.last > 10 { strike.count = 0 }
        strike.last = now
        strike.count += 1
        strikes[id] = strike
        if strike.count > settings.rateLimitStrikes {
            c.closing = true
            return .close(code: 1008, reason: "rate limit exceeded repeatedly")
        }
        let rate = settings.messagesPerSecond
        return .rateLimited(DomainError("rate_limited", "more than \(Self.show(rate)) messages per second; slow down"))
    }

    /// After a request ran: whether the connection is in a room now. Leaving one starts a fresh join deadline.
    mutating func bindingChanged(_ id: ConnectionID, joined: Bool, now: Double) {
        guard var c = connections[id] else { return }
        if c.joined && !joined { c.openedAt = now }
        c.joined = joined
        connections[id] = c
    }

    // MARK: Deadlines

    enum DeadlineAction: Equatable {
        /// Send a keep-alive ping.
        case ping(ConnectionID)
        /// Silent past `pingTimeout`: a dead peer reads no close frame, drop the socket.
        case drop(ConnectionID, quietSeconds: Double)
        /// No room joined in time.
        case close(ConnectionID, code: UInt16, reason: String)
    }

    /// The periodic scan: keep-alive first, then join deadlines. `isBound` says whether the coordinator
    /// still binds a connection to a room (another tab's `room.leave` or a removal unbinds it silently).
    mutating func scanDeadlines(now: Double, isBound: (ConnectionID) -> Bool) -> [DeadlineAction] {
        var actions: [DeadlineAction] = []
        let interval = settings.pingInterval, timeout = settings.pingTimeout
        if interval > 0 || timeout > 0 {
            for (id, c) in connections where !c.closing {
                let quiet = now - c.lastHeard
                if timeout > 0 && quiet >= timeout {
                    connections[id]!.closing = true
                    actions.append(.drop(id, quietSeconds: quiet))
                } else if interval > 0 && quiet >= interval && !c.pinged {
                    connections[id]!.pinged = true
                    actions.append(.ping(id))
                }
            }
        }
        for (id, c) in connections where c.joined && !isBound(id) {
            connections[id]!.joined = false
            connections[id]!.openedAt = now
        }
        for (id, c) in connections where !c.joined && !c.closing && c.joinDeadline(settings) < now {
            connections[id]!.closing = true
            actions.append(.close(id, code: 1008, reason: "no room.join within \(Self.show(settings.joinTimeout)) s"))
        }
        return actions
    }

    /// How often the deadline scan must run to honour the settings: once a second, or faster when a
    /// timeout is shorter than that (integration tests use sub-second ones).
    var scanInterval: Double {
        let shortest = [settings.joinTimeout, settings.pingInterval, settings.pingTimeout].filter { $0 > 0 }.min() ?? 1
        return min(1, max(0.05, shortest / 4))
    }

    /// `20` rather than `20.0` for whole numbers, as the settings are usually written.
    static func show(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
