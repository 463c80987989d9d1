import RoundtableCore

/// The node's lifecycle beside its storage phase: stopping (a drain with a deadline) and the scheduling
/// of idle-room archives. Stopping is its own axis rather than a `Phase` case because a draining node
/// still runs the durability gate: acks held for the journal must go out before the connections close.
extension NodeMachine {
    /// Seconds a stopping node waits for clients to close after its 1001 before it stops anyway.
    static let stopGraceSeconds = 3.0
    /// Archive files written at once: each is a thread writing a file, and nothing is lost by waiting.
    static let archiveWritersAtOnce = 4

    // MARK: Stopping

    var isStopping: Bool { stopDeadline != nil }

    /// The operator asked to stop. True the first time: the driver closes every connection with 1001.
    mutating func stop(now: Double) -> Bool {
        guard stopDeadline == nil else { return false }
        stopDeadline = now + Self.stopGraceSeconds
        return true
    }

    /// Whether the service loop may end: everyone has gone, or the grace period is over.
    func stopComplete(now: Double) -> Bool {
        guard let deadline = stopDeadline else { return false }
        return connections.isEmpty || now > deadline
    }

    // MARK: Archiving idle rooms

    /// Whether idle rooms may be archived now: recovered, storage healthy, not stopping, archiving enabled.
    func mayArchive(journaling: Bool) -> Bool {
        journaling && settings.archiveAfterIdle > 0 && isReady && !storageFailing && !isStopping
    }

    /// How many candidates to ask the coordinator for: enough to skip the refused and the in-flight.
    var archiveCandidateLimit: Int { Self.archiveWritersAtOnce + archiving.count + archiveRefused.count }

    /// From the coordinator's idle rooms (oldest first, with their seq), the ones whose file to write now.
    /// A room whose file failed at this seq is not retried until it changes; a room being reopened is skipped.
    mutating func startArchives(_ candidates: [(code: String, seq: UInt64)], reopening: (String) -> Bool) -> [String] {
        var started: [String] = []
        for c in candidates where archiving.count < Self.archiveWritersAtOnce && !archiving.contains(c.code) {
            guard archiveRefused[c.code] != c.seq, !reopening(c.code) else { continue }
            archiving.insert(c.code)
            started.append(c.code)
        }
        return started
    }

    /// A room's archive file was written (or failed, at `seq`).
    mutating func archiveWritten(_ code: String, seq: UInt64, failed: Bool) {
        archiving.remove(code)
        archiveRefused[code] = failed ? seq : nil
    }
}
