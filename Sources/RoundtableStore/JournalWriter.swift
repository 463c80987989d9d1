import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When the writer calls fsync, and therefore what "durable" means when a ticket is reported.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Report a batch only after the fsync that covers it: survives power loss.
    case always
    /// Report after write(); fsync at most once a second in the background: survives kill -9, may lose
    /// up to about a second of acknowledged records on power loss.
    case everysec
    /// Report after write(); never fsync. For tests and benchmarks only.
    case none
}

/// Writer settings.
public struct JournalOptions: Sendable {
    public var fsync: FsyncPolicy
    /// A new segment is started before a batch once the current one has reached this many bytes.
    public var segmentSize: Int

    public init(fsync: FsyncPolicy = .always, segmentSize: Int = 64 << 20) {
        self.fsync = fsync
        self.segmentSize = segmentSize
    }
}

/// Appends journal records on a dedicated thread with group commit.
///
/// The server's service thread calls `append`, which only encodes into memory and returns a ticket. The writer
/// thread takes everything buffered so far, writes it with one `pwrite`, fsyncs once for the whole group and then
/// reports each ticket, in ticket order, through `onDurable` (on the writer thread).
///
/// Open a writer only after `JournalReader.scan` has repaired the journal, passing `scan.nextLSN`: the writer
/// always starts a fresh segment and never appends after bytes it has not verified.
///
/// On a failed write or fsync (e.g. ENOSPC) the affected tickets fail, the file is cut back to the last good
/// offset and the next LSN to write stays where it was. Batches already buffered behind the failure fail with
/// `.outOfSequence`; the server re-sends from the first failed LSN and service resumes once the disk recovers.
public final class JournalWriter: Sendable {
    /// Called on the writer thread with a ticket and its outcome; keep it short (hand off to your own loop).
    public typealias DurableHandler = @Sendable (_ ticket: UInt64, _ result: Result<Void, StoreError>) -> Void

    private let shared: Locked<SharedState>
    private let onDurable: DurableHandler

    /// Starts the writer thread; fails only if the journal directory cannot be created.
    /// - Parameters:
    ///   - directory: the data directory (the writer uses its `journal/` folder).
    ///   - nextLSN: the LSN the first appended record must carry (`JournalScan.nextLSN`).
    public convenience init(
        directory: String,
        nextLSN: UInt64,
        options: JournalOptions = JournalOptions(),
        logger: Logger,
        onDurable: @escaping DurableHandler
    ) throws(StoreError) {
        try self.init(
            directory: directory, nextLSN: nextLSN, options: options, logger: logger,
            fileOps: PosixFileOps(), onDurable: onDurable)
    }

    init(
        directory: String,
        nextLSN: UInt64,
        options: JournalOptions,
        logger: Logger,
        fileOps: any JournalFileOps,
        onDurable: @escaping DurableHandler
    ) throws(StoreError) {
        let journal = FileSystem.join(directory, Segment.directoryName)
        try FileSystem.makeDirectory(directory)
        try FileSystem.makeDirectory(journal)
        shared = Locked(SharedState())
        self.onDurable = onDurable
        let core = WriterCore(
            journalDirectory: journal, nextLSN: nextLSN, options: options, logger: logger,
            ops: fileOps, shared: shared, onDurable: onDurable
        )
        let context = Unmanaged.passRetained(core).toOpaque()
        #if os(Linux)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let rc = pthread_create(
            &thread, nil,
            { arg in
                // Balances passRetained above: the thread owns the core for its whole life.
                let core = Unmanaged<WriterCore>.fromOpaque(arg!).takeRetainedValue()
                core.run()
                return nil
            }, context)
        if rc != 0 {
            Unmanaged<WriterCore>.fromOpaque(context).release()
            throw StoreError.io(operation: "start journal writer thread", path: journal, errno: rc)
        }
        #if os(Linux)
        let started: pthread_t = thread
        #else
        let started: pthread_t = thread!
        #endif
        shared.withLock { $0.thread = ThreadHandle(id: started) }
    }

    deinit {
        close()
    }

    /// Queues `records` (consecutive LSNs, starting at 1 for a new journal) as one batch and returns its ticket; never blocks on I/O.
    ///
    /// After `close()`, the ticket fails with `.closed` immediately, on the calling thread.
    ///
    /// With `wake: false` the writer thread is not signalled: the caller promises a `wake()` soon (the server
    /// calls it once per pass of its event loop), so the votes of one pass become one group and one thread
    /// switch instead of one switch each.
    @discardableResult
    public func append(_ records: [JournalRecord], wake: Bool = true) -> UInt64 {
        var bytes: [UInt8] = []
        var problem: StoreError?
        var size = 0
        for (i, r) in records.enumerated() {
            let recordSize = RecordCodec.encodedSize(r)
            if recordSize - RecordCodec.headerSize > RecordCodec.maxBodySize {
                problem = .invalidBatch("record LSN \(r.lsn) is \(recordSize) bytes, over the \(RecordCodec.maxBodySize) limit")
            } else if r.lsn == 0 {
                problem = .invalidBatch("LSN 0 is reserved; LSNs start at 1")
            } else if i > 0 && r.lsn != records[0].lsn &+ UInt64(i) {
                problem = .invalidBatch("LSNs are not consecutive: \(records[i - 1].lsn) then \(r.lsn)")
            }
            size += recordSize
        }
        if problem == nil {
            bytes.reserveCapacity(size)
            for r in records { RecordCodec.encode(r, into: &bytes) }
        }
        let (ticket, accepted) = shared.withLock { s -> (UInt64, Bool) in
            let ticket = s.nextTicket
            s.nextTicket += 1
            if s.closing { return (ticket, false) }
            let start = s.buffer.count
            s.buffer.append(contentsOf: bytes)
            s.chunks.append(
                Chunk(
                    ticket: ticket, firstLSN: records.first?.lsn ?? 0, count: UInt64(records.count),
                    range: start..<s.buffer.count, invalid: problem
                ))
            return (ticket, true)
        }
        if accepted {
            if wake { shared.broadcast() }
        } else {
            onDurable(ticket, .failure(.closed))
        }
        return ticket
    }

    /// Signals the writer thread to take what `append(_:wake: false)` queued.
    public func wake() {
        shared.broadcast()
    }

    /// Bytes appended but not yet taken by the writer thread; a server can stop reading sockets when this grows.
    public var bufferedBytes: Int {
        shared.withLock { $0.buffer.count }
    }

    /// Writes and reports everything appended so far, fsyncs (unless the policy is `.none`) and joins the thread.
    /// Safe to call more than once.
    public func close() {
        let thread = shared.withLock { s -> ThreadHandle? in
            s.closing = true
            defer { s.thread = nil }
            return s.thread
        }
        shared.broadcast()
        if let thread { pthread_join(thread.id, nil) }
    }
}

/// One `append` call waiting in the shared buffer.
struct Chunk: Sendable {
    var ticket: UInt64
    var firstLSN: UInt64
    var count: UInt64
    var range: Range<Int>
    var invalid: StoreError?
}

/// `pthread_t` is a plain integer on Linux but an opaque pointer on Darwin.
/// `@unchecked Sendable` is safe: it is an identifier passed to pthread_join exactly once, never dereferenced.
struct ThreadHandle: @unchecked Sendable {
    var id: pthread_t
}

/// What the service thread and the writer thread exchange, always under the lock.
struct SharedState: Sendable {
    var buffer: [UInt8] = []
    var chunks: [Chunk] = []
    var nextTicket: UInt64 = 1
    var closing = false
    var thread: ThreadHandle?
}
