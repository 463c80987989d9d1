import Logging
import RoundtableCore

#if canImport(Glibc)
import Glibc
#endif

/// A server plus its data folder: what `roundtable serve` runs and what tests start.
public final class Node: Sendable {
    public let server: RoundtableServer

    init(server: RoundtableServer) { self.server = server }

    /// Prepares the data folder and the server; call `server.start()` to listen.
    public static func open(config: Configuration, logger: Logger) throws -> Node {
        if mkdir(config.dataDir, 0o755) != 0 && errno != EEXIST {
            throw RoundtableServer.StartError(description: "cannot create data folder \(config.dataDir)")
        }
        let limits = config.limits
        let server = RoundtableServer(config: config, logger: logger, journal: nil) {
            Coordinator(limits: limits, entropy: SystemEntropy(), hasher: SHA256Hasher())
        }
        return Node(server: server)
    }

    /// Flushes and closes storage after the server has stopped.
    public func close() {}
}
