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

    /// Write on the thread that calls `writePending()` instead of on a writer thread of the journal's own.
    /// Only for `.none` and `.everysec`, where "durable" means "write() returned": handing the write to
    /// another thread then buys nothing and costs the caller a wake-up and a context switch per group.
    /// `.always` refuses it: an fsync on the caller's thread would stall it for the length of the fsync.
    public var writeOnCaller: Bool

    public init(fsync: FsyncPolicy = .always, segmentSize: Int = 64 << 20, writeOnCaller: Bool = false) {
        self.fsync = fsync
        self.segmentSize = segmentSize
        self.writeOnCaller = writeOnCaller
    }
}

/// Appends journal records with group commit, on a writer thread or (`writeOnCaller`) on the caller's.
///
/// The server's service thread calls `append`, which only encodes into memory and returns a ticket. Whoever
/// writes takes everything buffered so far, writes it with one `pwrite`, fsyncs once for the whole group (under
/// `.always`; an `fdatasync` into a segment pre-sized with zeros, see `WriterCore`) and then reports each
/// ticket, in ticket order, through `onDurable`:
///
/// - writer thread (the default; the only choice under `.always`): the thread wakes on `append`/`wake()` and
///   reports on itself;
/// - `writeOnCaller` (`.none`, `.everysec`): `writePending()` writes on the calling thread and reports there,
///   before it returns. Under `.everysec` a background thread of the journal's own does the once-a-second
///   fsync, so a slow disk never stalls the caller; under `.none` there is no thread at all.
///
/// Open a writer only after `JournalReader.scan` has repaired the journal, passing `scan.nextLSN`: the writer
/// always starts a fresh segment and never appends after bytes it has not verified.
///
/// On a failed write or fsync (e.g. ENOSPC) the affected tickets fail, the file is cut back to the last good
/// offset and the next LSN to write stays where it was. Batches already buffered behind the failure fail with
/// `.outOfSequence`; the server re-sends from the first failed LSN and service resumes once the disk recovers.
public final class JournalWriter: Sendable {
    /// Called with a ticket and its outcome: on the writer thread, or (`writeOnCaller`) on the thread calling
    /// `writePending()` or `close()`; keep it short (hand off to your own loop).
    public typealias DurableHandler = @Sendable (_ ticket: UInt64, _ result: Result<Void, StoreError>) -> Void

    private let shared: Locked<SharedState>
    private let onDurable: DurableHandler
    private let core: WriterCore
    private let writeOnCaller: Bool

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
        precondition(
            !options.writeOnCaller || options.fsync != .always,
            "writeOnCaller with fsync always would fsync on the caller's thread")
        let core = WriterCore(
            journalDirectory: journal, nextLSN: nextLSN, options: options, logger: logger,
            ops: fileOps, shared: shared, onDurable: onDurable
        )
        self.core = core
        writeOnCaller = options.writeOnCaller
        // The writer thread writes; with writeOnCaller only everysec needs a thread, for its fsync.
        let body: (@Sendable () -> Void)
        if !options.writeOnCaller {
            body = { core.run() }
        } else if options.fsync == .everysec {
            body = { core.runBackgroundSync() }
        } else {
            return
        }
        do {
            let started = try startThread(body)
            shared.withLock { $0.thread = started }
        } catch {
            throw StoreError.io(operation: "start journal writer thread", path: journal, errno: error.code)
        }
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
            // Writing on the caller: nobody waits for appends (the sync thread waits for the clock).
            if wake && !writeOnCaller { shared.broadcast() }
        } else {
            onDurable(ticket, .failure(.closed))
        }
        return ticket
    }

    /// Signals the writer thread to take what `append(_:wake: false)` queued.
    public func wake() {
        if !writeOnCaller { shared.broadcast() }
    }

    /// `writeOnCaller` only: writes everything appended so far on this thread and reports every ticket through
    /// `onDurable` before returning (also on this thread). Returns whether there was anything to write.
    /// Calls from several threads are serialized, and groups are written in ticket order.
    /// With a writer thread this only wakes it and returns false: the reports come from that thread.
    @discardableResult
    public func writePending() -> Bool {
        guard writeOnCaller else {
            shared.broadcast()
            return false
        }
        return core.writePending()
    }

    /// Bytes appended but not yet taken by the writer thread; a server can stop reading sockets when this grows.
    public var bufferedBytes: Int {
        shared.withLock { $0.buffer.count }
    }

    /// Writes and reports everything appended so far, fsyncs (unless the policy is `.none`) and joins the thread.
    /// With `writeOnCaller` the last writes and reports happen on the thread calling `close()`.
    /// Safe to call more than once.
    public func close() {
        let thread = shared.withLock { s -> ThreadHandle? in
            s.closing = true
            defer { s.thread = nil }
            return s.thread
        }
        shared.broadcast()
        if let thread { pthread_join(thread.id, nil) }
        if writeOnCaller {
            // Appends are refused from here on; write what came before, then the final fsync and close.
            _ = core.writePending()
            core.finish()
        }
    }
}

/// Starts a joinable thread running `body`; throws the pthread_create error code.
private func startThread(_ body: @escaping @Sendable () -> Void) throws(ThreadStartError) -> ThreadHandle {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    #if os(Linux)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let rc = pthread_create(
        &thread, nil,
        { arg in
            // Balances passRetained above: the thread owns the body (and what it captured) for its whole life.
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, context)
    if rc != 0 {
        Unmanaged<Box>.fromOpaque(context).release()
        throw ThreadStartError(code: rc)
    }
    #if os(Linux)
    return ThreadHandle(id: thread)
    #else
    return ThreadHandle(id: thread!)
    #endif
}

struct ThreadStartError: Error {
    var code: Int32
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
