#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A voter key file that exists but cannot be used: unreadable, not a file, or not a well-formed key.
/// Recovery and reopen refuse with it instead of making a new key, because a new key gives every member
/// a new pseudonym and so a second ballot in the poll (OPERATIONS.md, *Voter keys*).
public struct KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or the `keys/` folder) at fault.
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        "voter key \(file) is unusable: \(reason). Refusing to replace it with a new key, which would let every member "
            + "who already voted in that open anonymous poll vote again. Fix the disk problem or restore the file from a "
            + "backup and try again; or remove it to accept that the poll's key is lost (see OPERATIONS.md, Voter keys)"
    }
}

/// Voter keys of open anonymous polls: `keys/<ROOM>-<poll>.key` (folder 0700, files 0600), each exactly the
/// 32 lowercase hex digits `randomSecret` makes, no newline. Outside journal and snapshots on purpose:
/// deleting the file at close is what unlinks pseudonyms from members.
public enum KeyStore {
    static let directoryName = "keys"
    static let suffix = ".key"
    /// 16 random bytes as hex.
    public static let keyLength = 32

    public static func directory(in dataDir: String) -> String { FileSystem.join(dataDir, directoryName) }

    public static func path(in dataDir: String, name: String) -> String {
        FileSystem.join(directory(in: dataDir), name + suffix)
    }

    /// Exactly `keyLength` characters, each 0-9 or a-f.
    public static func isWellFormed<S: Sequence<UInt8>>(_ bytes: S) -> Bool {
        var n = 0
        for b in bytes {
            guard (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) else { return false }
            n += 1
        }
        return n == keyLength
    }

    /// Writes the key durably through the shared atomic write (temp file, fsync, rename, fsync folder).
    public static func write(in dataDir: String, name: String, key: String) throws {
        guard isWellFormed(key.utf8) else { throw KeyFileError(file: path(in: dataDir, name: name), reason: "refusing to write a malformed key") }
        try FileSystem.makeDirectory(directory(in: dataDir), mode: 0o700)
        try FileSystem.writeAtomically(path(in: dataDir, name: name), [Array(key.utf8)], mode: 0o600)
    }

    /// Deletes the key file (absent is fine) and makes the deletion durable.
    public static func remove(in dataDir: String, name: String) throws(StoreError) {
        let dir = directory(in: dataDir)
        let file = path(in: dataDir, name: name)
        if unlink(file) != 0 {
            if errno == ENOENT { return }
            throw StoreError.lastIO("unlink", file)
        }
        try FileSystem.syncDirectory(dir)
    }

    /// The key in `name`'s file; nil when there is no such file (nor a `keys/` folder).
    /// Throws `KeyFileError` for a file that is there but unusable: never a reason to make a new key.
    public static func read(in dataDir: String, name: String) throws(KeyFileError) -> String? {
        let file = path(in: dataDir, name: name)
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            if code == ENOTDIR {
                throw KeyFileError(file: directory(in: dataDir), reason: "it is not a folder")
            }
            throw KeyFileError(file: file, reason: "open failed: \(StoreError.errnoText(code)) (errno \(code))")
        }
        defer { _ = close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let code = errno
            throw KeyFileError(file: file, reason: "stat failed: \(StoreError.errnoText(code)) (errno \(code))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw KeyFileError(file: file, reason: "it is not a regular file") }
        // One byte more than a key, to tell "longer than a key" from a key.
        var buf = [UInt8](repeating: 0, count: keyLength + 1)
        var done = 0
        while done < buf.count {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                throw KeyFileError(file: file, reason: "read failed: \(StoreError.errnoText(code)) (errno \(code))")
            }
            if n == 0 { break }
            done += n
        }
        // The reason never quotes the content: it may be most of a key.
        let content = buf[0..<done]
        guard done > 0 else { throw KeyFileError(file: file, reason: "it is empty") }
        guard done <= keyLength else { throw KeyFileError(file: file, reason: "it holds more than \(keyLength) bytes") }
        guard isWellFormed(content) else {
            throw KeyFileError(
                file: file,
                reason: done < keyLength
                    ? "it holds \(done) bytes, not a \(keyLength)-digit key (truncated?)" : "it does not hold \(keyLength) lowercase hex digits")
        }
        return String(decoding: content, as: UTF8.self)
    }

    /// What `keys/` holds: names with a `.key` file (suffix dropped) and leftover temp files (full paths).
    /// A missing folder is empty; a folder that cannot be listed (or is a file) throws `KeyFileError`.
    public static func list(in dataDir: String) throws(KeyFileError) -> (names: [String], temporaries: [String]) {
        let dir = directory(in: dataDir)
        let entries: [String]
        do {
            entries = try FileSystem.list(dir)
        } catch {
            if case let .io(_, _, code) = error, code == ENOTDIR {
                throw KeyFileError(file: dir, reason: "it is not a folder")
            }
            throw KeyFileError(file: dir, reason: error.description)
        }
        var names: [String] = []
        var temporaries: [String] = []
        for entry in entries {
            if entry.hasSuffix(suffix) {
                names.append(String(entry.dropLast(suffix.count)))
            } else if entry.hasSuffix(suffix + FileSystem.tempSuffix) {
                temporaries.append(FileSystem.join(dir, entry))
            }
        }
        return (names.sorted(), temporaries.sorted())
    }

    /// Deletes a leftover temp file: a crash mid-write. Its key never replaced the real file, and keeping it
    /// would keep key material after its poll closes.
    public static func removeTemporary(_ path: String) throws(StoreError) {
        try FileSystem.remove(path)
        try FileSystem.syncDirectory(FileSystem.parentDirectory(path))
    }
}
