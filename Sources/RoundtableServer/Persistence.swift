import Logging
import RoundtableCore
import RoundtableStore
import RoundtableWire

#if canImport(Glibc)
import Glibc
#endif

/// The data folder as the server uses it: recovery, the journal (as the server's `JournalSink`), snapshots.
///
/// Threads: `recover`/`reload` run on a recovery thread while the service thread refuses requests;
/// `append`, `writePending`, `wakeWriter`, `failed` and `lastLSN` are called on the service thread only;
/// `writeSnapshot` on the snapshot thread. Under `always` the writer reports durability on its own thread
/// through the handler; under `none` and `everysec` (`writesInline`) the service thread writes the journal
/// itself in `writePending` and the handler is called there, before it returns.
public final class Persistence: @unchecked Sendable {
    public let directory: DataDirectory
    let logger: Logger
    let options: JournalOptions
    private let handler = DurableHandlerSlot()
    private let writer = Locked<JournalWriter?>(nil)
    // service thread (and the recovery thread before the server is ready)
    private var nextLSN: UInt64 = 1
    /// (ticket, first LSN) of batches not yet reported, in ticket order.
    private var ticketFirstLSN = HeadQueue<(ticket: UInt64, lsn: UInt64)>(compactAfter: 1024, keepCapacityUpTo: 4095)
    /// Appended since the last `wakeWriter()` or `writePending()`.
    private var unwoken = false

    public init(path: String, fsync: FsyncPolicy, logger: Logger) throws {
        directory = try DataDirectory(path: path)
        self.logger = logger
        // Under none/everysec a write that returned is all "durable" means, so the service thread writes
        // itself: no hand-off to a writer thread, no wake-up back (BENCHMARKS.md: ~0.9 context switches per
        // solitary vote). `always` keeps the writer thread: its fsync must not stall the loop.
        options = JournalOptions(fsync: fsync, writeOnCaller: fsync != .always)
    }

    /// Whether the service thread writes the journal itself (`writePending`) rather than waking a writer thread.
    public var writesInline: Bool { options.writeOnCaller }

    /// Newest valid snapshot plus the journal after it; opens the writer on the first call.
    public func recover(limits: Limits) throws -> Coordinator {
        var c = Coordinator(limits: limits, entropy: SystemEntropy(), hasher: SHA256Hasher())
        let started = monotonicSeconds()
        var after: UInt64 = 0
        let (snap, scan) = try SnapshotStore.loadForRecovery(directory: directory.path, logger: logger)
        if let snap {
            try c.restore(snapshot: try JSON.parse(snap.payload, maxDepth: 64))
            after = snap.lsn
        }
        for r in scan.records {
            try c.replay(JournalEntry(room: r.room, seq: r.seq, at: r.at, op: try JSON.parse(r.payload, maxDepth: 64)))
        }
        c.finishRecovery()
        try restoreVoterKeys(&c)
        // A crash between writing an archive and journaling it, or after a reopen, leaves a file nothing names.
        for file in try ArchiveStore.list(directory: directory.path) where c.archived[file.code]?.seq != file.seq {
            try ArchiveStore.remove(directory: directory.path, code: file.code, seq: file.seq)
        }
        nextLSN = scan.nextLSN
        if writer.withLock({ $0 }) == nil {
            let w = try JournalWriter(directory: directory.path, nextLSN: scan.nextLSN, options: options, logger: logger) {
                [handler] ticket, result in
                let ok: Bool
                switch result {
                case .success: ok = true
                case .failure: ok = false
                }
                handler.get()?(ticket, ok)
            }
            writer.withLock { $0 = w }
        }
        logger.info(
            "recovery done",
            metadata: [
                "snapshot.lsn": "\(after)", "journal.records": "\(scan.records.count)", "rooms": "\(c.rooms.count)",
                "seconds": "\(Int((monotonicSeconds() - started) * 1000))ms",
            ])
        return c
    }

    public func setDurableHandler(_ h: @escaping @Sendable (UInt64, Bool) -> Void) {
        handler.set(h)
    }

