#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The handful of system calls the journal writer makes, behind a protocol so tests can inject ENOSPC,
/// short writes and fsync failures without root or a tiny filesystem.
protocol JournalFileOps: Sendable {
    /// Creates a new file; fails if it exists, so a writer never clobbers a segment it did not scan.
    func createExclusive(_ path: String) throws(StoreError) -> Int32
    /// Writes all of `bytes` at `offset` or throws; a throw may leave a partial write behind.
    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(StoreError)
    func sync(_ fd: Int32, path: String) throws(StoreError)
    /// fdatasync: the data plus only the metadata needed to read it back (a grown size), not mtime. In a
    /// segment pre-sized with real zeros that is no metadata at all, so ext4 need not journal the inode.
    func dataSync(_ fd: Int32, path: String) throws(StoreError)
    /// Writes `count` zero bytes at `offset` (real blocks, not a hole or an fallocated "unwritten" extent):
    /// pre-sizes a segment and wipes a failed group's bytes inside a pre-sized one.
    func writeZeros(_ fd: Int32, at offset: Int64, count: Int64, path: String) throws(StoreError)
    /// A second descriptor for the same open file (the everysec fsync runs on one, so a roll cannot close it).
    func duplicate(_ fd: Int32, path: String) throws(StoreError) -> Int32
    /// Starts writing back `count` bytes at `offset` without waiting (Linux `sync_file_range`), so a later
    /// fsync of the file has little left to do; a hint only, a no-op where unsupported.
    func startWriteback(_ fd: Int32, at offset: Int64, count: Int64)
    /// Gives the file at `from` the name `to` and drops `from`; fails (EEXIST) rather than replace an existing `to`.
    func renameNoReplace(_ from: String, to: String) throws(StoreError)
    func truncate(_ fd: Int32, to length: Int64, path: String) throws(StoreError)
    func syncDirectory(_ path: String) throws(StoreError)
    func close(_ fd: Int32)
    func remove(_ path: String)
}

/// The real thing: plain POSIX calls with EINTR retried and short writes continued.
struct PosixFileOps: JournalFileOps {
    func createExclusive(_ path: String) throws(StoreError) -> Int32 {
        try createExclusive(path, mode: 0o644)
    }

    func createExclusive(_ path: String, mode: mode_t) throws(StoreError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 { throw StoreError.lastIO("create", path) }
        return fd
    }

    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(StoreError) {
        let failure: Int32 = bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = pwrite(fd, buf.baseAddress! + done, buf.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if n == 0 { return EIO }
                done += n
            }
            return 0
        }
        if failure != 0 { throw StoreError.io(operation: "write", path: path, errno: failure) }
    }

    func sync(_ fd: Int32, path: String) throws(StoreError) {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw StoreError.lastIO("fsync", path)
        }
    }

    func dataSync(_ fd: Int32, path: String) throws(StoreError) {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw StoreError.lastIO("fdatasync", path)
        }
    }

    func writeZeros(_ fd: Int32, at offset: Int64, count: Int64, path: String) throws(StoreError) {
        let zeros = [UInt8](repeating: 0, count: Int(min(count, Int64(1 << 20))))
        var done: Int64 = 0
        while done < count {
            let n = min(Int64(zeros.count), count - done)
            try write(fd, n == Int64(zeros.count) ? zeros : Array(zeros.prefix(Int(n))), at: offset + done, path: path)
            done += n
        }
    }

    func startWriteback(_ fd: Int32, at offset: Int64, count: Int64) {
        _ = syncFileRange?(fd, offset, count, 2) // SYNC_FILE_RANGE_WRITE: start writeback, do not wait
    }

    func renameNoReplace(_ from: String, to: String) throws(StoreError) {
        // link fails with EEXIST instead of replacing; the spare's own name then goes.
        if link(from, to) != 0 { throw StoreError.lastIO("link \(from) to", to) }
        _ = unlink(from)
    }

    func duplicate(_ fd: Int32, path: String) throws(StoreError) -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        if copy < 0 { throw StoreError.lastIO("dup", path) }
        return copy
    }

    func truncate(_ fd: Int32, to length: Int64, path: String) throws(StoreError) {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw StoreError.lastIO("truncate", path)
        }
    }

    func syncDirectory(_ path: String) throws(StoreError) {
        try FileSystem.syncDirectory(path)
    }

    func close(_ fd: Int32) {
        sysClose(fd)
    }

    func remove(_ path: String) {
        _ = unlink(path)
    }
}

