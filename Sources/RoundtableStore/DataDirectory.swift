#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data folder: creates `journal/` and `snapshots/` and holds an exclusive `flock` on `LOCK` for as long
/// as the instance lives, so a second server pointed at the same folder fails fast instead of interleaving
/// writes with the first. The kernel drops the lock when the process dies, kill -9 included.
public final class DataDirectory: Sendable {
    public let path: String
    public var journalPath: String { FileSystem.join(path, Segment.directoryName) }
    public var snapshotsPath: String { FileSystem.join(path, SnapshotStore.directoryName) }
    private let lockFD: Locked<Int32?>

    /// Creates the folder structure if needed and takes the lock; throws `.locked` if another holder has it.
    public init(path: String) throws(StoreError) {
        self.path = path
        try FileSystem.makeDirectory(path)
        try FileSystem.makeDirectory(FileSystem.join(path, Segment.directoryName))
        try FileSystem.makeDirectory(FileSystem.join(path, SnapshotStore.directoryName))
        let lockPath = FileSystem.join(path, "LOCK")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw StoreError.lastIO("open", lockPath) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = Self.holder(fd)
            _ = close(fd)
            if code == EWOULDBLOCK { throw StoreError.locked(path: path, holder: holder) }
            throw StoreError.io(operation: "lock", path: lockPath, errno: code)
        }
        // The pid is only for the error message another process shows; the flock is the actual guard.
        let pid = Array("pid \(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        lockFD = Locked(fd)
        try FileSystem.syncDirectory(path)
        // Only now, holding the lock, can no other process be in the middle of writing one of these.
        let snapshots = FileSystem.join(path, SnapshotStore.directoryName)
        for name in try FileSystem.list(snapshots) where name.hasSuffix(FileSystem.tempSuffix) {
            try FileSystem.remove(FileSystem.join(snapshots, name))
        }
    }

    deinit {
        unlock()
    }

    /// Releases the lock early (normally it is released when the instance goes away).
    public func unlock() {
        lockFD.withLock { fd in
            if let open = fd {
                _ = flock(open, LOCK_UN)
                _ = close(open)
                fd = nil
            }
        }
    }

    private static func holder(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return "another process" }
        let text = String(decoding: buf[0..<n], as: UTF8.self).trimmingWhitespace()
        return text.isEmpty ? "another process" : text
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
