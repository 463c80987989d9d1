import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A snapshot file as `list` found it.
public struct SnapshotInfo: Sendable, Equatable {
    public var path: String
    public var lsn: UInt64
    public var bytes: Int
    /// Nil when the file validates; otherwise why it does not.
    public var problem: String?
}

/// What `prune` deleted.
public struct PruneResult: Sendable, Equatable {
    public var deletedSnapshots: [String] = []
    public var deletedSegments: [String] = []
}

/// Snapshot files: `snapshots/snap-<LSN, 20 digits>.snap`, a 28-byte header
/// `"RTS1" | version u32 | lsn u64 | payload length u64 | crc32c(payload) u32` (little-endian) and the payload.
///
/// Written to a temp file, fsynced, renamed into place and the directory fsynced, so a crash leaves either
/// the complete new snapshot or none of it, never a half-written file under the real name.
public enum SnapshotStore {
    static let magic: [UInt8] = Array("RTS1".utf8)
    static let headerSize = 28
    static let directoryName = "snapshots"
    static let prefix = "snap-"
    static let suffix = ".snap"

    /// Durably writes the snapshot of the state after applying every record up to `lsn`.
    public static func write(directory: String, lsn: UInt64, payload: [UInt8]) throws(StoreError) {
        try writeFile(
            in: FileSystem.join(directory, directoryName), parent: directory, name: FileSystem.lsnName(prefix: prefix, lsn, suffix: suffix),
            lsn: lsn, payload: payload)
    }

    /// A file in the snapshot format (header + checksummed payload), written durably: archives use it too.
    static func writeFile(in dir: String, parent: String, name: String, lsn: UInt64, payload: [UInt8]) throws(StoreError) {
        try FileSystem.makeDirectory(parent)
        try FileSystem.makeDirectory(dir)
        let final = FileSystem.join(dir, name)
        var header = magic
        appendLE(StoreFormat.snapshotVersion, &header)
        appendLE(lsn, &header)
        appendLE(UInt64(payload.count), &header)
        appendLE(CRC32C.checksum(payload), &header)

        try FileSystem.writeAtomically(final, [header, payload])
    }

    /// The newest snapshot that validates, falling back to older ones (each rejection logged);
    /// nil when there is none. Throws only when the folder itself cannot be read: silently starting
    /// from nothing would be worse than not starting.
    public static func loadNewestValid(directory: String, logger: Logger) throws(StoreError) -> (lsn: UInt64, payload: [UInt8])? {
        try loadNewestValidReporting(directory: directory, logger: logger).snapshot
    }

    /// `loadNewestValid`, plus the newer snapshots it rejected ("path: reason", newest first).
    static func loadNewestValidReporting(
        directory: String, logger: Logger
    ) throws(StoreError) -> (snapshot: (lsn: UInt64, payload: [UInt8])?, rejected: [String]) {
        var rejected: [String] = []
        for (lsn, path) in try files(directory).reversed() {
            switch read(path, lsn: lsn) {
            case let .success(payload):
                return ((lsn, payload), rejected)
            case let .failure(error):
                logger.error(
                    "snapshot: skipping invalid snapshot, trying an older one",
                    metadata: [
                        "file": "\(path)", "error": "\(error)",
                    ])
                if case let .corruptSnapshot(_, reason) = error {
                    rejected.append("\(path): \(reason)")
                } else {
                    rejected.append("\(path): \(error)")
                }
            }
        }
        return (nil, rejected)
    }

    /// What recovery starts from: the newest valid snapshot and the journal records after it. When snapshots
    /// were skipped as damaged and the journal then has a gap, the error names the damaged snapshots
    /// (`snapshotsDamaged`) rather than the gap they caused.
    public static func loadForRecovery(
        directory: String, logger: Logger
    ) throws(StoreError) -> (snapshot: (lsn: UInt64, payload: [UInt8])?, scan: JournalScan) {
        let (snapshot, rejected) = try loadNewestValidReporting(directory: directory, logger: logger)
        do {
            return (snapshot, try JournalReader.scan(directory: directory, after: snapshot?.lsn ?? 0, logger: logger))
        } catch {
            if case .journalGap = error, !rejected.isEmpty {
                throw .snapshotsDamaged(snapshots: rejected, journalGap: error.description)
            }
            throw error
        }
    }

