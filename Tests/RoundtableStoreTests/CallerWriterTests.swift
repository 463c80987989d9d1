import Foundation
import RoundtableTestSupport
import Testing

@testable import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// `writeOnCaller` (fsync none/everysec): the thread calling `writePending` writes and gets the reports;
/// everysec's fsync stays on a thread of the journal's own.
@Suite struct CallerWriterTests {
    let log = LogCapture()

    func makeWriter(
        _ dir: TempDir, nextLSN: UInt64 = 1, policy: FsyncPolicy, segmentSize: Int = 64 << 20, ops: FaultyOps, durable: DurableLog
    ) throws -> JournalWriter {
        try JournalWriter(
            directory: dir.path, nextLSN: nextLSN,
            options: JournalOptions(fsync: policy, segmentSize: segmentSize, writeOnCaller: true),
            logger: log.logger, fileOps: ops, onDurable: durable.handler
        )
    }

    static let policies: [FsyncPolicy] = [.none, .everysec]

    @Test(arguments: policies)
    func writesAndReportsInOrderOnTheCallingThread(policy: FsyncPolicy) throws {
        let dir = TempDir("caller")
        let ops = FaultyOps()
        let durable = DurableLog()
        // Small segments so rolls happen on the calling thread too.
        let writer = try makeWriter(dir, policy: policy, segmentSize: 8192, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 61)
        var all: [JournalRecord] = []
        var tickets: [UInt64] = []
        var lsn: UInt64 = 1
        #expect(writer.writePending() == false, "nothing appended, nothing written")
        for _ in 0..<100 {
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let batch = randomRecords(Int.random(in: 1...3, using: &rng), from: lsn, using: &rng)
                lsn += UInt64(batch.count)
                all += batch
                tickets.append(writer.append(batch, wake: false))
            }
            #expect(durable.all.count < tickets.count, "appending alone reported (or wrote)")
            #expect(writer.writePending())
            // Reported before writePending returned, every ticket, in order.
            #expect(durable.all.map(\.ticket) == tickets)
        }
        let me = pthread_self()
        #expect(durable.threads.withLock { $0 }.allSatisfy { pthread_equal($0, me) != 0 }, "reported on another thread")
        #expect(durable.all.allSatisfy { $0.result.error == nil })
        #expect(ops.writes.withLock { $0 } > 100)
        writer.close()
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == all)
        #expect(scan.nextLSN == lsn)
        #expect(scan.segments.count > 2, "no roll happened")
        if policy == .none { #expect(ops.syncs.withLock { $0 } == 0) }
    }

    @Test(arguments: policies)
    func aFailedWriteFailsExactlyItsTicketsAndTheNextGroupFollowsTheLastGoodOne(policy: FsyncPolicy) throws {
        let dir = TempDir("caller-enospc")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, policy: policy, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 62)
        let records = randomRecords(12, using: &rng)
        writer.append(Array(records[0..<3]), wake: false)
        #expect(writer.writePending())
        #expect(durable.all.count == 1)
        let goodSize = try #require(try dir.segments().first.flatMap(FileSystem.fileSize))

        ops.fault.withLock { $0 = .failWrite(afterBytes: 30, errno: ENOSPC) }
        writer.append(Array(records[3..<6]), wake: false)
        writer.append(Array(records[6..<8]), wake: false) // same pass, behind the one that fails
        #expect(writer.writePending())
        var reports = durable.all
        #expect(reports.map(\.ticket) == [1, 2, 3])
        #expect(reports[0].result.error == nil)
        // Both went out as one group, so both fail; the first one, before the failure, stays good.
        #expect(reports[1].result.error?.isOutOfSpace == true)
        #expect(reports[2].result.error?.isOutOfSpace == true)
        #expect(try dir.segments().first.flatMap(FileSystem.fileSize) == goodSize, "partial write left behind")

        // A batch that does not re-send from the first failed LSN is refused without touching the file.
        ops.fault.withLock { $0 = .none }
        writer.append(Array(records[8..<12]), wake: false)
        #expect(writer.writePending())
        #expect(durable.all.last?.result.error == .outOfSequence(expected: 4, got: 9))
        #expect(try dir.segments().first.flatMap(FileSystem.fileSize) == goodSize)

        // Space is back: the server re-sends from the first failed LSN.
        writer.append(Array(records[3..<6]), wake: false)
        writer.append(Array(records[6..<12]), wake: false)
        #expect(writer.writePending())
        reports = durable.all
        #expect(reports.map(\.ticket) == Array(1...6))
        #expect(reports[4...].allSatisfy { $0.result.error == nil })
        #expect(log.count(.error, containing: "batch failed") == 1)
        #expect(log.count(.notice, containing: "succeed again") == 1)
        writer.close()
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test func everysecSyncsInTheBackgroundNeverOnTheCallingThread() throws {
        let dir = TempDir("caller-everysec")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, policy: .everysec, ops: ops, durable: durable)
        defer { writer.close() }
        let me = pthread_self()
        var rng = SplitMix64(seed: 63)
        writer.append(randomRecords(1, using: &rng), wake: false)
        #expect(writer.writePending())
        // The first write created the segment and fsynced it (and the folder) here: once per segment.
        let atRoll = ops.syncs.withLock { $0 }
        #expect(ops.syncThreads.withLock { $0 }.allSatisfy { pthread_equal($0, me) != 0 })

        // Keep writing for a while: a background fsync must come, from another thread, about once a second.
        var lsn: UInt64 = 2
        let started = Date()
        while Date().timeIntervalSince(started) < 2.5 {
            writer.append(randomRecords(1, from: lsn, using: &rng), wake: false)
            lsn += 1
            #expect(writer.writePending())
            usleep(20_000)
        }
        let syncs = ops.syncThreads.withLock { $0 }
        let background = syncs[atRoll...]
        #expect(background.count >= 1, "no background fsync in 2.5 s")
        #expect(background.count <= 3, "everysec synced \(background.count) times in 2.5 s")
        #expect(background.allSatisfy { pthread_equal($0, me) == 0 }, "everysec fsynced on the writing thread")
        #expect(durable.all.count == Int(lsn - 1))
    }

    @Test func aSlowBackgroundFsyncDoesNotHoldUpTheWriter() throws {
        let dir = TempDir("caller-slowsync")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, policy: .everysec, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 64)
        let records = randomRecords(3, using: &rng)
        writer.append([records[0]], wake: false)
        #expect(writer.writePending())
        let entered = ops.syncsEntered.withLock { $0 }
        ops.holdSyncs.withLock { $0 = true }
        // Wait until the background fsync is stuck in the disk.
        let deadline = Date().addingTimeInterval(5)
        while ops.syncsEntered.withLock({ $0 }) == entered && Date() < deadline { usleep(5_000) }
        #expect(ops.syncsEntered.withLock { $0 } > entered, "no background fsync started")

        // Writing on another thread so a writer blocked behind the fsync fails the test instead of hanging it.
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            writer.append([records[1]], wake: false)
            _ = writer.writePending()
            done.signal()
        }
        thread.start()
        let wroteWhileSyncing = done.wait(timeout: .now() + 2) == .success
        ops.holdSyncs.withLock { $0 = false }
        if !wroteWhileSyncing { done.wait() }
        #expect(wroteWhileSyncing, "writePending waited for the background fsync")
        #expect(durable.all.map(\.ticket) == [1, 2])
        writer.append([records[2]], wake: false)
        #expect(writer.writePending())
        writer.close()
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test(arguments: policies)
    func closeWritesReportsAndSyncsWhatIsLeft(policy: FsyncPolicy) throws {
        let dir = TempDir("caller-close")
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, policy: policy, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 65)
        let records = randomRecords(20, using: &rng)
        writer.append(Array(records[0..<10]), wake: false)
        #expect(writer.writePending())
        let syncsBeforeClose = ops.syncs.withLock { $0 }
        writer.append(Array(records[10..<20]), wake: false)
        #expect(durable.all.count == 1)
        writer.close()
        #expect(durable.all.map(\.ticket) == [1, 2])
        #expect(durable.all.allSatisfy { $0.result.error == nil })
        let syncsAfterClose = ops.syncs.withLock { $0 }
        switch policy {
        case .everysec: #expect(syncsAfterClose > syncsBeforeClose, "close must fsync what everysec left dirty")
        default: #expect(syncsAfterClose == 0)
        }
        // Closed: appends fail at once, writePending has nothing, a second close is harmless.
        let late = writer.append([JournalRecord(lsn: 21, room: "r", seq: 1, at: 0, payload: [])], wake: false)
        #expect(durable.all.last?.ticket == late)
        #expect(durable.all.last?.result.error == .closed)
        #expect(writer.writePending() == false)
        writer.close()
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }
}
