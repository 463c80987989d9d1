import Logging

/// The writing side of a `JournalWriter`: the open segment, the last good offset, fsync bookkeeping.
///
/// Who runs it: the writer thread (`run`), or with `writeOnCaller` whoever calls `writePending` plus, under
/// `.everysec`, the background sync thread (`runBackgroundSync`). Everything below `gate` is touched only
/// with `gate` held, so two threads never see it half-changed; everything shared with `append` goes through
/// `shared`. Lock order: `gate`, then `shared` (never the other way round).
///
/// `@unchecked Sendable` is safe because of that: every mutable property is read and written inside
/// `gate.withLock`, and the rest are constants.
final class WriterCore: @unchecked Sendable {
    private let journalDirectory: String
    private let policy: FsyncPolicy
    private let segmentSize: Int
    private let logger: Logger
    private let ops: any JournalFileOps
    private let shared: Locked<SharedState>
    private let onDurable: JournalWriter.DurableHandler

    /// Held by `process` for a whole group (write, report) and by the background sync only while it picks
    /// the file to fsync: the fsync itself runs outside it, on a dup of the descriptor, so a roll or close
    /// cannot pull the file out from under it and the writer never waits for the disk's flush.
    private let gate = Locked(())
    private var fd: Int32?
    private var segmentPath = ""
    /// End of the last fully written (and under `.always`, fsynced) group; nothing past it is trusted.
    private var offset: Int64 = 0
    /// Under `.always` a new segment is pre-sized to `segmentSize` with real zero blocks (PostgreSQL's WAL
    /// does the same): a group commit then only overwrites blocks that already exist, and its fdatasync has
    /// no metadata (size, extents) to flush. Bytes in `offset..<zeroedEnd` are known zeros on disk; a
    /// segment whose pre-size failed (full disk) has `zeroedEnd == offset` and grows as it is written.
    private let presize: Bool
    private var zeroedEnd: Int64 = 0
    /// The next segment, zero-filled ahead on the writer thread one slice per group while the current one
    /// fills (`prepareSpareSlice`), so a roll renames it and writes a header instead of 64 MiB of zeros.
    private let sparePath: String
    private var spareFD: Int32?
    private var spareDone: Int64 = 0
    private var spareReady = false
    /// Preparing a spare failed in this segment (a full disk); not tried again until the next roll.
    private var spareFailed = false
    static let spareSlice: Int64 = 1 << 20
    /// A failed cut-back leaves junk in `offset..<pendingCut`; it must be cut before anything else is written.
    private var pendingCut: Int64?
    private var nextLSN: UInt64
    /// Written but not yet fsynced (`.everysec` only).
    private var dirty = false
    private var lastSync: UInt64 = 0
    /// Tickets failed in the current failure streak; the streak is logged once at its start and once at its end.
    private var failedTickets = 0
    /// `finish` ran: the segment is closed for good and nothing may open another.
    private var finished = false
    /// `writePending`'s buffers, swapped with `shared`'s so steady state allocates nothing.
    private var takenBytes: [UInt8] = []
    private var takenChunks: [Chunk] = []

    static let syncInterval: UInt64 = 1_000_000_000

    init(
        journalDirectory: String, nextLSN: UInt64, options: JournalOptions, logger: Logger,
        ops: any JournalFileOps, shared: Locked<SharedState>, onDurable: @escaping JournalWriter.DurableHandler
    ) {
        self.journalDirectory = journalDirectory
        self.nextLSN = nextLSN
        self.policy = options.fsync
        self.segmentSize = max(options.segmentSize, Segment.headerSize + 1)
        // everysec writes on the caller (`writeOnCaller`): 64 MiB of zeros at a roll would stall its thread.
        self.presize = options.fsync == .always
        self.sparePath = FileSystem.join(journalDirectory, Segment.spareFileName)
        // A spare left by an earlier run may be incomplete or not synced: start over.
        if presize { ops.remove(sparePath) }
        self.logger = logger
        self.ops = ops
        self.shared = shared
        self.onDurable = onDurable
    }

    /// The writer thread's loop (no `writeOnCaller`): wait for appends, write them, fsync in the background
    /// under `.everysec`, and finish when closed.
    func run() {
        var bytes: [UInt8] = []
        var chunks: [Chunk] = []
        while true {
            let deadline = syncDeadline()
            // Swapping keeps both buffers' capacity alive, so steady state allocates nothing.
            let closing = shared.withLock(
                waitingUntil: { !$0.chunks.isEmpty || $0.closing },
                deadline: deadline
            ) { s -> Bool in
                swap(&s.buffer, &bytes)
                swap(&s.chunks, &chunks)
                return s.closing
            }
            let hadWork = !chunks.isEmpty
            if hadWork { gate.withLock { _ in process(chunks, bytes) } }
            bytes.removeAll(keepingCapacity: true)
            chunks.removeAll(keepingCapacity: true)
            backgroundSyncIfDue()
            if closing && !hadWork {
                finish()
                return
            }
        }
    }

