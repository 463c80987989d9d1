import Foundation
import RoundtableTestSupport
import Testing

@testable import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// Real POSIX calls plus counters and switchable faults.
struct FaultyOps: JournalFileOps {
    enum Fault: Sendable {
        case none
        /// Writes this many bytes of the request, then fails: a short write followed by ENOSPC.
        case failWrite(afterBytes: Int, errno: Int32)
        case failSync(errno: Int32)
        /// Zero-filling (pre-sizing a segment, wiping a failed group) writes this many bytes, then fails.
        case failZeros(afterBytes: Int64, errno: Int32)
    }

    let real = PosixFileOps()
    let fault = Locked<Fault>(.none)
    let syncs = Locked(0)
    let writes = Locked(0)
    let zeroFills = Locked(0)
    /// Spare segments put in place at a roll.
    let renames = Locked(0)
    /// While set, fsync blocks, so appends pile up behind it and group commit is observable without timing luck.
    let holdSyncs = Locked(false)
    /// fsyncs that started (counted before `holdSyncs` holds them).
    let syncsEntered = Locked(0)
    /// The thread of every fsync that got through, in order (so tests can tell whose thread paid for it).
    let syncThreads = Locked<[pthread_t]>([])

    func createExclusive(_ path: String) throws(StoreError) -> Int32 { try real.createExclusive(path) }

    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(StoreError) {
        writes.withLock { $0 += 1 }
        if case let .failWrite(after, code) = fault.withLock({ $0 }) {
            try real.write(fd, Array(bytes.prefix(after)), at: offset, path: path)
            throw .io(operation: "write", path: path, errno: code)
        }
        try real.write(fd, bytes, at: offset, path: path)
    }

    func sync(_ fd: Int32, path: String) throws(StoreError) {
        if case let .failSync(code) = fault.withLock({ $0 }) { throw .io(operation: "fsync", path: path, errno: code) }
        syncsEntered.withLock { $0 += 1 }
        while holdSyncs.withLock({ $0 }) { usleep(500) }
        syncs.withLock { $0 += 1 }
        syncThreads.withLock { $0.append(pthread_self()) }
        try real.sync(fd, path: path)
    }

    /// Counted, held and failed exactly like `sync` (the same injected error): tests count and fail group
    /// commits whichever of the two calls makes them.
    func dataSync(_ fd: Int32, path: String) throws(StoreError) {
        if case let .failSync(code) = fault.withLock({ $0 }) { throw .io(operation: "fsync", path: path, errno: code) }
        syncsEntered.withLock { $0 += 1 }
        while holdSyncs.withLock({ $0 }) { usleep(500) }
        syncs.withLock { $0 += 1 }
        syncThreads.withLock { $0.append(pthread_self()) }
        try real.dataSync(fd, path: path)
    }

    func writeZeros(_ fd: Int32, at offset: Int64, count: Int64, path: String) throws(StoreError) {
        zeroFills.withLock { $0 += 1 }
        if case let .failZeros(after, code) = fault.withLock({ $0 }) {
            try real.writeZeros(fd, at: offset, count: min(after, count), path: path)
            throw .io(operation: "write", path: path, errno: code)
        }
        try real.writeZeros(fd, at: offset, count: count, path: path)
    }

    func duplicate(_ fd: Int32, path: String) throws(StoreError) -> Int32 { try real.duplicate(fd, path: path) }
    func startWriteback(_ fd: Int32, at offset: Int64, count: Int64) { real.startWriteback(fd, at: offset, count: count) }

    func renameNoReplace(_ from: String, to: String) throws(StoreError) {
        renames.withLock { $0 += 1 }
        try real.renameNoReplace(from, to: to)
    }

    func truncate(_ fd: Int32, to length: Int64, path: String) throws(StoreError) { try real.truncate(fd, to: length, path: path) }
    func syncDirectory(_ path: String) throws(StoreError) { try real.syncDirectory(path) }
    func close(_ fd: Int32) { real.close(fd) }
    func remove(_ path: String) { real.remove(path) }
}

@Suite struct WriterTests {
    let log = LogCapture()

    func makeWriter(
        _ dir: TempDir, nextLSN: UInt64 = 1, policy: FsyncPolicy = .always, segmentSize: Int = 64 << 20,
        ops: FaultyOps = FaultyOps(), durable: DurableLog
    ) throws -> JournalWriter {
        try JournalWriter(
            directory: dir.path, nextLSN: nextLSN, options: JournalOptions(fsync: policy, segmentSize: segmentSize),
            logger: log.logger, fileOps: ops, onDurable: durable.handler
        )
    }