/// glibc's `sync_file_range` (Linux), looked up at run time: the Glibc module does not export it (it needs
/// _GNU_SOURCE). Nil elsewhere, where `startWriteback` is then a no-op.
private let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
}()

private func sysClose(_ fd: Int32) {
    _ = close(fd)
}

/// File helpers shared by the reader, snapshots and the data directory.
enum FileSystem {
    /// Makes a rename or create in `path` durable: without this a power cut can lose the new directory entry
    /// even though the file's data was fsynced.
    static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw StoreError.lastIO("open directory", path) }
        defer { _ = close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            // Some filesystems refuse fsync on directories; they also do not need it.
            if errno == EINVAL || errno == EROFS { return }
            throw StoreError.lastIO("fsync directory", path)
        }
    }

    /// The suffix of the temporary file `writeAtomically` writes next to its target.
    static let tempSuffix = ".tmp"

    /// The one way snapshots, archives and voter keys reach the disk: `chunks` written to `path` + ".tmp"
    /// (a leftover from a crash mid-write is replaced), fsynced, renamed over `path`, and the folder fsynced.
    /// A crash leaves either the complete new file or the old one, never a partial file under `path`;
    /// any failure (including the folder's fsync) throws and removes the temp file.
    static func writeAtomically(_ path: String, _ chunks: [[UInt8]], mode: mode_t = 0o644) throws(StoreError) {
        let ops = PosixFileOps()
        let temp = path + tempSuffix
        try remove(temp)
        let fd = try ops.createExclusive(temp, mode: mode)
        do throws(StoreError) {
            var offset: Int64 = 0
            for chunk in chunks {
                try ops.write(fd, chunk, at: offset, path: temp)
                offset += Int64(chunk.count)
            }
            try ops.sync(fd, path: temp)
            ops.close(fd)
        } catch {
            ops.close(fd)
            ops.remove(temp)
            throw error
        }
        if rename(temp, path) != 0 {
            let failure = StoreError.lastIO("rename to \(path)", temp)
            ops.remove(temp)
            throw failure
        }
        try syncDirectory(parentDirectory(path))
    }

    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func readAll(_ path: String) throws(StoreError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw StoreError.lastIO("open", path) }
        defer { _ = close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw StoreError.lastIO("stat", path) }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        var failure: Int32 = 0
        out.withUnsafeMutableBytes { buf in
            while done < size {
                let n = pread(fd, buf.baseAddress! + done, size - done, off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }
                done += n
            }
        }
        if failure != 0 { throw StoreError.io(operation: "read", path: path, errno: failure) }
        // The file shrank under us; what we have is what exists.
        if done < size { out.removeLast(size - done) }
        return out
    }

    /// Cuts a file to `length` and makes the cut durable, so a truncated torn tail cannot reappear.
    static func truncate(_ path: String, to length: Int) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw StoreError.lastIO("open", path) }
        defer { _ = close(fd) }
        if ftruncate(fd, off_t(length)) != 0 { throw StoreError.lastIO("truncate", path) }
        if fsync(fd) != 0 { throw StoreError.lastIO("fsync", path) }
    }

    static func remove(_ path: String) throws(StoreError) {
        if unlink(path) != 0 && errno != ENOENT { throw StoreError.lastIO("unlink", path) }
    }

    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(StoreError) {
        if mkdir(path, mode) != 0 && errno != EEXIST { throw StoreError.lastIO("mkdir", path) }
    }

    /// Names in `path`; a missing directory is empty (a fresh data folder), any other failure is an error
    /// because silently seeing no files would mean starting from nothing.
    static func list(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw StoreError.lastIO("list directory", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw StoreError.lastIO("list directory", path) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// `prefix` + LSN zero-padded to 20 digits (the width of UInt64.max) + `suffix`, so names sort by LSN.
    static func lsnName(prefix: String, _ lsn: UInt64, suffix: String) -> String {
        let digits = String(lsn)
        return prefix + String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    /// Inverse of `lsnName`; nil for anything else living in the folder (temp files, editor backups).
    static func parseLSNName(_ name: String, prefix: String, suffix: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}
