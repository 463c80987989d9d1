import ArgumentParser
import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableStore
import RoundtableWire

/// A temporary copy of a data folder's journal, snapshots and archived rooms, for commands that must leave the
/// original untouched (recovery truncates torn tails; a stopped server's files are evidence).
/// Voter keys are never copied: no command needs them, and they are what links ballots to members.
struct DataFolderCopy {
    let path: String

    init(of dataDir: String, purpose: String) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: dataDir + "/journal") || fm.fileExists(atPath: dataDir + "/snapshots") else {
            throw ValidationError("\(dataDir) is not a Roundtable data folder (no journal/ or snapshots/)")
        }
        path = NSTemporaryDirectory() + "roundtable-\(purpose)-\(getpid())"
        try? fm.removeItem(atPath: path)
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        for sub in ["journal", "snapshots", "archive"] where fm.fileExists(atPath: dataDir + "/" + sub) {
            try fm.copyItem(atPath: dataDir + "/" + sub, toPath: path + "/" + sub)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Rooms as the server would recover them: newest valid snapshot, then the journal after it.
    func recover(logger: Logger) throws -> (coordinator: Coordinator, snapshotLSN: UInt64, scan: JournalScan) {
        var coordinator = Coordinator(entropy: SystemEntropy(), hasher: SHA256Hasher())
        var after: UInt64 = 0
        let (snap, scan) = try SnapshotStore.loadForRecovery(directory: path, logger: logger)
        if let snap {
            try coordinator.restore(snapshot: try JSON.parse(snap.payload, maxDepth: 64))
            after = snap.lsn
        }
        for r in scan.records {
            try coordinator.replay(JournalEntry(room: r.room, seq: r.seq, at: r.at, op: try JSON.parse(r.payload, maxDepth: 64)))
        }
        coordinator.finishRecovery()
        return (coordinator, after, scan)
    }
}
