import Foundation
import RoundtableTestSupport
import Testing

@testable import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SnapshotTests {
    let log = LogCapture()

    func payload(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    func snapshotPath(_ dir: TempDir, _ lsn: UInt64) -> String {
        dir.snapshots + "/" + FileSystem.lsnName(prefix: "snap-", lsn, suffix: ".snap")
    }

    /// Issue #16: with both kept snapshots damaged, recovery falls back to LSN 0 and the pruned journal
    /// has a gap; the error must name the snapshots (the cause), not just the gap.
    @Test func bothSnapshotsDamagedIsNamedAsTheCause() throws {
        var rng = SplitMix64(seed: 40)
        let records = randomRecords(20, using: &rng)
        let dir = TempDir("bothbad")
        try writeSegment(dir, Array(records[10...])) // segments up to LSN 10 were pruned after the snapshots
        try SnapshotStore.write(directory: dir.path, lsn: 10, payload: payload(500, seed: 2))
        try SnapshotStore.write(directory: dir.path, lsn: 15, payload: payload(500, seed: 3))
        // Intact, recovery starts from LSN 15.
        #expect(try SnapshotStore.loadForRecovery(directory: dir.path, logger: log.logger).scan.records == Array(records[15...]))
        // The newer one damaged: the older one still bridges to the journal.
        var newer = try readBytes(snapshotPath(dir, 15))
        newer[40] ^= 0x01
        try writeBytes(snapshotPath(dir, 15), newer)
        #expect(try SnapshotStore.loadForRecovery(directory: dir.path, logger: log.logger).snapshot?.lsn == 10)
        // Both damaged.
        try writeBytes(snapshotPath(dir, 10), Array(try readBytes(snapshotPath(dir, 10)).prefix(20)))
        let error = #expect(throws: StoreError.self) {
            _ = try SnapshotStore.loadForRecovery(directory: dir.path, logger: log.logger)
        }
        guard case let .snapshotsDamaged(snapshots, gap)? = error else {
            Issue.record("expected snapshotsDamaged, got \(String(describing: error))")
            return
        }
        #expect(snapshots.count == 2)
        #expect(snapshots[0].hasPrefix(snapshotPath(dir, 15) + ": checksum mismatch"))
        #expect(snapshots[1].hasPrefix(snapshotPath(dir, 10) + ": file is 20 bytes"))
        #expect(gap.contains("expected LSN 1 but found 11"))
        let message = error?.description ?? ""
        #expect(message.contains(snapshotPath(dir, 10)) && message.contains(snapshotPath(dir, 15)))
        #expect(message.contains("restore the data folder from a backup"))
        // No snapshot at all and the same gap: nothing was damaged, so the gap is the whole story.
        try FileManager.default.removeItem(atPath: dir.snapshots)
        #expect(throws: StoreError.journalGap(file: dir.journal + "/" + Segment.fileName(firstLSN: 11), expected: 1, found: 11)) {
            _ = try SnapshotStore.loadForRecovery(directory: dir.path, logger: log.logger)
        }
    }

    @Test func roundTrip() throws {
        let dir = TempDir("snap")
        #expect(try SnapshotStore.loadNewestValid(directory: dir.path, logger: log.logger) == nil)
        let data = payload(100_000, seed: 1)
        try SnapshotStore.write(directory: dir.path, lsn: 10, payload: data)
        try SnapshotStore.write(directory: dir.path, lsn: 11, payload: [])
        let loaded = try #require(try SnapshotStore.loadNewestValid(directory: dir.path, logger: log.logger))
        #expect(loaded.lsn == 11 && loaded.payload.isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.snapshots).sorted()
        #expect(names == ["snap-00000000000000000010.snap", "snap-00000000000000000011.snap"], "temp file left behind?")
        #expect(try readBytes(snapshotPath(dir, 10)).count == 28 + data.count)
        #expect(SnapshotStore.read(snapshotPath(dir, 10), lsn: 10).map { $0 == data } == .success(true))
        let listed = try SnapshotStore.list(directory: dir.path)
        #expect(listed.map(\.lsn) == [10, 11] && listed.allSatisfy { $0.problem == nil })
    }

    @Test func newestCorruptFallsBackToPrevious() throws {
        let dir = TempDir("fallback")
        for lsn: UInt64 in [10, 20, 30] { try SnapshotStore.write(directory: dir.path, lsn: lsn, payload: payload(500, seed: lsn)) }
        let newest = snapshotPath(dir, 30)
        var bytes = try readBytes(newest)
        bytes[200] ^= 0x04
        try writeBytes(newest, bytes)
        // A leftover temp file from a crash mid-write is not a snapshot.
        try writeBytes(newest.replacingOccurrences(of: "30.snap", with: "40.snap.tmp"), [1, 2, 3])

        var loaded = try #require(try SnapshotStore.loadNewestValid(directory: dir.path, logger: log.logger))
        #expect(loaded.lsn == 20 && loaded.payload == payload(500, seed: 20))
        #expect(log.count(.error, containing: "skipping invalid snapshot") == 1)
        #expect(try SnapshotStore.list(directory: dir.path).map { $0.problem != nil } == [false, false, true])

        // Cut short (e.g. copied while being written by hand) is just as invalid.
        let middle = snapshotPath(dir, 20)
        try writeBytes(middle, Array(try readBytes(middle).dropLast(1)))
        loaded = try #require(try SnapshotStore.loadNewestValid(directory: dir.path, logger: log.logger))
        #expect(loaded.lsn == 10)

        try writeBytes(snapshotPath(dir, 10), Array("RTS1".utf8))
        #expect(try SnapshotStore.loadNewestValid(directory: dir.path, logger: log.logger) == nil)
    }

    @Test func pruneKeepsTheJournalTheOlderSnapshotNeeds() throws {
        let dir = TempDir("prune")
        var rng = SplitMix64(seed: 31)
        let records = randomRecords(35, using: &rng)
        for start in stride(from: 0, to: 35, by: 7) { try writeSegment(dir, Array(records[start..<(start + 7)])) }
        for lsn: UInt64 in [10, 20, 30] { try SnapshotStore.write(directory: dir.path, lsn: lsn, payload: payload(64, seed: lsn)) }

        let result = try SnapshotStore.prune(directory: dir.path, keep: 2, logger: log.logger)
        #expect(result.deletedSnapshots == [snapshotPath(dir, 10)])
        // Segments start at 1, 8, 15, 22, 29; only 1-7 and 8-14 lie wholly at or below the older kept snapshot (20).
        #expect(
            result.deletedSegments.map { URL(fileURLWithPath: $0).lastPathComponent }
                == [Segment.fileName(firstLSN: 1), Segment.fileName(firstLSN: 8)])
        #expect(try SnapshotStore.list(directory: dir.path).map(\.lsn) == [20, 30])

        // The newest snapshot goes bad: the older one and the journal after it still rebuild everything.
        let newest = snapshotPath(dir, 30)
        var bytes = try readBytes(newest)
        bytes[bytes.count - 1] ^= 0xFF
        try writeBytes(newest, bytes)
        let fallback = try #require(try SnapshotStore.loadNewestValid(directory: dir.path, logger: log.logger))
        #expect(fallback.lsn == 20)
        let scan = try JournalReader.scan(directory: dir.path, after: fallback.lsn, logger: log.logger)
        #expect(scan.records == Array(records[20...]))

        // Pruning again keeps only the valid one and the journal it needs; the newest segment always stays.
        try SnapshotStore.prune(directory: dir.path, keep: 2, logger: log.logger)
        #expect(try SnapshotStore.list(directory: dir.path).map(\.lsn) == [20])
        #expect(try JournalReader.scan(directory: dir.path, after: 20, logger: log.logger).records == Array(records[20...]))
    }

    @Test func pruneWithoutSnapshotsDeletesNothing() throws {
        let dir = TempDir("prune-none")
        var rng = SplitMix64(seed: 32)
        try writeSegment(dir, randomRecords(5, using: &rng))
        try writeSegment(dir, randomRecords(5, from: 6, using: &rng))
        #expect(try SnapshotStore.prune(directory: dir.path, keep: 2, logger: log.logger) == PruneResult())
        #expect(try dir.segments().count == 2)
    }
}

@Suite struct DataDirectoryTests {
    @Test func secondHolderIsRefused() throws {
        let dir = TempDir("lock")
        let first = try DataDirectory(path: dir.path + "/data")
        #expect(FileManager.default.fileExists(atPath: first.journalPath))
        #expect(FileManager.default.fileExists(atPath: first.snapshotsPath))
        var caught: StoreError?
        do { _ = try DataDirectory(path: dir.path + "/data") } catch { caught = error }
        guard case let .locked(path, holder)? = caught else { Issue.record("second holder allowed: \(String(describing: caught))"); return }
        #expect(path == dir.path + "/data")
        #expect(holder == "pid \(getpid())")
        #expect(caught?.description.contains("in use") == true)

        first.unlock()
        // A crash mid-snapshot leaves a temp file; the next holder clears it.
        let temp = first.snapshotsPath + "/snap-00000000000000000007.snap.tmp"
        try writeBytes(temp, [1, 2, 3])
        let second = try DataDirectory(path: dir.path + "/data")
        #expect(!FileManager.default.fileExists(atPath: temp))
        second.unlock()
    }
}