    public func append(_ entries: [JournalEntry]) -> UInt64 {
        guard let w = writer.withLock({ $0 }) else { return 0 }
        var records: [JournalRecord] = []
        records.reserveCapacity(entries.count)
        let first = nextLSN
        for e in entries {
            records.append(JournalRecord(lsn: nextLSN, room: e.room, seq: e.seq, at: e.at, payload: JournalOpEncoder.payload(e)))
            nextLSN += 1
        }
        let ticket = w.append(records, wake: false)
        ticketFirstLSN.append((ticket, first))
        unwoken = true
        return ticket
    }

    /// Hands everything appended since the last call to the writer thread. The service loop calls this
    /// after every `lws_service` pass, so one pass's appends are one group commit.
    /// Returns whether there was anything to hand over.
    @discardableResult
    public func wakeWriter() -> Bool {
        guard unwoken else { return false }
        unwoken = false
        writer.withLock { $0 }?.wake()
        return true
    }

    /// Whether anything was appended since the last `writePending`/`wakeWriter`.
    public var hasUnwritten: Bool { unwoken }

    /// `writesInline`: writes everything appended since the last call, on this (the service) thread, and
    /// reports each batch through the durable handler before returning. The service loop calls this after
    /// every `lws_service` pass, so one pass's appends are one write. Returns whether there was anything.
    @discardableResult
    public func writePending() -> Bool {
        guard unwoken else { return false }
        unwoken = false
        writer.withLock { $0 }?.writePending()
        return true
    }

    /// The LSN of the last record handed to the writer: a snapshot taken now covers everything up to it.
    public var lastLSN: UInt64 { nextLSN - 1 }

    public func durable(_ ticket: UInt64) {
        while let first = ticketFirstLSN.first, first.ticket <= ticket { ticketFirstLSN.popFirst() }
    }

    /// A batch failed: the writer expects the next batch to start where the failed one did.
    public func failed(_ ticket: UInt64) {
        while let first = ticketFirstLSN.first, first.ticket < ticket { ticketFirstLSN.popFirst() }
        if let first = ticketFirstLSN.first, first.ticket == ticket, first.lsn < nextLSN {
            nextLSN = first.lsn
        }
        // Everything from the failed batch on is void: the writer expects a re-send from its first LSN.
        ticketFirstLSN.removeAll()
    }

    /// Writes a snapshot (temp file, fsync, rename, fsync folder) and prunes what it makes unnecessary.
    public func writeSnapshot(
        _ rooms: [String: Room], archived: [String: Coordinator.ArchivedRoom], communities: Communities = Communities(), lsn: UInt64
    ) throws -> Int {
        let payload = JSON.serialize(Coordinator.snapshotValue(rooms, archived: archived, communities: communities))
        try SnapshotStore.write(directory: directory.path, lsn: lsn, payload: payload)
        _ = try SnapshotStore.prune(directory: directory.path, keep: 2, logger: logger)
        return payload.count
    }

    // MARK: Archived rooms

    /// A room too large for this stays in memory: its reopen is journaled whole, in one record.
    public static let maxArchiveBytes = RecordCodec.maxBodySize - 64 * 1024

    public struct ArchiveTooLarge: Error, CustomStringConvertible {
        public var bytes: Int
        public var description: String { "the room's state is \(bytes) bytes, more than an archive may hold (\(Persistence.maxArchiveBytes))" }
    }

    /// Writes a room's archive file durably; returns its size. Runs off the service thread.
    public func writeArchive(_ room: Room) throws -> Int {
        let payload = JSON.serialize(room.snapshotValue)
        guard payload.count <= Self.maxArchiveBytes else { throw ArchiveTooLarge(bytes: payload.count) }
        try ArchiveStore.write(directory: directory.path, code: room.code, seq: room.seq, payload: payload)
        return payload.count
    }

    /// Reads an archived room back, with the voter keys its open anonymous polls need. An unusable key file
    /// throws (`KeyFileError`): the reopen is refused and logged, the room stays archived.
    public func loadArchive(_ code: String, seq: UInt64) throws -> (room: Room, voterKeys: [String: String]) {
        let room = try Self.archivedRoom(in: directory.path, code: code, seq: seq)
        return (room, try loadKeys(for: [room]))
    }

