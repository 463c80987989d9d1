#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can go wrong in the data folder, phrased so an operator can act on the message.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed; `errno` is kept so callers can tell ENOSPC (wait for space) from EIO (disk trouble).
    case io(operation: String, path: String, errno: Int32)
    /// Damage that is not a torn tail: refusing to start is safer than silently dropping acknowledged votes.
    case corruptJournal(file: String, offset: Int, reason: String)
    /// Records are missing between what the snapshot covers and what the journal holds.
    case journalGap(file: String, expected: UInt64, found: UInt64)
    /// A batch whose first LSN does not follow the last one written (an earlier batch failed and was not re-sent).
    case outOfSequence(expected: UInt64, got: UInt64)
    /// A batch the writer cannot encode (LSNs not consecutive, record too large).
    case invalidBatch(String)
    /// A snapshot file failed validation.
    case corruptSnapshot(file: String, reason: String)
    /// Recovery fell back past damaged snapshots (each "path: reason") and the journal no longer holds the
    /// records they covered (`journalGap`): the snapshots are the cause, the gap only its symptom.
    case snapshotsDamaged(snapshots: [String], journalGap: String)
    /// Another process holds the data folder.
    case locked(path: String, holder: String)
    /// The writer was closed before the batch could be written.
    case closed

    public var description: String {
        switch self {
        case let .io(op, path, code):
            return "\(op) failed for \(path): \(Self.errnoText(code)) (errno \(code))"
        case let .corruptJournal(file, offset, reason):
            return
                "journal \(file) is damaged at byte offset \(offset): \(reason); refusing to start (restore the file or start with repair to drop everything from that offset on)"
        case let .journalGap(file, expected, found):
            return "journal \(file) is missing records: expected LSN \(expected) but found \(found)"
        case let .outOfSequence(expected, got):
            return "journal batch starts at LSN \(got) but the next LSN to write is \(expected)"
        case let .invalidBatch(why):
            return "invalid journal batch: \(why)"
        case let .corruptSnapshot(file, reason):
            return "snapshot \(file) is invalid: \(reason)"
        case let .snapshotsDamaged(snapshots, gap):
            return "cannot recover: the snapshot\(snapshots.count == 1 ? " is" : "s are") damaged (\(snapshots.joined(separator: "; ")))"
                + " and the journal no longer holds the records \(snapshots.count == 1 ? "it" : "they") covered (\(gap));"
                + " restore the data folder from a backup (roundtable inspect lists each snapshot's problem)"
        case let .locked(path, holder):
            return "data directory \(path) is in use by another server (\(holder)); stop it or choose another --data directory"
        case .closed:
            return "journal writer is closed"
        }
    }

    /// True for "disk full" style errors, which clear up without operator action on the file itself.
    public var isOutOfSpace: Bool {
        if case let .io(_, _, code) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }

    static func errnoText(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "unknown error" }
        return String(cString: s)
    }

    static func lastIO(_ op: String, _ path: String) -> StoreError {
        .io(operation: op, path: path, errno: errno)
    }
}
