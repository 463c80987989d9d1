import Foundation
import RoundtableTestSupport
import Testing

@testable import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// Segments pre-sized with zeros under fsync always: the reader ends a segment at its zero tail, the writer
/// wipes a failed group with zeros, falls back to a growing segment when it cannot pre-size, and rolls into
/// pre-sized segments.
@Suite struct PresizeTests {
    let log = LogCapture()

    func makeWriter(
        _ dir: TempDir, nextLSN: UInt64 = 1, segmentSize: Int, ops: FaultyOps = FaultyOps(), durable: DurableLog
    ) throws -> JournalWriter {
        try JournalWriter(
            directory: dir.path, nextLSN: nextLSN, options: JournalOptions(fsync: .always, segmentSize: segmentSize),
            logger: log.logger, fileOps: ops, onDurable: durable.handler
        )
    }

    func dataEnd(_ records: [JournalRecord]) -> Int {
        Segment.headerSize + records.map(RecordCodec.encodedSize).reduce(0, +)
    }

    @Test func readerStopsAtAZeroTailInAnySegmentButNotAtZerosWithDataAfterThem() throws {
        var rng = SplitMix64(seed: 81)
        let records = randomRecords(10, using: &rng)
        let dir = TempDir("zerotail")
        let first = try writeSegment(dir, Array(records[0..<5]))
        try writeBytes(first, try readBytes(first) + [UInt8](repeating: 0, count: 70_000))
        let last = try writeSegment(dir, Array(records[5..<10]))
        let lastGood = try readBytes(last)
        try writeBytes(last, lastGood + [UInt8](repeating: 0, count: 5)) // fewer zeros than a record header

        // Not only the last segment: a segment written to its end by a writer that then stopped keeps its zeros.
        let infos = try JournalReader.inspect(directory: dir.path, logger: log.logger)
        #expect(infos.map(\.state) == [.clean, .clean])
        #expect(infos.map(\.records) == [5, 5])
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records)
        #expect(scan.nextLSN == 11)
        #expect(try readBytes(last) == lastGood, "the last segment's unused zeros are given back")
        #expect(FileSystem.fileSize(first) == dataEnd(Array(records[0..<5])) + 70_000, "an earlier segment is left alone")