    /// An archived room's state, read from a data folder (also a stopped server's, for exports).
    public static func archivedRoom(in dataDir: String, code: String, seq: UInt64) throws -> Room {
        let payload = try ArchiveStore.read(directory: dataDir, code: code, seq: seq)
        return try Room(snapshot: try JSON.parse(payload, maxDepth: 64))
    }

    public func discardArchive(_ code: String, seq: UInt64) throws {
        try ArchiveStore.remove(directory: directory.path, code: code, seq: seq)
    }

    // MARK: Voter keys of open anonymous polls: outside journal and snapshots, deleted at close.

    /// Writes the key durably (`KeyStore.write`: the atomic write snapshots and archives use) or deletes it.
    public func storeKey(_ name: String, _ key: String?) throws {
        if let key {
            try KeyStore.write(in: directory.path, name: name, key: key)
        } else {
            try KeyStore.remove(in: directory.path, name: name)
        }
    }

    /// After replay: each open anonymous poll of a live room gets its key back; temp files left by a crash
    /// mid-write and key files of polls that are no longer open are deleted. A key file that exists but is
    /// unusable stops recovery (`KeyFileError`, naming the file): it is never replaced by a new key.
    func restoreVoterKeys(_ c: inout Coordinator) throws {
        let found = try KeyStore.list(in: directory.path)
        for temp in found.temporaries { try KeyStore.removeTemporary(temp) }
        let keys = try loadKeys(for: c.rooms.values)
        for (name, key) in c.installVoterKeys(keys) { try storeKey(name, key) }
        // A crash between a poll's close and its key's deletion leaves the file: delete it now.
        let open = c.openAnonymousPollKeyNames()
        for name in found.names where !open.contains(name) { try storeKey(name, nil) }
    }

    /// The keys of the open anonymous polls of `rooms` that have a key file; throws for an unusable one.
    /// A missing file means the poll gets a new key (`installVoterKeys`). With no ballot in the poll that is
    /// harmless and expected after a crash between journaling the open and writing the key (the key is
    /// written before anyone hears of the poll). With ballots the file was lost (deleted, or its write failed
    /// at open, which was logged then): members who already voted can vote again, so say so loudly.
    func loadKeys(for rooms: some Sequence<Room>) throws -> [String: String] {
        var keys: [String: String] = [:]
        for room in rooms {
            for (id, p) in room.polls where p.definition.anonymous && p.state == .open {
                let name = Coordinator.voterKeyName(room.code, id)
                if let key = try KeyStore.read(in: directory.path, name: name) {
                    keys[name] = key
                } else if !p.ballots.isEmpty {
                    logger.warning(
                        "voter key file missing for an open anonymous poll that has ballots: the poll gets a new key and members who already voted can vote a second time; close the poll and ask again if that matters",
                        metadata: [
                            "file": "\(KeyStore.path(in: directory.path, name: name))", "room": "\(room.code)", "poll": "\(id)",
                            "ballots": "\(p.ballots.count)",
                        ])
                }
            }
        }
        return keys
    }

    /// Flushes and fsyncs the journal; after this no append is accepted.
    public func close() {
        writer.withLock { $0 }?.close()
    }
}

/// The durable handler behind a mutex, deliberately not `Locked<Closure?>`: passing a closure `inout`
/// through the generic `withLock` reabstracts it on the way in and again on write-back, so every call
/// wrapped the stored closure in one more thunk. The writer calls this once per ticket, so the chain
/// grew by one thunk per vote and the call cost with it (perf: 65 % of server CPU in nested
/// `(UInt64, Bool) -> ()` reabstraction thunks during a vote storm; BENCHMARKS.md).
final class DurableHandlerSlot: @unchecked Sendable {
    // Safe: `handler` is only read or written with `mutex` held.
    private var mutex = pthread_mutex_t()
    private var handler: (@Sendable (UInt64, Bool) -> Void)?

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func set(_ h: @escaping @Sendable (UInt64, Bool) -> Void) {
        pthread_mutex_lock(&mutex)
        handler = h
        pthread_mutex_unlock(&mutex)
    }

    func get() -> (@Sendable (UInt64, Bool) -> Void)? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return handler
    }
}
