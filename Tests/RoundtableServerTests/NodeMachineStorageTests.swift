import RoundtableCore
import Testing

@testable import RoundtableServer

/// The durability gate, storage failure and recovery, and snapshot scheduling, driven through the node
/// machine with a fake clock: no data folder, no threads, no waiting.
@Suite struct NodeMachineStorageTests {
    static func machine(_ configure: (inout Configuration) -> Void = { _ in }) -> NodeMachine {
        var c = Configuration()
        configure(&c)
        var m = NodeMachine(settings: .init(c), now: 0)
        m.recovered()
        return m
    }

    static func entry(_ n: UInt64) -> Effect { .journal(JournalEntry(room: "R", seq: n, at: 0, roomOp: .closed)) }
    static func ack(_ c: ConnectionID) -> Effect { .reply(.ok, ref: .int(Int64(c)), to: c) }
    static func refusal(_ c: ConnectionID) -> Effect { .reply(.error(.notJoined), ref: nil, to: c) }
    static func event(_ seq: UInt64) -> Effect {
        .broadcast(RoomEvent(room: "R", seq: seq, at: 0, type: "room.closed", payload: [:]), to: [9])
    }

    /// Submits like the driver: appends get the next ticket.
    static func submit(_ m: inout NodeMachine, _ effects: [Effect], ticket: UInt64 = 0) -> [Effect]? {
        switch m.submit(effects, journaling: true) {
        case .execute(let now): return now
        case .held: return nil
        case .append(let entries):
            m.appended(effects, entries: entries.count, ticket: ticket)
            return nil
        }
    }

    static func executed(_ actions: [NodeMachine.StorageAction]) -> [[Effect]] {
        actions.compactMap { if case .execute(let e) = $0 { e } else { nil } }
    }

    @Test func effectsWaitForTheirTicketAndLeaveInOrder() {
        var m = Self.machine()
        let first = [Self.entry(1), Self.event(1), Self.ack(1)]
        #expect(Self.submit(&m, first, ticket: 1) == nil)
        // No journal entry, but something is held: it waits behind ticket 1 to keep the order.
        #expect(Self.submit(&m, [Self.refusal(2)]) == nil)
        let second = [Self.entry(2), Self.ack(3)]
        #expect(Self.submit(&m, second, ticket: 2) == nil)
        #expect(m.pendingBatches == 3)
        #expect(Self.executed(m.durable(upTo: 1)) == [first, [Self.refusal(2)]])
        #expect(Self.executed(m.durable(upTo: 1)).isEmpty, "old news")
        #expect(Self.executed(m.durable(upTo: 2)) == [second])
        // Nothing held: effects without a journal entry run at once.
        #expect(Self.submit(&m, [Self.refusal(4)]) == [Self.refusal(4)])
    }

    @Test func aFailedBatchTurnsAcksIntoStorageUnavailableAndTheNodeReloads() {
        var m = Self.machine()
        _ = Self.submit(&m, [Self.entry(1), Self.ack(1)], ticket: 1)
        _ = Self.submit(&m, [Self.entry(2), Self.event(2), Self.ack(2), Self.refusal(3)], ticket: 2)
        #expect(Self.executed(m.durable(upTo: 1)) == [[Self.entry(1), Self.ack(1)]])
        let actions = m.failed(upTo: 2, firstFailed: 2, now: 100)
        guard case .storageFailed = actions.first else {
            Issue.record("first failure not reported: \(actions)")
            return
        }
        // Nothing of the batch is sent but its replies: the ack refused, the refusal as it was.
        #expect(Self.executed(actions) == [[.reply(.error(.storageRefused), ref: .int(2), to: 2), Self.refusal(3)]])
        #expect(m.phase == .storageFailing(since: 100) && m.storageFailing)
        // Changes are refused without reaching the journal; a second failure is not news.
        #expect(Self.submit(&m, [Self.entry(3), Self.ack(5)]) == [.reply(.error(.storageRefused), ref: .int(5), to: 5)])
        #expect(m.failed(upTo: 2, firstFailed: 2, now: 100.5).isEmpty)
        // The reload waits a second, then starts once; a failed reload is retried.
        let r1 = m.reloadDue(now: 100.9, journaling: true)
        #expect(!r1)
        let r2 = m.reloadDue(now: 101, journaling: true)
        #expect(r2)
        let r3 = m.reloadDue(now: 102, journaling: true)
        #expect(!r3 && m.isReloading && m.storageFailing)
        m.reloadFailed()
        let r4 = m.reloadDue(now: 102, journaling: true)
        #expect(r4)
        m.reloaded()
        #expect(m.phase == .ready && !m.storageFailing)
        #expect(Self.submit(&m, [Self.entry(4), Self.ack(6)], ticket: 3) == nil)
        #expect(Self.executed(m.durable(upTo: 3)) == [[Self.entry(4), Self.ack(6)]])
    }

