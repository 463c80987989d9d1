import ArgumentParser
import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableStore
import RoundtableWire

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize a data folder (snapshots, journal segments, rooms) without changing it.",
        discussion: "Works on a stopped server's folder or a copy. Files are read from a temporary copy, so nothing in DATA_DIR is modified.")

    @Argument(help: "The data folder (server.dataDir).")
    var dataDir: String

    @Flag(help: "Also print every journal record as one JSON line {lsn, room, seq, at, op}.")
    var events = false

    func run() throws {
        var logger = Logger(label: "inspect")
        logger.logLevel = .warning
        let fm = FileManager.default
        guard fm.fileExists(atPath: dataDir + "/journal") || fm.fileExists(atPath: dataDir + "/snapshots") else {
            throw ValidationError("\(dataDir) is not a Roundtable data folder (no journal/ or snapshots/)")
        }
        let copy = NSTemporaryDirectory() + "roundtable-inspect-\(getpid())"
        try? fm.removeItem(atPath: copy)
        try fm.createDirectory(atPath: copy, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: copy) }
        for sub in ["journal", "snapshots"] where fm.fileExists(atPath: dataDir + "/" + sub) {
            try fm.copyItem(atPath: dataDir + "/" + sub, toPath: copy + "/" + sub)
        }

        print("data folder: \(dataDir)")
        let snaps = try SnapshotStore.list(directory: copy)
        print("snapshots: \(snaps.count)")
        for s in snaps {
            print("  \((s.path as NSString).lastPathComponent)  lsn \(s.lsn)  \(s.bytes) bytes  \(s.problem.map { "INVALID: \($0)" } ?? "checksum ok")")
        }
        let segments = try JournalReader.inspect(directory: copy, logger: logger)
        print("journal segments: \(segments.count)")
        for g in segments {
            let range = g.lastLSN.map { "lsn \(g.firstLSN)...\($0)" } ?? "lsn \(g.firstLSN) (no records)"
            print("  \((g.path as NSString).lastPathComponent)  \(range)  \(g.records) records  \(g.bytes) bytes  \(g.state)")
        }

        var coordinator = Coordinator(entropy: SystemEntropy(), hasher: SHA256Hasher())
        var after: UInt64 = 0
        if let snap = try SnapshotStore.loadNewestValid(directory: copy, logger: logger) {
            try coordinator.restore(snapshot: try JSON.parse(snap.payload, maxDepth: 64))
            after = snap.lsn
        }
        let scan = try JournalReader.scan(directory: copy, after: after, logger: logger)
        for r in scan.records {
            try coordinator.replay(JournalEntry(room: r.room, seq: r.seq, at: r.at, op: try JSON.parse(r.payload, maxDepth: 64)))
        }
        print("recovered state: snapshot lsn \(after) + \(scan.records.count) journal records, next lsn \(scan.nextLSN)")
        for code in coordinator.rooms.keys.sorted() {
            let r = coordinator.rooms[code]!
            let ballots = r.polls.values.reduce(0) { $0 + $1.ballots.count }
            print(
                "  room \(code) \"\(r.title)\"  seq \(r.seq)  members \(r.currentMemberCount)  needs \(r.activeNeeds.count)  polls \(r.polls.count)  ballots \(ballots)"
            )
        }
        if events {
            let all = try JournalReader.scan(directory: copy, after: max(1, segments.first?.firstLSN ?? 1) - 1, logger: logger)
            for r in all.records {
                let op = (try? JSON.parse(r.payload, maxDepth: 64)) ?? .string("<undecodable>")
                let line: Value = ["lsn": .int(Int64(r.lsn)), "room": .string(r.room), "seq": .int(Int64(r.seq)), "at": .int(r.at), "op": op]
                print(JSON.string(line))
            }
        }
    }
}