    @Test func groupCommitReportsEveryTicketInOrder() throws {
        let dir = TempDir("group")
        let ops = FaultyOps()
        ops.holdSyncs.withLock { $0 = true }
        let durable = DurableLog()
        let writer = try makeWriter(dir, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 21)
        var all: [JournalRecord] = []
        var tickets: [UInt64] = []
        var lsn: UInt64 = 1
        for _ in 0..<1000 {
            let batch = randomRecords(Int.random(in: 1...3, using: &rng), from: lsn, using: &rng)
            lsn += UInt64(batch.count)
            all += batch
            tickets.append(writer.append(batch))
        }
        ops.holdSyncs.withLock { $0 = false }
        #expect(durable.wait(for: tickets.count))
        writer.close()
        let reports = durable.all
        #expect(reports.map(\.ticket) == tickets)
        #expect(tickets == Array(1...1000))
        #expect(reports.allSatisfy { if case .success = $0.result { true } else { false } })
        // Everything queued behind the held fsync goes out as one group: segment creation, the first group
        // (taken before the hold could matter) and one more group, give or take a wake-up.
        let syncs = ops.syncs.withLock { $0 }
        #expect(syncs <= 5, "\(syncs) fsyncs for 1000 appends: no group commit")
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == all)
        #expect(scan.nextLSN == lsn)
    }

    @Test(arguments: FsyncPolicy.allCases)
    func everyPolicyPersistsRecords(policy: FsyncPolicy) throws {
        let dir = TempDir("policy")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, policy: policy, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 22)
        let records = randomRecords(200, using: &rng)
        for r in records { writer.append([r]) }
        #expect(durable.wait(for: 200))
        let syncsBeforeClose = ops.syncs.withLock { $0 }
        writer.close()
        let syncsAfterClose = ops.syncs.withLock { $0 }
        switch policy {
        case .always: #expect(syncsBeforeClose >= 2) // new segment + at least one group
        case .everysec:
            #expect(syncsBeforeClose <= 2, "everysec synced more than once a second")
            #expect(syncsAfterClose > syncsBeforeClose, "close must fsync what everysec left dirty")
        case .none: #expect(syncsAfterClose == 0)
        }
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test func everysecSyncsInTheBackground() throws {
        let dir = TempDir("everysec")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, policy: .everysec, ops: ops, durable: durable)
        defer { writer.close() }
        writer.append([JournalRecord(lsn: 1, room: "r", seq: 1, at: 0, payload: [1])])
        #expect(durable.wait(for: 1))
        let start = ops.syncs.withLock { $0 } // segment creation
        let deadline = Date().addingTimeInterval(3)
        while ops.syncs.withLock({ $0 }) == start && Date() < deadline { usleep(10_000) }
        #expect(ops.syncs.withLock { $0 } > start, "no background fsync within 3 s")
    }

    @Test func segmentsRollOverAndRestartContinues() throws {
        let dir = TempDir("roll")
        var rng = SplitMix64(seed: 23)
        var durable = DurableLog()
        var writer = try makeWriter(dir, segmentSize: 4096, durable: durable)
        let first = randomRecords(300, using: &rng)
        for r in first {
            writer.append([r])
            // Waiting per record keeps groups small, so rolls happen close to the size setting.
            durable.wait(for: Int(r.lsn))
        }
        writer.close()
        var scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == first)
        #expect(scan.segments.count > 3)
        for s in scan.segments {
            #expect(s.state == .clean)
            #expect(s.bytes < 4096 + 10_000)
        }
        for (a, b) in zip(scan.segments, scan.segments.dropFirst()) { #expect(b.firstLSN == a.lastLSN! + 1) }

        durable = DurableLog()
        writer = try makeWriter(dir, nextLSN: scan.nextLSN, segmentSize: 4096, durable: durable)
        let second = randomRecords(50, from: scan.nextLSN, using: &rng)
        writer.append(second)
        #expect(durable.wait(for: 1))
        writer.close()
        scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == first + second)
    }

    @Test func failedWriteIsCutBackAndServiceResumes() throws {
        let dir = TempDir("enospc")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 24)
        let records = randomRecords(12, using: &rng)
        writer.append(Array(records[0..<3]))
        #expect(durable.wait(for: 1))
        let goodSize = try #require(try dir.segments().first.flatMap(FileSystem.fileSize))

        ops.fault.withLock { $0 = .failWrite(afterBytes: 30, errno: ENOSPC) }
        writer.append(Array(records[3..<6]))
        writer.append(Array(records[6..<8])) // sent before the server learns of the failure
        #expect(durable.wait(for: 3))
        var reports = durable.all
        guard case let .failure(error) = reports[1].result else { Issue.record("write failure reported as success"); return }
        #expect(error.isOutOfSpace)
        guard case .failure = reports[2].result else { Issue.record("batch after a failure was accepted"); return }
        #expect(try dir.segments().first.flatMap(FileSystem.fileSize) == goodSize, "partial write left behind")

        // More failures in the same streak are not logged again.
        writer.append(Array(records[3..<6]))
        #expect(durable.wait(for: 4))
        #expect(log.count(.error, containing: "batch failed") == 1)

        // Space is back: the server re-sends from the first failed LSN.
        ops.fault.withLock { $0 = .none }
        writer.append(Array(records[3..<6]))
        writer.append(Array(records[6..<12]))
        #expect(durable.wait(for: 6))
        writer.close()
        reports = durable.all
        #expect(reports.map(\.ticket) == Array(1...6))
        for r in reports[4...] { guard case .success = r.result else { Issue.record("ticket \(r.ticket) failed"); continue } }
        #expect(log.count(.notice, containing: "succeed again") == 1)
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test func failedFsyncRejectsTheGroupAndCutsItBack() throws {
        let dir = TempDir("eio")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 25)
        let records = randomRecords(6, using: &rng)
        writer.append(Array(records[0..<2]))
        #expect(durable.wait(for: 1))
        ops.fault.withLock { $0 = .failSync(errno: EIO) }
        writer.append(Array(records[2..<4]))
        #expect(durable.wait(for: 2))
        #expect(durable.all[1].result.error == (.io(operation: "fsync", path: try dir.segments()[0], errno: EIO)))
        ops.fault.withLock { $0 = .none }
        writer.append(Array(records[2..<6]))
        #expect(durable.wait(for: 3))
        writer.close()
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test func badBatchesFailAloneAndEmptyBatchesSucceed() throws {
        let dir = TempDir("invalid")
        let durable = DurableLog()
        let writer = try makeWriter(dir, durable: durable)
        let a = JournalRecord(lsn: 1, room: "r", seq: 1, at: 0, payload: [])
        let c = JournalRecord(lsn: 3, room: "r", seq: 2, at: 0, payload: [])
        writer.append([a, c]) // not consecutive
        writer.append([JournalRecord(lsn: 0, room: "r", seq: 1, at: 0, payload: [])])
        writer.append([])
        writer.append([JournalRecord(lsn: 1, room: "r", seq: 1, at: 0, payload: [UInt8](repeating: 1, count: RecordCodec.maxBodySize))])
        writer.append([a])
        #expect(durable.wait(for: 5))
        writer.close()
        let results = durable.all.map(\.result)
        guard case .failure(.invalidBatch) = results[0], case .failure(.invalidBatch) = results[1],
            case .success = results[2], case .failure(.invalidBatch) = results[3], case .success = results[4]
        else { Issue.record("\(results)"); return }
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == [a])
    }

    @Test func appendAfterCloseFailsImmediately() throws {
        let dir = TempDir("closed")
        let durable = DurableLog()
        let writer = try makeWriter(dir, durable: durable)
        writer.close()
        writer.close()
        let ticket = writer.append([JournalRecord(lsn: 1, room: "r", seq: 1, at: 0, payload: [])])
        #expect(durable.all.count == 1)
        #expect(durable.all.first?.ticket == ticket)
        #expect(durable.all.first?.result.error == .closed)
    }

    @Test func writerNeverOverwritesAnExistingSegment() throws {
        let dir = TempDir("exists")
        var rng = SplitMix64(seed: 26)
        let records = randomRecords(3, using: &rng)
        try writeSegment(dir, records)
        let durable = DurableLog()
        let writer = try makeWriter(dir, nextLSN: 1, durable: durable) // wrong: did not use the scan's nextLSN
        writer.append(records)
        #expect(durable.wait(for: 1))
        writer.close()
        #expect(durable.all[0].result.error == (.io(operation: "create", path: try dir.segments()[0], errno: EEXIST)))
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }
}
