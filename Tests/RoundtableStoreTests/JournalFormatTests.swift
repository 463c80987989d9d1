import RoundtableCore
import RoundtableWire
import Testing

@testable import RoundtableStore

/// Journals written before `archived` and `reopened` became `JournalOp` cases (they were built and matched
/// as strings) must replay exactly as they did: the payload bytes below are spelled out by hand, in the
/// shape those versions wrote, and go through a real segment file, the reader and `Coordinator.replay`.
@Suite struct JournalFormatTests {
    struct PlainHasher: SecretHasher {
        func digest(_ secret: String) -> String { "h(" + secret + ")" }
    }

    static let code = "ROOM0001"
    static let created = #"{"op":"created","title":"Launch","keyHash":"h(key)","settings":{"openAnswersBecomeNeeds":true,"showNeedOrganization":true}}"#
    static let joined =
        #"{"op":"joined","member":{"id":1,"name":"Fay","organization":"TTA","role":"facilitator","expertise":[],"bio":"","tokenHash":"h(tok)","joinedAt":1000,"departed":false,"highlights":[]}}"#
    static let archived =
        #"{"op":"archived","archive":{"code":"ROOM0001","title":"Launch","seq":2,"archivedAt":5000,"keyHash":"h(key)","facilitatorTokenHashes":["h(tok)"],"voterKeyNames":[]}}"#

    func coordinator() -> Coordinator { Coordinator(entropy: SeededEntropy(seed: 1), hasher: PlainHasher()) }

    func replayAll(_ payloads: [String]) throws -> Coordinator {
        let dir = TempDir("oldops")
        let records = payloads.enumerated().map { i, p in
            JournalRecord(lsn: UInt64(i + 1), room: Self.code, seq: UInt64(i + 1), at: 1000 + Int64(i), payload: Array(p.utf8))
        }
        try writeSegment(dir, records)
        let scan = try JournalReader.scan(directory: dir.path, after: 0, logger: LogCapture().logger)
        #expect(scan.records.count == payloads.count)
        var c = coordinator()
        for r in scan.records {
            try c.replay(JournalEntry(room: r.room, seq: r.seq, at: r.at, op: try JSON.parse(r.payload, maxDepth: 64)))
        }
        return c
    }

    @Test func anOldArchivedEntryStillReplays() throws {
        let c = try replayAll([Self.created, Self.joined, Self.archived])
        #expect(c.rooms[Self.code] == nil)
        let entry = try #require(c.archived[Self.code])
        #expect(entry.seq == 2 && entry.title == "Launch" && entry.archivedAt == 5000)
        #expect(entry.facilitatorKeyHash == "h(key)" && entry.facilitatorTokenHashes == ["h(tok)"])
        // Written again today, the same fact has the same JSON.
        let op = try JournalOp(value: JSON.parse(Array(Self.archived.utf8)))
        let again = JournalOpEncoder.payload(JournalEntry(room: Self.code, seq: 2, at: 5000, journalOp: op))
        #expect(try JSON.parse(again) == JSON.parse(Array(Self.archived.utf8)))
    }

    @Test func anOldReopenedEntryStillReplays() throws {
        // The room as it stood when archived, in the snapshot shape a `reopened` entry carries.
        var live = coordinator()
        for p in [Self.created, Self.joined] {
            try live.replay(JournalEntry(room: Self.code, seq: 1, at: 1000, op: try JSON.parse(Array(p.utf8))))
        }
        let room = JSON.serialize(try #require(live.rooms[Self.code]).snapshotValue)
        let reopened = #"{"op":"reopened","room":"# + String(decoding: room, as: UTF8.self) + "}"
        let c = try replayAll([Self.created, Self.joined, Self.archived, reopened])
        #expect(c.archived.isEmpty)
        #expect(c.rooms[Self.code]?.snapshotValue == live.rooms[Self.code]?.snapshotValue)
        let op = try JournalOp(value: JSON.parse(Array(reopened.utf8)))
        guard case .reopened(let back) = op else {
            Issue.record("reopened decoded as \(op)")
            return
        }
        #expect(back.members.count == 1)
        let again = JournalOpEncoder.payload(JournalEntry(room: Self.code, seq: 2, at: 6000, journalOp: op))
        #expect(try JSON.parse(again) == JSON.parse(Array(reopened.utf8)))
    }
}
