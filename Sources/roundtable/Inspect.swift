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
        let copy = try DataFolderCopy(of: dataDir, purpose: "inspect")
        defer { copy.remove() }
        print("data folder: \(dataDir)")
        let snaps = try SnapshotStore.list(directory: copy.path)
        print("snapshots: \(snaps.count)")
        for s in snaps {
            print("  \((s.path as NSString).lastPathComponent)  lsn \(s.lsn)  \(s.bytes) bytes  \(s.problem.map { "INVALID: \($0)" } ?? "checksum ok")")
        }
        let segments = try JournalReader.inspect(directory: copy.path, logger: logger)
        print("journal segments: \(segments.count)")
        for g in segments {
            let range = g.lastLSN.map { "lsn \(g.firstLSN)...\($0)" } ?? "lsn \(g.firstLSN) (no records)"
            print("  \((g.path as NSString).lastPathComponent)  \(range)  \(g.records) records  \(g.bytes) bytes  \(g.state)")
        }

        let (coordinator, after, scan) = try copy.recover(logger: logger)
        print("recovered state: snapshot lsn \(after) + \(scan.records.count) journal records, next lsn \(scan.nextLSN)")
        for code in coordinator.rooms.keys.sorted() {
            let r = coordinator.rooms[code]!
            let ballots = r.polls.values.reduce(0) { $0 + $1.ballots.count }
            print(
                "  room \(code) \"\(r.title)\"  seq \(r.seq)  members \(r.currentMemberCount)  needs \(r.activeNeeds.count)  polls \(r.polls.count)  ballots \(ballots)"
                    + (r.closedAt != nil ? "  closed" : "")
            )
        }
        for id in coordinator.communities.byID.keys.sorted() {
            let cm = coordinator.communities.byID[id]!
            let open = cm.backlog.values.filter { $0.status == .open }.count
            print(
                "  community \(id) \"\(cm.name)\"  members \(cm.members.count)  sessions \(cm.sessions.count)  backlog \(cm.backlog.count) (\(open) open)  pairs met \(cm.met.count)"
            )
        }
        var unreadable: [String] = []
        for code in coordinator.archived.keys.sorted() {
            let a = coordinator.archived[code]!
            var line = "  room \(code) \"\(a.title)\"  seq \(a.seq)  archived at \(a.archivedAt)" + (a.closedAt != nil ? "  closed" : "")
            do {
                let r = try Persistence.archivedRoom(in: copy.path, code: code, seq: a.seq)
                line += "  members \(r.currentMemberCount)  needs \(r.activeNeeds.count)  polls \(r.polls.count)"
            } catch {
                line += "  ARCHIVE FILE UNREADABLE: \(error)"
                unreadable.append(code)
            }
            print(line)
        }
        if events {
            let all = try JournalReader.scan(directory: copy.path, after: max(1, segments.first?.firstLSN ?? 1) - 1, logger: logger)
            for r in all.records {
                let op = (try? JSON.parse(r.payload, maxDepth: 64)) ?? .string("<undecodable>")
                let line: Value = ["lsn": .int(Int64(r.lsn)), "room": .string(r.room), "seq": .int(Int64(r.seq)), "at": .int(r.at), "op": op]
                print(JSON.string(line))
            }
        }
        if !unreadable.isEmpty {
            // A backup copied while a room was reopened can lack its file: the check must fail so it is retried.
            throw ValidationError("archived rooms without a readable archive file: \(unreadable.joined(separator: ", "))")
        }
    }
}
