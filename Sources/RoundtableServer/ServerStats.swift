import RoundtableStore

/// Counters read by `/metrics` and the logs. Written on the service thread, read from anywhere.
public struct ServerStats: Sendable {
    public var connectionsOpened = 0
    public var connectionsRefused = 0
    public var messagesIn = 0
    public var messagesOut = 0
    public var rateLimited = 0
    public var slowReadersClosed = 0
    /// Sends a plain socket did not take whole; the rest went out once the client read (see `Connection.unsent`).
    public var partialSends = 0
    public var keepAliveDropped = 0
    public var journalEntries = 0
    public var snapshots = 0
    public var lastSnapshotMillis = 0.0
    public var lastSnapshotBytes = 0
    public var snapshotFailures = 0
    public var roomsArchived = 0
    public var roomsReopened = 0
    public var archiveFailures = 0
    /// Decoded requests by `type`; frames that did not decode count as "invalid".
    public var requestsByType: [String: Int] = [:]
    /// Error replies by protocol code.
    public var errorsByCode: [String: Int] = [:]
    public var ackLatency = LatencyHistogram()
    /// Journal append to the service thread learning the batch is durable.
    public var durableLatency = LatencyHistogram()
    /// Batches appended and not yet reported, with when (monotonic seconds); see Metrics.swift.
    var awaitingDurable: [(ticket: UInt64, since: Double)] = []
    /// Acks held behind a batch, with when their request arrived.
    var awaitingAck: [(ticket: UInt64, since: Double)] = []
    /// Set when the server object is made, just before `start()`: recovery time and uptime count from here.
    public var startedAt = monotonicSeconds()
    public var startedAtWallMillis = wallClockMillis()
    public var recoverySeconds: Double?
}