        // Zeros followed by anything non-zero are not an end: an earlier segment with that is refused.
        var bytes = try readBytes(first)
        bytes[bytes.count - 100] = 1
        try writeBytes(first, bytes)
        #expect(throws: StoreError.self) { _ = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger) }
    }

    @Test func aTornRecordBeforeZerosIsCutAsToday() throws {
        var rng = SplitMix64(seed: 82)
        let records = randomRecords(6, using: &rng)
        let dir = TempDir("tornzeros")
        let path = try writeSegment(dir, Array(records[0..<5]))
        let good = try readBytes(path)
        // Half of record 6, then the pre-sized zeros: a crash in the middle of its group.
        let torn = Array(RecordCodec.encode(records[5]).prefix(20))
        try writeBytes(path, good + torn + [UInt8](repeating: 0, count: 100_000))
        let infos = try JournalReader.inspect(directory: dir.path, logger: log.logger)
        guard case .tornTail(let offset, _) = infos[0].state else {
            Issue.record("a torn record before zeros was not reported as a torn tail: \(infos[0].state)")
            return
        }
        #expect(offset == good.count)
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == Array(records[0..<5]))
        #expect(try readBytes(path) == good)
    }

    @Test func theWriterPresizesAndAReopenAfterACrashMidGroupFindsTheEnd() throws {
        let dir = TempDir("presize")
        let size = 1 << 20
        var rng = SplitMix64(seed: 83)
        let records = randomRecords(40, using: &rng)
        var durable = DurableLog()
        let ops = FaultyOps()
        var writer = try makeWriter(dir, segmentSize: size, ops: ops, durable: durable)
        writer.append(Array(records[0..<10]))
        writer.append(Array(records[10..<20]))
        #expect(durable.wait(for: 2))
        let segment = try #require(try dir.segments().first)
        #expect(FileSystem.fileSize(segment) == size, "the segment was not pre-sized")
        let end = dataEnd(Array(records[0..<20]))
        #expect(try readBytes(segment)[end...].allSatisfy { $0 == 0 })
        writer.close()

        // A crash in the middle of the next group: its first record and part of the second reached the file.
        var bytes = try readBytes(segment)
        let group = encodeAll(Array(records[20..<22]))
        let partial = Array(group.prefix(RecordCodec.encodedSize(records[20]) + 15))
        bytes.replaceSubrange(end..<(end + partial.count), with: partial)
        try writeBytes(segment, bytes)

        var scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == Array(records[0..<21]), "the complete record of the torn group is kept, the torn one cut")
        #expect(scan.nextLSN == 22)
        durable = DurableLog()
        writer = try makeWriter(dir, nextLSN: scan.nextLSN, segmentSize: size, durable: durable)
        writer.append(Array(records[21..<40]))
        #expect(durable.wait(for: 1))
        #expect(durable.all[0].result.error == nil)
        writer.close()
        scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records)
        #expect(scan.segments.count == 2)
        #expect(scan.segments.allSatisfy { $0.state == .clean })
    }

    @Test(arguments: [false, true])
    func aFailedGroupInAPresizedSegmentIsWipedWithZeros(failTheSync: Bool) throws {
        let dir = TempDir("wipe")
        let size = 1 << 20
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, segmentSize: size, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 84)
        let records = randomRecords(12, using: &rng)
        writer.append(Array(records[0..<3]))
        #expect(durable.wait(for: 1))
        let segment = try #require(try dir.segments().first)
        let end = dataEnd(Array(records[0..<3]))

        ops.fault.withLock { $0 = failTheSync ? .failSync(errno: EIO) : .failWrite(afterBytes: 30, errno: ENOSPC) }
        writer.append(Array(records[3..<6]))
        #expect(durable.wait(for: 2))
        #expect(durable.all[1].result.error != nil)
        #expect(FileSystem.fileSize(segment) == size, "cut back by truncating the pre-sized segment")
        #expect(try readBytes(segment)[end...].allSatisfy { $0 == 0 }, "bytes of the failed group left behind")

        ops.fault.withLock { $0 = .none }
        writer.append(Array(records[3..<12]))
        #expect(durable.wait(for: 3))
        #expect(durable.all[2].result.error == nil)
        writer.close()
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test func aPresizeThatFailsFallsBackToAGrowingSegment() throws {
        let dir = TempDir("nopresize")
        let ops = FaultyOps()
        let durable = DurableLog()
        // The disk fills up part-way through the zeros of the first segment.
        ops.fault.withLock { $0 = .failZeros(afterBytes: 5000, errno: ENOSPC) }
        let writer = try makeWriter(dir, segmentSize: 1 << 20, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 85)
        let records = randomRecords(20, using: &rng)
        writer.append(Array(records[0..<10]))
        #expect(durable.wait(for: 1))
        #expect(durable.all[0].result.error == nil)
        #expect(ops.zeroFills.withLock { $0 } == 1)
        #expect(log.count(.warning, containing: "could not pre-size") == 1)
        let segment = try #require(try dir.segments().first)
        #expect(FileSystem.fileSize(segment) == dataEnd(Array(records[0..<10])), "the half-written zeros were not cut")

        // A failed group in the growing segment is truncated away as before.
        ops.fault.withLock { $0 = .failWrite(afterBytes: 30, errno: ENOSPC) }
        writer.append(Array(records[10..<20]))
        #expect(durable.wait(for: 2))
        #expect(durable.all[1].result.error?.isOutOfSpace == true)
        #expect(FileSystem.fileSize(segment) == dataEnd(Array(records[0..<10])))
        ops.fault.withLock { $0 = .none }
        writer.append(Array(records[10..<20]))
        #expect(durable.wait(for: 3))
        writer.close()
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == records)
    }

    @Test func segmentsRollIntoPresizedSegments() throws {
        let dir = TempDir("presize-roll")
        let size = 8192
        let ops = FaultyOps()
        let durable = DurableLog()
        let writer = try makeWriter(dir, segmentSize: size, ops: ops, durable: durable)
        var rng = SplitMix64(seed: 86)
        let records = randomRecords(200, using: &rng)
        for r in records {
            writer.append([r])
            durable.wait(for: Int(r.lsn))
        }
        writer.close()
        let paths = try dir.segments()
        #expect(paths.count > 3, "no roll happened")
        #expect(ops.zeroFills.withLock { $0 } >= paths.count)
        // Every roll after the first took the spare zero-filled ahead; closing removed the one in progress.
        #expect(ops.renames.withLock { $0 } == paths.count - 1)
        #expect(!FileManager.default.fileExists(atPath: dir.journal + "/" + Segment.spareFileName))
        for path in paths { #expect((FileSystem.fileSize(path) ?? 0) >= size, "\(path) was not pre-sized") }
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records)
        for (a, b) in zip(scan.segments, scan.segments.dropFirst()) { #expect(b.firstLSN == a.lastLSN! + 1) }
        #expect(scan.segments.allSatisfy { $0.state == .clean })
    }

    @Test func aSpareThatCannotBePreparedIsDroppedAndTheRollPresizesInPlace() throws {
        let dir = TempDir("spare-fail")
        let size = 64 * 1024
        let ops = FaultyOps()
        let durable = DurableLog()
        // A leftover spare from an earlier run is not trusted: the writer removes it.
        try FileManager.default.createDirectory(atPath: dir.journal, withIntermediateDirectories: true)
        try writeBytes(dir.journal + "/" + Segment.spareFileName, [1, 2, 3])
        let writer = try makeWriter(dir, segmentSize: size, ops: ops, durable: durable)
        #expect(!FileManager.default.fileExists(atPath: dir.journal + "/" + Segment.spareFileName))
        var rng = SplitMix64(seed: 87)
        let records = randomRecords(300, using: &rng)
        writer.append([records[0]])
        #expect(durable.wait(for: 1))
        // The first segment is pre-sized; from here on zeros fail (the disk is nearly full) until the first roll.
        ops.fault.withLock { $0 = .failZeros(afterBytes: 1000, errno: ENOSPC) }
        for r in records[1...] {
            writer.append([r])
            durable.wait(for: Int(r.lsn))
            if try dir.segments().count == 2 {
                ops.fault.withLock { $0 = .none }
            }
        }
        writer.close()
        #expect(durable.all.allSatisfy { $0.result.error == nil })
        #expect(log.count(.warning, containing: "could not prepare the next segment") >= 1)
        #expect(ops.renames.withLock { $0 } < (try dir.segments().count) - 1, "a failed spare was used")
        #expect(!FileManager.default.fileExists(atPath: dir.journal + "/" + Segment.spareFileName))
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records)
    }

    @Test func snapshotsPrunePresizedSegmentsAndLeaveTheSpareAlone() throws {
        let dir = TempDir("presize-prune")
        let size = 8192
        let durable = DurableLog()
        let writer = try makeWriter(dir, segmentSize: size, durable: durable)
        var rng = SplitMix64(seed: 88)
        let records = randomRecords(150, using: &rng)
        for r in records {
            writer.append([r])
            durable.wait(for: Int(r.lsn))
        }
        let before = try dir.segments()
        #expect(before.count > 3)
        // Snapshots at LSN 100 and 120 while the writer runs (and may hold a spare): segments wholly at or
        // below 100 go, the newest stays, and the journal after the older snapshot still reads back whole.
        try SnapshotStore.write(directory: dir.path, lsn: 100, payload: [1])
        try SnapshotStore.write(directory: dir.path, lsn: 120, payload: [2])
        let pruned = try SnapshotStore.prune(directory: dir.path, keep: 2, logger: log.logger)
        #expect(!pruned.deletedSegments.isEmpty)
        #expect(try dir.segments().count == before.count - pruned.deletedSegments.count)
        writer.close()
        let scan = try JournalReader.scan(directory: dir.path, after: 100, logger: log.logger)
        #expect(scan.records == Array(records[100...]))
        #expect(scan.nextLSN == 151)
    }
}