    @Test func batchesBeforeTheFailureAreReleased() {
        var m = Self.machine()
        _ = Self.submit(&m, [Self.entry(1), Self.ack(1)], ticket: 1)
        _ = Self.submit(&m, [Self.entry(2), Self.ack(2)], ticket: 2)
        let actions = m.failed(upTo: 2, firstFailed: 2, now: 5)
        #expect(Self.executed(actions) == [[Self.entry(1), Self.ack(1)], [.reply(.error(.storageRefused), ref: .int(2), to: 2)]])
    }

    @Test func noReloadWhileBatchesAreHeldOrWithoutAJournal() {
        var m = Self.machine()
        _ = Self.submit(&m, [Self.entry(1), Self.ack(1)], ticket: 1)
        _ = Self.submit(&m, [Self.entry(2), Self.ack(2)], ticket: 2)
        _ = m.failed(upTo: 1, firstFailed: 1, now: 0)
        let r5 = m.reloadDue(now: 10, journaling: true)
        #expect(!r5, "ticket 2 is still held")
        _ = m.failed(upTo: 2, firstFailed: 1, now: 10)
        let r6 = m.reloadDue(now: 10, journaling: false)
        #expect(!r6)
        let r7 = m.reloadDue(now: 10, journaling: true)
        #expect(r7)
    }

    @Test func recoveringRefusesNothingButIsNotReady() {
        var m = NodeMachine(settings: .init(Configuration()), now: 0)
        #expect(!m.isReady && m.phase == .recovering)
        m.recovered()
        #expect(m.isReady)
    }

    @Test func aSnapshotWaitsUntilWhatItCopiedIsDurable() {
        var m = Self.machine {
            $0.snapshotEveryEvents = 2; $0.snapshotEverySeconds = 300
        }
        let snap = NodeMachine.Snapshot(rooms: [:], archived: [:], lsn: 2)
        let r8 = m.snapshotDue(now: 1, journaling: true)
        #expect(!r8, "nothing journaled yet")
        _ = Self.submit(&m, [Self.entry(1), Self.entry(2), Self.ack(1)], ticket: 1)
        let r9 = m.snapshotDue(now: 1, journaling: true)
        #expect(r9)
        let r10 = m.snapshotTaken(snap)
        #expect(r10 == nil, "ticket 1 is not durable yet")
        let r11 = m.snapshotDue(now: 1, journaling: true)
        #expect(!r11)
        let actions = m.durable(upTo: 1)
        guard case .writeSnapshot(let written) = actions.first else {
            Issue.record("no snapshot on durability: \(actions)")
            return
        }
        #expect(written.lsn == 2 && m.snapshotInFlight)
        _ = Self.submit(&m, [Self.entry(3), Self.ack(2)], ticket: 2)
        let r12 = m.snapshotDue(now: 400, journaling: true)
        #expect(!r12, "one at a time")
        m.snapshotDone()
        #expect(Self.executed(m.durable(upTo: 2)).count == 1)
        let r13 = m.snapshotDue(now: 400, journaling: true)
        #expect(r13, "by time, with one entry")
        let r14 = m.snapshotTaken(snap)
        #expect(r14 != nil)
    }

    @Test func aSnapshotOfStateThatFailedIsDropped() {
        var m = Self.machine { $0.snapshotEveryEvents = 1 }
        _ = Self.submit(&m, [Self.entry(1), Self.ack(1)], ticket: 1)
        let r15 = m.snapshotDue(now: 1, journaling: true)
        #expect(r15)
        let r16 = m.snapshotTaken(NodeMachine.Snapshot(rooms: [:], archived: [:], lsn: 1))
        #expect(r16 == nil)
        let actions = m.failed(upTo: 1, firstFailed: 1, now: 2)
        #expect(!actions.contains { if case .writeSnapshot = $0 { true } else { false } })
        #expect(m.pendingSnapshot == nil)
        let r17 = m.snapshotDue(now: 1000, journaling: true)
        #expect(!r17, "no snapshots while storage fails")
    }
}
