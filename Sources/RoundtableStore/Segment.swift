/// Journal segment files: `journal/<first LSN, 20 digits>.wal`, each starting with a 16-byte header
/// `"RTJ1" | version u32 | first LSN u64` (little-endian) followed by framed records.
///
/// The first LSN is in the header as well as the name so a renamed or copied file cannot silently be
/// replayed at the wrong position.
enum Segment {
    static let magic: [UInt8] = Array("RTJ1".utf8)
    static let headerSize = 16
    static let suffix = ".wal"
    static let directoryName = "journal"
    /// The next segment, zero-filled ahead of its roll under fsync always (WriterCore); not a `.wal`, so the
    /// reader and pruning never see it, and a writer removes a leftover one when it starts.
    static let spareFileName = "next-segment.spare"

    static func fileName(firstLSN: UInt64) -> String {
        FileSystem.lsnName(prefix: "", firstLSN, suffix: suffix)
    }

    static func header(firstLSN: UInt64) -> [UInt8] {
        var out = magic
        appendLE(StoreFormat.journalVersion, &out)
        appendLE(firstLSN, &out)
        return out
    }

    /// Why the header is unacceptable, or nil if it is fine.
    static func headerProblem(_ bytes: [UInt8], expectedFirstLSN: UInt64) -> String? {
        if bytes.count < headerSize { return "segment header is cut short (\(bytes.count) of \(headerSize) bytes)" }
        if Array(bytes[0..<4]) != magic { return "segment does not start with RTJ1" }
        let version: UInt32 = loadLE(bytes, 4, as: UInt32.self)
        if version != StoreFormat.journalVersion {
            return "segment format version \(version) is not supported (expected \(StoreFormat.journalVersion))"
        }
        let first: UInt64 = loadLE(bytes, 8, as: UInt64.self)
        if first != expectedFirstLSN { return "segment header says first LSN \(first) but the file name says \(expectedFirstLSN)" }
        return nil
    }

    /// Segments in `journalDirectory`, oldest first.
    static func list(_ journalDirectory: String) throws(StoreError) -> [(firstLSN: UInt64, path: String)] {
        try FileSystem.list(journalDirectory)
            .compactMap { name in
                FileSystem.parseLSNName(name, prefix: "", suffix: suffix).map { ($0, FileSystem.join(journalDirectory, name)) }
            }
            .sorted { $0.0 < $1.0 }
    }
}
