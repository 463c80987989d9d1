import ArgumentParser
import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableStore
import RoundtableWire

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a room's facilitator report (json, csv or md) from a data folder.",
        discussion: """
            Works on a stopped server's folder or a backup copy: the journal and snapshots are recovered from a \
            temporary copy, so nothing in DATA_DIR is modified. The documents are the same as \
            GET /rooms/{code}/report.{json,csv,md} on a running server (see docs/OPERATIONS.md).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, csv, md
    }

    @Argument(help: "The data folder (server.dataDir).")
    var dataDir: String

    @Argument(help: "The room code (case does not matter).")
    var room: String

    @Option(help: "json, csv or md.")
    var format: Format = .json

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        var logger = Logger(label: "export")
        logger.logLevel = .warning
        let coordinator = try Self.recover(dataDir, logger: logger)
        let code = room.uppercased()
        let r: Room
        if let live = coordinator.rooms[code] {
            r = live
        } else if let archived = coordinator.archived[code] {
            r = try Persistence.archivedRoom(in: dataDir, code: code, seq: archived.seq)
        } else {
            let known = Set(coordinator.rooms.keys).union(coordinator.archived.keys).sorted().joined(separator: ", ")
            throw ValidationError("no room \(code) in \(dataDir)" + (known.isEmpty ? " (it holds no rooms)" : "; rooms: \(known)"))
        }
        let report = RoomReport(room: r, generatedAt: wallClockMillis())
        let bytes: [UInt8]
        switch format {
        case .json: bytes = JSON.serialize(report.json) + [UInt8(ascii: "\n")]
        case .csv: bytes = Array(report.csv.utf8)
        case .md: bytes = Array(report.markdown.utf8)
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                throw ValidationError("cannot write \(output)")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    /// Recovers rooms the way the server does (newest valid snapshot, then the journal after it), from a
    /// temporary copy: the original folder may belong to a stopped server whose files must stay untouched.
    /// Voter keys are not copied: exports never need them, and they only link ballots to members.
    static func recover(_ dataDir: String, logger: Logger) throws -> Coordinator {
        let copy = try DataFolderCopy(of: dataDir, purpose: "export")
        defer { copy.remove() }
        return try copy.recover(logger: logger).coordinator
    }
}
