import Logging
import RoundtableCore
import RoundtableStore

/// A server plus its data folder: what `roundtable serve` runs and what tests start.
public final class Node: Sendable {
    public let server: RoundtableServer
    public let persistence: Persistence
    let logger: Logger

    init(server: RoundtableServer, persistence: Persistence, logger: Logger) {
        self.server = server
        self.persistence = persistence
        self.logger = logger
    }

    /// Locks the data folder and prepares the server; call `server.start()` to listen (recovery runs then).
    public static func open(config: Configuration, logger: Logger) throws -> Node {
        guard let policy = FsyncPolicy(rawValue: config.fsync) else {
            throw Configuration.Invalid("storage.fsync", "must be always, everysec or none")
        }
        let persistence = try Persistence(path: config.dataDir, fsync: policy, logger: logger)
        let limits = config.limits
        let server = RoundtableServer(config: config, logger: logger, journal: persistence) {
            try persistence.recover(limits: limits)
        }
        return Node(server: server, persistence: persistence, logger: logger)
    }

    /// After the server has stopped: flush the journal, then write a final snapshot so the next start is quick.
    /// Returns false when a final snapshot was needed and could not be written (nothing is lost: the journal
    /// holds every change, but the process should not report a clean stop; `roundtable serve` exits 3).
    @discardableResult
    public func close() -> Bool {
        persistence.close()
        let rooms = server.finalRooms
        let archived = server.finalArchived
        let communities = server.finalCommunities
        guard !rooms.isEmpty || !archived.isEmpty || communities.count > 0 else { return true }
        do {
            _ = try persistence.writeSnapshot(rooms, archived: archived, communities: communities, lsn: persistence.lastLSN)
            logger.info("final snapshot written", metadata: ["rooms": "\(rooms.count)", "archived": "\(archived.count)"])
            return true
        } catch {
            logger.critical(
                "final snapshot could not be written; nothing is lost: the journal still holds every change and the next start replays it (slower); roundtable serve exits with status 3",
                metadata: ["lsn": "\(persistence.lastLSN)", "error": "\(error)"])
            return false
        }
    }
}
