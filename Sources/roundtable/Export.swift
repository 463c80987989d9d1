import ArgumentParser
import Foundation
import Logging
import RoundtableCore
import RoundtableServer
import RoundtableStore
import RoundtableWire

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a room's or a community's facilitator report (json, csv or md) from a data folder.",
        discussion: """
            Works on a stopped server's folder or a backup copy: the journal and snapshots are recovered from a \
            temporary copy, so nothing in DATA_DIR is modified. The documents are the same as \
            GET /rooms/{code}/report.{json,csv,md} and GET /communities/{id}/report.{json,csv,md} on a running \
            server (see docs/OPERATIONS.md).
            """)

    /// The report route's formats, as a command-line option.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, csv, md
        var report: ReportFormat { ReportFormat(rawValue: rawValue)! }
    }

    @Argument(help: "The data folder (server.dataDir).")
    var dataDir: String

    @Argument(help: "The room code or community id (case and look-alikes do not matter).")
    var id: String

    @Option(help: "json, csv or md.")
    var format: Format = .json

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        var logger = Logger(label: "export")
        logger.logLevel = .warning
        let coordinator = try Self.recover(dataDir, logger: logger)
        let code = Crockford.normalize(id)
        let document = format.report
        let bytes: [UInt8]
        if let live = coordinator.rooms[code] {
            bytes = document.body(RoomReport(room: live, generatedAt: wallClockMillis()))
        } else if let archived = coordinator.archived[code] {
            let room = try Persistence.archivedRoom(in: dataDir, code: code, seq: archived.seq)
            bytes = document.body(RoomReport(room: room, generatedAt: wallClockMillis()))
        } else if let community = coordinator.communities[code] {
            // Sessions' titles and attendance as the report route finds them: live rooms, then archive files.
            let facts = CommunityReport.sessionFacts(community, in: coordinator, dataDir: dataDir) { room in
                logger.warning("the archive file of session \(room) could not be read: its attendance is left out")
            }
            bytes = document.body(CommunityReport(community: community, sessions: facts, generatedAt: wallClockMillis()))
        } else {
            let rooms = Set(coordinator.rooms.keys).union(coordinator.archived.keys).sorted().joined(separator: ", ")
            let communities = coordinator.communities.byID.keys.sorted().joined(separator: ", ")
            throw ValidationError(
                "no room or community \(id)\(code == id ? "" : " (read as \(code))") in \(dataDir)"
                    + (rooms.isEmpty ? " (it holds no rooms)" : "; rooms: \(rooms)")
                    + (communities.isEmpty ? "" : "; communities: \(communities)"))
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
