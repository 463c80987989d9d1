#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Archived rooms: `archive/<CODE>-<seq, 20 digits>.room`, one room's snapshot in the snapshot file
/// format (header, CRC32C), the header's LSN field holding the room's seq. The seq in the name ties a file
/// to the archive entry in the journal, so a stale file from an earlier archive is never mistaken for it.
public enum ArchiveStore {
    static let directoryName = "archive"
    static let suffix = ".room"

    /// One archive file as found on disk.
    public struct Entry: Sendable, Equatable {
        public var code: String
        public var seq: UInt64
        public var path: String
    }

    static func fileName(_ code: String, _ seq: UInt64) -> String {
        FileSystem.lsnName(prefix: code + "-", seq, suffix: suffix)
    }

    /// Durably writes a room's archive (temp file, fsync, rename, fsync folder).
    public static func write(directory: String, code: String, seq: UInt64, payload: [UInt8]) throws(StoreError) {
        try SnapshotStore.writeFile(
            in: FileSystem.join(directory, directoryName), parent: directory, name: fileName(code, seq), lsn: seq, payload: payload)
    }

    /// The validated payload of a room's archive.
    public static func read(directory: String, code: String, seq: UInt64) throws(StoreError) -> [UInt8] {
        let path = FileSystem.join(FileSystem.join(directory, directoryName), fileName(code, seq))
        return try SnapshotStore.read(path, lsn: seq).get()
    }

    public static func remove(directory: String, code: String, seq: UInt64) throws(StoreError) {
        let dir = FileSystem.join(directory, directoryName)
        try FileSystem.remove(FileSystem.join(dir, fileName(code, seq)))
        try FileSystem.syncDirectory(dir)
    }

    /// Every archive file (temp files and strangers ignored).
    public static func list(directory: String) throws(StoreError) -> [Entry] {
        let dir = FileSystem.join(directory, directoryName)
        return try FileSystem.list(dir).compactMap { name -> Entry? in
            // Codes are Crockford base32 (no "-"), so the last "-" separates code and seq.
            guard let dash = name.lastIndex(of: "-") else { return nil }
            let code = String(name[..<dash])
            guard !code.isEmpty, let seq = FileSystem.parseLSNName(String(name[dash...]), prefix: "-", suffix: suffix) else { return nil }
            return Entry(code: code, seq: seq, path: FileSystem.join(dir, name))
        }
    }
}