    /// `writeOnCaller`: takes everything appended so far and writes and reports it on the calling thread.
    /// Taking under `gate` keeps groups in ticket order even if two threads call this at once (`close()`).
    func writePending() -> Bool {
        gate.withLock { _ in
            shared.withLock { s in
                swap(&s.buffer, &takenBytes)
                swap(&s.chunks, &takenChunks)
            }
            guard !takenChunks.isEmpty else { return false }
            process(takenChunks, takenBytes)
            takenBytes.removeAll(keepingCapacity: true)
            takenChunks.removeAll(keepingCapacity: true)
            return true
        }
    }

    /// `writeOnCaller` under `.everysec`: the once-a-second fsync, off the thread that writes, until closed
    /// (`close()` then does the final fsync itself).
    func runBackgroundSync() {
        while true {
            // Idle, it looks once a second: a group written just after a look is fsynced within about a second.
            let deadline = syncDeadline() ?? monotonicNanos() + Self.syncInterval
            let closing = shared.withLock(waitingUntil: { $0.closing }, deadline: deadline) { $0.closing }
            if closing { return }
            backgroundSyncIfDue()
        }
    }

    /// When the next everysec fsync is due, if anything waits for one.
    private func syncDeadline() -> UInt64? {
        guard policy == .everysec else { return nil }
        return gate.withLock { _ in dirty ? lastSync + Self.syncInterval : nil }
    }

    /// Call with `gate` held.
    private func process(_ chunks: [Chunk], _ bytes: [UInt8]) {
        var outcomes = [Result<Void, StoreError>](repeating: .success(()), count: chunks.count)
        var included: [Int] = []
        var expected = nextLSN
        for (i, c) in chunks.enumerated() {
            if let problem = c.invalid {
                outcomes[i] = .failure(problem)
            } else if c.count > 0 && c.firstLSN != expected {
                outcomes[i] = .failure(.outOfSequence(expected: expected, got: c.firstLSN))
            } else {
                included.append(i)
                expected += c.count
            }
        }
        if expected != nextLSN {
            let result = writeGroup(chunks, included, bytes, endLSN: expected)
            for i in included { outcomes[i] = result }
        }
        for (i, c) in chunks.enumerated() {
            track(outcomes[i])
            onDurable(c.ticket, outcomes[i])
        }
        // After the reports, so the group that is already done does not wait for it.
        if presize { prepareSpareSlice() }
    }

    /// Writes at most one slice (1 MiB) of the spare's zeros, pacing them so the spare is complete when the
    /// current segment is three quarters full (zeros at twice the rate records arrive, starting at a quarter),
    /// and asks the kernel to start writing each slice back at once, so the spare's one fsync at the end has
    /// little left to flush. Any failure (a full disk) drops the spare; the roll then pre-sizes in place.
    private func prepareSpareSlice() {
        let size = Int64(segmentSize)
        guard !spareReady, !spareFailed, !finished, fd != nil, offset >= size / 4 else { return }
        guard min(size, (offset - size / 4) * 2) > spareDone else { return }
        do throws(StoreError) {
            let spare: Int32
            if let spareFD {
                spare = spareFD
            } else {
                spare = try ops.createExclusive(sparePath)
                spareFD = spare
                spareDone = 0
            }
            let count = min(Self.spareSlice, size - spareDone)
            try ops.writeZeros(spare, at: spareDone, count: count, path: sparePath)
            ops.startWriteback(spare, at: spareDone, count: count)
            spareDone += count
            if spareDone == size {
                try ops.sync(spare, path: sparePath)
                spareReady = true
            }
        } catch {
            dropSpare()
            spareFailed = true
            logger.warning(
                "journal: could not prepare the next segment ahead; it will be pre-sized when it starts",
                metadata: ["file": "\(sparePath)", "error": "\(error)"])
        }
    }

    private func dropSpare() {
        if let spareFD {
            ops.close(spareFD)
            ops.remove(sparePath)
        }
        spareFD = nil
        spareDone = 0
        spareReady = false
    }