    /// Every snapshot file, oldest first, each validated.
    public static func list(directory: String) throws(StoreError) -> [SnapshotInfo] {
        try files(directory).map { lsn, path in
            let problem: String?
            switch read(path, lsn: lsn) {
            case .success: problem = nil
            case let .failure(.corruptSnapshot(_, reason)): problem = reason
            case let .failure(other): problem = other.description
            }
            return SnapshotInfo(path: path, lsn: lsn, bytes: FileSystem.fileSize(path) ?? 0, problem: problem)
        }
    }

    /// Keeps the `keep` newest valid snapshots and deletes every other snapshot file, then deletes journal
    /// segments whose records all lie at or below the OLDEST kept snapshot, so falling back to it still finds
    /// every record it needs. The newest segment is never deleted (the writer may be appending to it).
    @discardableResult
    public static func prune(directory: String, keep: Int = 2, logger: Logger) throws(StoreError) -> PruneResult {
        precondition(keep >= 1, "prune must keep at least one snapshot")
        var result = PruneResult()
        var kept: [UInt64] = []
        for (lsn, path) in try files(directory).reversed() {
            if kept.count < keep, case .success = read(path, lsn: lsn) {
                kept.append(lsn)
                continue
            }
            try FileSystem.remove(path)
            result.deletedSnapshots.append(path)
        }
        if !result.deletedSnapshots.isEmpty {
            try FileSystem.syncDirectory(FileSystem.join(directory, directoryName))
        }
        guard let oldestKept = kept.last else { return result }

        let journal = FileSystem.join(directory, Segment.directoryName)
        let segments = try Segment.list(journal)
        // Segment i holds LSNs [first_i, first_{i+1}), so it is covered once first_{i+1} - 1 <= oldestKept.
        for i in segments.indices.dropLast() where segments[i + 1].firstLSN - 1 <= oldestKept {
            try FileSystem.remove(segments[i].path)
            result.deletedSegments.append(segments[i].path)
        }
        if !result.deletedSegments.isEmpty { try FileSystem.syncDirectory(journal) }
        if !result.deletedSnapshots.isEmpty || !result.deletedSegments.isEmpty {
            logger.info(
                "store: pruned old files",
                metadata: [
                    "snapshots": "\(result.deletedSnapshots.count)", "segments": "\(result.deletedSegments.count)",
                    "oldestKeptSnapshot": "\(oldestKept)",
                ])
        }
        return result
    }

    /// Snapshot files by LSN, oldest first; temp files and strangers are ignored.
    private static func files(_ directory: String) throws(StoreError) -> [(UInt64, String)] {
        let dir = FileSystem.join(directory, directoryName)
        return try FileSystem.list(dir)
            .compactMap { name in
                FileSystem.parseLSNName(name, prefix: prefix, suffix: suffix).map { ($0, FileSystem.join(dir, name)) }
            }
            .sorted { $0.0 < $1.0 }
    }

    /// Validates and returns the payload of one snapshot file.
    static func read(_ path: String, lsn: UInt64) -> Result<[UInt8], StoreError> {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readAll(path) } catch { return .failure(error) }
        func bad(_ reason: String) -> Result<[UInt8], StoreError> { .failure(.corruptSnapshot(file: path, reason: reason)) }
        guard bytes.count >= headerSize else { return bad("file is \(bytes.count) bytes, shorter than the header") }
        guard Array(bytes[0..<4]) == magic else { return bad("file does not start with RTS1") }
        let version: UInt32 = loadLE(bytes, 4, as: UInt32.self)
        guard version == StoreFormat.snapshotVersion else { return bad("format version \(version) is not supported") }
        let storedLSN: UInt64 = loadLE(bytes, 8, as: UInt64.self)
        guard storedLSN == lsn else { return bad("header says LSN \(storedLSN) but the file name says \(lsn)") }
        let length: UInt64 = loadLE(bytes, 16, as: UInt64.self)
        guard length == UInt64(bytes.count - headerSize) else {
            return bad("header says \(length) payload bytes but the file holds \(bytes.count - headerSize)")
        }
        let stored: UInt32 = loadLE(bytes, 24, as: UInt32.self)
        let payload = Array(bytes[headerSize...])
        let actual = CRC32C.checksum(payload)
        guard stored == actual else { return bad("checksum mismatch (stored \(hex(stored)), computed \(hex(actual)))") }
        return .success(payload)
    }
}
