import Foundation
import RoundtableTestSupport
import Testing

@testable import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// Mounting needs root and CAP_SYS_ADMIN; without them this suite is skipped, and the injected-fault tests in
/// `WriterTests` still cover the same paths.
private let canMountTmpfs: Bool = {
    guard geteuid() == 0 else { return false }
    let dir = TempDir("probe")
    guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]) else { return false }
    return run("/bin/umount", [dir.path])
}()

private func run(_ tool: String, _ args: [String]) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = args
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}

@Suite(.enabled(if: canMountTmpfs, "needs root to mount a tiny tmpfs"))
struct FullDiskTests {
    /// The writer thread (always) and the caller writing itself (everysec, none).
    static let modes = [
        JournalOptions(fsync: .always), JournalOptions(fsync: .everysec, writeOnCaller: true),
        JournalOptions(fsync: .none, writeOnCaller: true),
    ]

    @Test(arguments: modes)
    func realENOSPCFailsTheBatchAndServiceResumesWhenSpaceReturns(options: JournalOptions) throws {
        let dir = TempDir("fulldisk")
        try #require(run("/bin/mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", dir.path]))
        defer { _ = run("/bin/umount", [dir.path]) }
        let filler = dir.path + "/filler"
        try writeBytes(filler, [UInt8](repeating: 7, count: 64 * 1024))

        let log = LogCapture()
        let durable = DurableLog()
        let writer = try JournalWriter(
            directory: dir.path, nextLSN: 1, options: options,
            logger: log.logger, onDurable: durable.handler
        )
        var rng = SplitMix64(seed: 41)
        var lsn: UInt64 = 1
        var written: [JournalRecord] = []
        var failedBatch: [JournalRecord]?
        for ticket in 1...200 {
            let batch = [
                JournalRecord(
                    lsn: lsn, room: "full", seq: lsn, at: 0,
                    payload: (0..<2000).map { _ in UInt8.random(in: 0...255, using: &rng) })
            ]
            writer.append(batch)
            writer.writePending()
            #expect(durable.wait(for: ticket))
            if durable.all[ticket - 1].result.error != nil {
                failedBatch = batch
                break
            }
            written += batch
            lsn += 1
        }
        let failed = try #require(failedBatch, "the disk never filled up")
        #expect(durable.all.last?.result.error?.isOutOfSpace == true)
        // What is on disk is exactly the acknowledged records, with no partial record after them.
        let segment = try #require(try dir.segments().first)
        #expect(FileSystem.fileSize(segment) == Segment.headerSize + written.map(RecordCodec.encodedSize).reduce(0, +))

        try FileSystem.remove(filler)
        let reported = durable.all.count
        writer.append(failed)
        writer.writePending()
        #expect(durable.wait(for: reported + 1))
        #expect(durable.all.last?.result.error == nil)
        writer.close()
        #expect(log.count(.error, containing: "batch failed") == 1)
        #expect(try JournalReader.scan(directory: dir.path, after: 0, logger: log.logger).records == written + [failed[0]])
    }
}