    private func writeGroup(_ chunks: [Chunk], _ included: [Int], _ bytes: [UInt8], endLSN: UInt64) -> Result<Void, StoreError> {
        // Only `close()` finishes, after refusing appends; this guards a writePending racing it.
        if finished { return .failure(.closed) }
        do throws(StoreError) {
            if let end = pendingCut {
                try cutBack(failedEnd: end)
                pendingCut = nil
            }
            if fd == nil || offset >= Int64(segmentSize) { try roll(firstLSN: nextLSN) }
            guard let fd else { return .failure(.closed) }
            // Skipped (failed) chunks are rare, so only then pay for copying the good ones together.
            let whole = included.count == chunks.count
            let group = whole ? bytes : included.flatMap { bytes[chunks[$0].range] }
            do throws(StoreError) {
                try ops.write(fd, group, at: offset, path: segmentPath)
                // fdatasync is enough: it also flushes a grown size (the metadata needed to read the data back),
                // so it is correct in a segment that was not pre-sized too; in a pre-sized one it flushes no metadata.
                if policy == .always { try ops.dataSync(fd, path: segmentPath) }
            } catch {
                rewind(failedEnd: offset + Int64(group.count))
                throw error
            }
            offset += Int64(group.count)
            nextLSN = endLSN
            if policy == .always {
                lastSync = monotonicNanos()
            } else if policy == .everysec {
                dirty = true
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Cuts off whatever part of a failed group reached the file, so no partial record stays behind
    /// and a later good group lands exactly after the last good one.
    private func rewind(failedEnd: Int64) {
        do throws(StoreError) {
            try cutBack(failedEnd: failedEnd)
        } catch {
            pendingCut = max(pendingCut ?? 0, failedEnd)
            logger.warning(
                "journal: could not cut back failed write; will retry before the next write",
                metadata: [
                    "file": "\(segmentPath)", "offset": "\(offset)", "error": "\(error)",
                ])
        }
    }

    /// Makes `offset..<failedEnd` (what a failed group may have written) unreadable as records: inside the
    /// pre-sized part it is overwritten with zeros again (the file keeps its size, so later group commits still
    /// flush no metadata); past it the file is truncated, as for a segment that was never pre-sized. If the
    /// zeros cannot be written, the segment falls back to truncating at `offset` and growing from there.
    private func cutBack(failedEnd: Int64) throws(StoreError) {
        guard let fd else { return }
        let zeroTo = min(failedEnd, zeroedEnd)
        if zeroTo > offset {
            do throws(StoreError) {
                try ops.writeZeros(fd, at: offset, count: zeroTo - offset, path: segmentPath)
            } catch {
                zeroedEnd = offset
            }
        }
        let keep = max(offset, zeroedEnd)
        if failedEnd > keep { try ops.truncate(fd, to: keep, path: segmentPath) }
        // Make the cut durable too: otherwise writeback could persist complete records of the failed
        // (rejected) group, and a restart would replay votes the server reported as failed. With
        // writeOnCaller under everysec this fsync runs on the caller: only on a failed write, and the
        // server appends nothing more until a reload, so once per failure streak.
        if policy != .none { try ops.sync(fd, path: segmentPath) }
    }

    /// Closes the current segment (durably, unless `.none`) and creates the next, named by its first LSN.
    /// With writeOnCaller under everysec, these fsyncs (old segment, new segment, folder) run on the caller:
    /// once per segment (64 MiB by default) plus once at the first write, and they keep the order a power
    /// cut needs (the old segment complete on disk before a newer one exists), which a deferred fsync would not.
    private func roll(firstLSN: UInt64) throws(StoreError) {
        if let old = fd {
            // Under `.always` every group was fsynced as it was written; `.none` never syncs.
            if policy == .everysec { try ops.sync(old, path: segmentPath) }
            ops.close(old)
            fd = nil
            dirty = false
        }
        let path = FileSystem.join(journalDirectory, Segment.fileName(firstLSN: firstLSN))
        let started = monotonicNanos()
        var zeroed = Int64(Segment.headerSize)
        let newFD: Int32
        let adopted = spareReady
        if let spare = spareFD, spareReady {
            // The spare is already zero-filled and fsynced: give it the segment's name (never over an existing one).
            spareFD = nil
            spareReady = false
            spareDone = 0
            do throws(StoreError) {
                try ops.renameNoReplace(sparePath, to: path)
            } catch {
                ops.close(spare)
                ops.remove(sparePath)
                throw error
            }
            newFD = spare
            zeroed = Int64(segmentSize)
        } else {
            dropSpare()
            newFD = try ops.createExclusive(path)
        }
        spareFailed = false
        do throws(StoreError) {
            try ops.write(newFD, Segment.header(firstLSN: firstLSN), at: 0, path: path)
            if presize && !adopted { zeroed = try presizeSegment(newFD, path: path) }
            if policy != .none {
                try ops.sync(newFD, path: path)
                // The new name must survive a power cut too, or the records in it would vanish with it.
                try ops.syncDirectory(journalDirectory)
                lastSync = monotonicNanos()
            }
        } catch {
            ops.close(newFD)
            ops.remove(path)
            throw error
        }
        fd = newFD
        segmentPath = path
        offset = Int64(Segment.headerSize)
        zeroedEnd = zeroed
        pendingCut = nil
        logger.info(
            "journal: started segment",
            metadata: [
                "file": "\(path)", "presizedBytes": "\(zeroed)", "spare": "\(adopted)",
                "ms": "\((monotonicNanos() - started) / 1_000_000)",
            ])
    }

    /// Fills the new segment with zeros up to `segmentSize` (fsynced with the header by `roll`) and returns
    /// the end of the zeros. On failure (a full disk) the segment is cut back to its header and grows as it
    /// is written, as before pre-sizing: the appends still go through until the disk is really full, and then
    /// fail on the storage-full path like any write. Throws only if even that cut fails.
    private func presizeSegment(_ newFD: Int32, path: String) throws(StoreError) -> Int64 {
        let header = Int64(Segment.headerSize)
        do throws(StoreError) {
            try ops.writeZeros(newFD, at: header, count: Int64(segmentSize) - header, path: path)
            return Int64(segmentSize)
        } catch {
            logger.warning(
                "journal: could not pre-size the new segment; it grows as it is written",
                metadata: ["file": "\(path)", "bytes": "\(segmentSize)", "error": "\(error)"])
            try ops.truncate(newFD, to: header, path: path)
            return header
        }
    }

    /// The everysec fsync, when one is due: picks the segment under `gate` (a dup of its descriptor, so a
    /// roll or close meanwhile cannot close it under us or hand its number to another file) and fsyncs it
    /// outside, so writes and reports go on while the disk flushes.
    private func backgroundSyncIfDue() {
        guard policy == .everysec else { return }
        let picked = gate.withLock { _ -> (fd: Int32, path: String)? in
            guard dirty, monotonicNanos() >= lastSync + Self.syncInterval else { return nil }
            guard let fd else {
                dirty = false
                return nil
            }
            lastSync = monotonicNanos()
            do {
                let copy = try ops.duplicate(fd, path: segmentPath)
                // Cleared before the fsync: a group written while it runs sets it again and gets the next one.
                dirty = false
                return (copy, segmentPath)
            } catch {
                logger.error(
                    "journal: background fsync failed; recent acknowledged records may not survive a power cut",
                    metadata: ["file": "\(segmentPath)", "error": "\(error)"])
                return nil
            }
        }
        guard let picked else { return }
        defer { ops.close(picked.fd) }
        do {
            // Data only: the writer never pre-sizes under everysec, so this still flushes the grown size, but
            // it skips the mtime-only inode updates a full fsync would journal.
            try ops.dataSync(picked.fd, path: picked.path)
        } catch {
            // The records were already reported (that is what everysec means); all we can do is say so loudly
            // and keep trying, since a later fsync that succeeds covers them if the kernel still has them.
            gate.withLock { _ in dirty = true }
            logger.error(
                "journal: background fsync failed; recent acknowledged records may not survive a power cut",
                metadata: [
                    "file": "\(picked.path)", "error": "\(error)",
                ])
        }
    }

    /// The final fsync (unless `.none`) and close; nothing is written after it. Safe to call more than once.
    func finish() {
        gate.withLock { _ in
            finished = true
            dropSpare()
            guard let fd else { return }
            if policy != .none && (policy == .everysec && dirty || pendingCut != nil) {
                do { try ops.sync(fd, path: segmentPath) } catch {
                    logger.error("journal: final fsync failed", metadata: ["file": "\(segmentPath)", "error": "\(error)"])
                }
            }
            ops.close(fd)
            self.fd = nil
        }
    }

    /// Logs the first failure of a streak and the recovery, not every failed batch in between.
    private func track(_ outcome: Result<Void, StoreError>) {
        switch outcome {
        case .success:
            if failedTickets > 0 {
                logger.notice("journal: writes succeed again", metadata: ["failedBatches": "\(failedTickets)"])
                failedTickets = 0
            }
        case let .failure(error):
            if failedTickets == 0 {
                logger.error(
                    "journal: batch failed; rejecting batches until a write succeeds",
                    metadata: [
                        "error": "\(error)", "file": "\(segmentPath)", "nextLSN": "\(nextLSN)",
                    ])
            }
            failedTickets += 1
        }
    }
}
