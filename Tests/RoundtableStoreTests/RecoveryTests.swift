import RoundtableTestSupport
import Testing

@testable import RoundtableStore

@Suite struct RecoveryTests {
    let log = LogCapture()

    @Test func tornTailAtEveryOffsetIsCutAndEarlierRecordsKept() throws {
        var rng = SplitMix64(seed: 11)
        let records = randomRecords(6, using: &rng)
        let dir = TempDir("torn")
        let path = try writeSegment(dir, records)
        let full = try readBytes(path)
        let lastSize = RecordCodec.encodedSize(records[5])
        let lastStart = full.count - lastSize
        for cut in lastStart..<full.count {
            try writeBytes(path, Array(full[..<cut]))
            let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
            #expect(scan.records == Array(records[..<5]), "cut at \(cut)")
            #expect(scan.nextLSN == 6)
            #expect(try readBytes(path).count == lastStart, "file not truncated to the last good record (cut \(cut))")
            if cut > lastStart {
                #expect(scan.segments.last?.state == .tornTail(offset: lastStart, reason: "record cut short (torn write)"))
            } else {
                #expect(scan.segments.last?.state == .clean)
            }
        }
        #expect(log.count(.warning, containing: "cutting damaged tail") == lastSize - 1)
    }

    @Test func bitFlipInLastRecordIsCutButInEarlierRecordIsRefused() throws {
        var rng = SplitMix64(seed: 12)
        let records = randomRecords(5, using: &rng)
        let dir = TempDir("flip")
        let path = try writeSegment(dir, records)
        let full = try readBytes(path)
        let sizes = records.map(RecordCodec.encodedSize)
        let lastStart = full.count - sizes[4]

        var damaged = full
        damaged[lastStart + RecordCodec.headerSize + 3] ^= 0x10
        try writeBytes(path, damaged)
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == Array(records[..<4]))

        // Damage in record 2 with intact records after it is not a torn write: refuse, and say where.
        damaged = full
        let secondStart = Segment.headerSize + sizes[0] + sizes[1]
        damaged[secondStart + RecordCodec.headerSize + 1] ^= 0x01
        try writeBytes(path, damaged)
        var caught: StoreError?
        do { _ = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger) } catch { caught = error }
        guard case let .corruptJournal(file, offset, reason)? = caught else {
            Issue.record("damage before intact records was not refused: \(String(describing: caught))")
            return
        }
        #expect(file == path)
        #expect(offset == secondStart)
        #expect(reason.contains("checksum"))
        #expect(caught?.description.contains(path) == true)
        #expect(try readBytes(path) == damaged, "a refused scan must not change the file")

        // The operator can still choose to drop everything from the damage on.
        let repaired = try JournalReader.scan(directory: dir.path, after: 0, repair: true, logger: log.logger)
        #expect(repaired.records == Array(records[..<2]))
    }

    @Test func corruptionInAMiddleSegmentIsRefused() throws {
        var rng = SplitMix64(seed: 13)
        let records = randomRecords(9, using: &rng)
        let dir = TempDir("middle")
        try writeSegment(dir, Array(records[0..<3]))
        let middle = try writeSegment(dir, Array(records[3..<6]))
        try writeSegment(dir, Array(records[6..<9]))
        var bytes = try readBytes(middle)
        // Even the middle segment's final record: a torn tail there means lost data, not a crash mid-append.
        bytes[bytes.count - 2] ^= 0x80
        try writeBytes(middle, bytes)
        #expect {
            _ = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        } throws: { error in
            guard case let .corruptJournal(file, _, _) = error as? StoreError else { return false }
            return file == middle
        }
        let infos = try JournalReader.inspect(directory: dir.path, logger: log.logger)
        #expect(infos.count == 3)
        guard case .damaged = infos[1].state else { Issue.record("inspect did not flag the middle segment"); return }
        #expect(infos[0].state == .clean && infos[2].state == .clean)
        #expect(try readBytes(middle) == bytes, "inspect must not modify files")
    }

    @Test func scanSpansSegmentsAndSkipsCoveredRecords() throws {
        var rng = SplitMix64(seed: 14)
        let records = randomRecords(30, using: &rng)
        let dir = TempDir("span")
        for start in stride(from: 0, to: 30, by: 10) { try writeSegment(dir, Array(records[start..<(start + 10)])) }
        let all = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(all.records == records)
        #expect(all.lastLSN == 30 && all.nextLSN == 31)
        #expect(all.segments.map(\.firstLSN) == [1, 11, 21])
        #expect(all.segments.map(\.lastLSN) == [10, 20, 30])

        let tail = try JournalReader.scan(directory: dir.path, after: 15, logger: log.logger)
        #expect(tail.records == Array(records[15...]))
        #expect(tail.segments[0].state == .skipped)

        // A snapshot newer than the journal: nothing to replay, the writer continues after the snapshot.
        let ahead = try JournalReader.scan(directory: dir.path, after: 40, logger: log.logger)
        #expect(ahead.records.isEmpty && ahead.nextLSN == 41)
    }

    @Test func missingRecordsAreAGap() throws {
        var rng = SplitMix64(seed: 15)
        let records = randomRecords(20, using: &rng)
        let dir = TempDir("gap")
        try writeSegment(dir, Array(records[0..<5]))
        try writeSegment(dir, Array(records[8..<20]))
        #expect(throws: StoreError.journalGap(file: dir.journal + "/" + Segment.fileName(firstLSN: 9), expected: 6, found: 9)) {
            _ = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        }
        // Covered by a snapshot at LSN 8, the same hole is harmless.
        #expect(try JournalReader.scan(directory: dir.path, after: 8, logger: log.logger).records == Array(records[8...]))
    }

    @Test func segmentHeaderMustMatchItsName() throws {
        var rng = SplitMix64(seed: 16)
        let dir = TempDir("header")
        let path = try writeSegment(dir, randomRecords(3, using: &rng))
        try writeSegment(dir, randomRecords(3, from: 4, using: &rng))
        var bytes = try readBytes(path)
        bytes[8] = 9 // first LSN in the header no longer matches the file name
        try writeBytes(path, bytes)
        #expect(throws: StoreError.self) { _ = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger) }
    }

    @Test func emptyOrHeaderlessLastSegmentIsRemoved() throws {
        var rng = SplitMix64(seed: 17)
        let records = randomRecords(4, using: &rng)
        let dir = TempDir("empty")
        try writeSegment(dir, records)
        let headerOnly = dir.journal + "/" + Segment.fileName(firstLSN: 5)
        try writeBytes(headerOnly, Segment.header(firstLSN: 5))
        var scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records && scan.nextLSN == 5)
        #expect(try dir.segments().count == 1)

        try writeBytes(headerOnly, [0x52, 0x54]) // crash while writing the header
        scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records)
        #expect(try dir.segments().count == 1)
    }

    @Test func zeroFilledTailIsTreatedAsTorn() throws {
        var rng = SplitMix64(seed: 18)
        let records = randomRecords(4, using: &rng)
        let dir = TempDir("zeros")
        let path = try writeSegment(dir, records)
        let good = try readBytes(path)
        try writeBytes(path, good + [UInt8](repeating: 0, count: 4096))
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records == records)
        #expect(try readBytes(path) == good)
    }

    @Test func emptyDataDirectoryScansClean() throws {
        let dir = TempDir("fresh")
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger)
        #expect(scan.records.isEmpty && scan.segments.isEmpty && scan.lastLSN == nil && scan.nextLSN == 1)
    }
}
