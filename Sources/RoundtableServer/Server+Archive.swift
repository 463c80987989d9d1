import Logging
import RoundtableCore
import RoundtableStore

/// Why an archived room could not be read back (shown to the operator; the client gets a code).
struct ArchiveLoadError: Error, Sendable {
    var description: String
}

/// Archiving idle rooms and reopening them: the file work runs off the service thread, the coordinator
/// decides on it (see `Coordinator+Lifecycle.swift` for the order that keeps it crash-safe).
extension RoundtableServer {
    /// Once a second: start writing archive files for rooms idle past `rooms.archiveAfterIdleSeconds`.
    func archiveIdleRooms() {
        guard let journal, machine.mayArchive(journaling: true) else { return }
        let idle = Millis(config.archiveAfterIdleSeconds) * 1000
        let candidates = coordinator.archiveCandidates(at: wallClockMillis(), idleMillis: idle, limit: machine.archiveCandidateLimit)
            .compactMap { code in coordinator.rooms[code].map { (code: code, seq: $0.seq) } }
        for code in machine.startArchives(candidates, reopening: { reopening[$0] != nil }) {
            guard let live = coordinator.rooms[code] else { continue }
            spawnDetachedThread { [weak self] in
                var failure: String?
                do { _ = try journal.writeArchive(live) } catch { failure = "\(error)" }
                self?.post(.archiveWritten(live, error: failure))
            }
        }
    }

    /// The file is durable (or failed): drop the room from memory unless it changed meanwhile.
    func archiveWritten(_ written: Room, error: String?) {
        let code = written.code
        machine.archiveWritten(code, seq: written.seq, failed: error != nil)
        if let error {
            stats.withLock { $0.archiveFailures += 1 }
            logger.error("could not archive an idle room; it stays in memory", metadata: ["room": "\(code)", "error": "\(error)"])
            return
        }
        guard !storageFailing, let effects = coordinator.archive(written, at: wallClockMillis()) else {
            // Someone came back while the file was written: the room stays live and the file is stale.
            try? journal?.discardArchive(code, seq: written.seq)
            return
        }
        run(effects)
        stats.withLock { $0.roomsArchived += 1 }
        logger.info("room archived", metadata: ["room": "\(code)", "seq": "\(written.seq)"])
    }

    /// A facilitator asked for an archived room: read it off the loop; requests arriving meanwhile wait with it.
    func loadArchive(_ code: String, seq: UInt64, then waiter: (connection: ConnectionID, ref: Value?, command: Command)) {
        if reopening[code] != nil {
            reopening[code]!.append(waiter)
            return
        }
        reopening[code] = [waiter]
        guard let journal else {
            archiveLoaded(code, .failure(ArchiveLoadError(description: "no data folder")))
            return
        }
        spawnDetachedThread { [weak self] in
            let result: Result<(room: Room, voterKeys: [String: String]), ArchiveLoadError>
            do {
                result = .success(try journal.loadArchive(code, seq: seq))
            } catch {
                result = .failure(ArchiveLoadError(description: "\(error)"))
            }
            self?.post(.archiveLoaded(code: code, result))
        }
    }

    func archiveLoaded(_ code: String, _ result: Result<(room: Room, voterKeys: [String: String]), ArchiveLoadError>) {
        let waiters = reopening.removeValue(forKey: code) ?? []
        switch result {
        case .success(let loaded):
            if storageFailing {
                for w in waiters { if let c = connections[w.connection] { reply(c, error: .storageUnavailable, ref: w.ref) } }
                return
            }
            let effects = coordinator.reopen(loaded.room, voterKeys: loaded.voterKeys, at: wallClockMillis())
            if coordinator.rooms[code] == nil {
                // The file does not hold the archived state (its seq differs): retrying would only loop.
                refuseReopen(code, waiters, ArchiveLoadError(description: "the archive file does not match its archive entry"))
                return
            }
            if !effects.isEmpty {
                hasTimedRooms = true // the room may come back with interviews or timers running
                run(effects)
                stats.withLock { $0.roomsReopened += 1 }
                logger.info("archived room reopened", metadata: ["room": "\(code)"])
            }
            // Each waiting request runs as if it had just arrived (behind the reopen in the journal).
            for w in waiters {
                guard let c = connections[w.connection], c.closing == nil else { continue }
                handle(w.command, ref: w.ref, from: c, receivedAt: monotonicSeconds())
            }
        case .failure(let error):
            refuseReopen(code, waiters, error)
        }
    }

    private func refuseReopen(_ code: String, _ waiters: [(connection: ConnectionID, ref: Value?, command: Command)], _ error: ArchiveLoadError) {
        stats.withLock { $0.archiveFailures += 1 }
        logger.error("could not read an archived room", metadata: ["room": "\(code)", "error": "\(error.description)"])
        for w in waiters { if let c = connections[w.connection] { reply(c, error: .archiveUnavailable, ref: w.ref) } }
    }
}

extension DomainError {
    /// A change refused while storage is failing (the one place `storage_unavailable` is built).
    static let storageUnavailable = DomainError("storage_unavailable", "the server cannot store changes right now")
    /// An acknowledged change whose journal write then failed: its ack becomes this.
    static let storageRefused = DomainError("storage_unavailable", "the server could not store this change; try again shortly")
    static let archiveUnavailable = DomainError("archive_unavailable", "the archived room could not be read back; the operator has the details")
}
