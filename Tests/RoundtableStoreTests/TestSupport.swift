import Foundation
import Logging
import RoundtableTestSupport

@testable import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder under /tmp, removed when the test drops it.
final class TempDir {
    let path: String

    init(_ label: String = "store") {
        var template = Array("/tmp/rtstore-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    var journal: String { path + "/journal" }
    var snapshots: String { path + "/snapshots" }

    func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasSuffix(".wal") }.sorted()
            .map { journal + "/" + $0 }
    }
}

let rooms = ["standup", "planning-2025", "salle-é", "会议室", "", String(repeating: "r", count: 300)]

func randomRecords(_ count: Int, from lsn: UInt64 = 1, using rng: inout SplitMix64) -> [JournalRecord] {
    (0..<count).map { i in
        let big = Int.random(in: 0..<20, using: &rng) == 0
        let size = big ? Int.random(in: 1000...9000, using: &rng) : Int.random(in: 0...120, using: &rng)
        return JournalRecord(
            lsn: lsn + UInt64(i),
            room: rooms.randomElement(using: &rng)!,
            seq: UInt64.random(in: 0...UInt64.max, using: &rng),
            at: Int64.random(in: Int64.min...Int64.max, using: &rng),
            payload: (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        )
    }
}

func encodeAll(_ records: [JournalRecord]) -> [UInt8] {
    var out: [UInt8] = []
    for r in records { RecordCodec.encode(r, into: &out) }
    return out
}

/// Writes records straight into a segment file, bypassing the writer, to set up recovery scenarios.
@discardableResult
func writeSegment(_ dir: TempDir, _ records: [JournalRecord], firstLSN: UInt64? = nil) throws -> String {
    try FileManager.default.createDirectory(atPath: dir.journal, withIntermediateDirectories: true)
    let first = firstLSN ?? records[0].lsn
    let path = dir.journal + "/" + Segment.fileName(firstLSN: first)
    let bytes = Segment.header(firstLSN: first) + encodeAll(records)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

func readBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
func writeBytes(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

/// Collects log lines so tests can check what was logged and how often.
final class LogCapture: Sendable {
    let entries = Locked<[(level: Logger.Level, message: String)]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    func count(_ level: Logger.Level, containing text: String = "") -> Int {
        entries.withLock { $0.filter { $0.level == level && (text.isEmpty || $0.message.contains(text)) }.count }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.entries.withLock { $0.append((event.level, event.message.description)) }
        }
    }
}

/// Collects writer callbacks; tests wait on it with a timeout instead of sleeping blindly.
final class DurableLog: Sendable {
    let results = Locked<[(ticket: UInt64, result: Result<Void, StoreError>)]>([])
    /// The thread each report came on, in report order.
    let threads = Locked<[pthread_t]>([])

    var handler: JournalWriter.DurableHandler {
        { ticket, result in
            self.results.withLock { $0.append((ticket, result)) }
            self.threads.withLock { $0.append(pthread_self()) }
        }
    }

    var all: [(ticket: UInt64, result: Result<Void, StoreError>)] { results.withLock { $0 } }

    /// Waits up to `seconds` for `count` reports.
    @discardableResult
    func wait(for count: Int, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if results.withLock({ $0.count }) >= count { return true }
            usleep(1000)
        }
        return false
    }
}

extension Result where Success == Void {
    /// The error, or nil on success (`Result<Void, _>` is not Equatable).
    var error: Failure? {
        if case let .failure(e) = self { return e }
        return nil
    }
}
