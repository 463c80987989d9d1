import RoundtableCore
import Testing

@testable import RoundtableServer

/// The node machine driven by a fake clock: keep-alive, join deadlines, admission and rate limits in
/// microseconds instead of the seconds the integration tests wait.
@Suite struct NodeMachineTests {
    static func settings(_ configure: (inout Configuration) -> Void = { _ in }) -> NodeMachine.Settings {
        var c = Configuration()
        c.joinTimeoutSeconds = 30
        c.pingIntervalSeconds = 30
        c.pingTimeoutSeconds = 75
        configure(&c)
        return NodeMachine.Settings(c)
    }

    static func machine(_ configure: (inout Configuration) -> Void = { _ in }) -> NodeMachine {
        NodeMachine(settings: settings(configure), now: 0)
    }

    @Test func aQuietConnectionIsPingedOnceThenDropped() {
        var m = Self.machine()
        #expect(m.connectionOpened(1, address: "10.0.0.1", now: 0) == .accept)
        m.bindingChanged(1, joined: true, now: 0)
        let bound: (ConnectionID) -> Bool = { _ in true }
        #expect(m.scanDeadlines(now: 29.9, isBound: bound) == [])
        #expect(m.scanDeadlines(now: 30, isBound: bound) == [.ping(1)])
        #expect(m.scanDeadlines(now: 50, isBound: bound) == [], "one ping until the peer is heard")
        #expect(m.scanDeadlines(now: 75, isBound: bound) == [.drop(1, quietSeconds: 75)])
        #expect(m.scanDeadlines(now: 200, isBound: bound) == [], "a dropped connection is decided once")
    }

    @Test func aPeerThatAnswersStays() {
        var m = Self.machine()
        _ = m.connectionOpened(1, address: "a", now: 0)
        m.bindingChanged(1, joined: true, now: 0)
        var pings = 0
        for t in stride(from: 1.0, through: 300, by: 1) {
            for action in m.scanDeadlines(now: t, isBound: { _ in true }) {
                #expect(action == .ping(1))
                pings += 1
                m.heard(1, now: t + 0.05) // the pong
            }
        }
        #expect(pings == 9)
        #expect(m.connections[1]?.closing == false)
    }

    @Test func zeroTurnsKeepAliveOff() {
        var m = Self.machine {
            $0.pingIntervalSeconds = 0; $0.pingTimeoutSeconds = 0
        }
        _ = m.connectionOpened(1, address: "a", now: 0)
        m.bindingChanged(1, joined: true, now: 0)
        #expect(m.scanDeadlines(now: 1e6, isBound: { _ in true }) == [])
    }

    @Test func joinDeadlineFromOpeningAndAgainFromLeaving() {
        var m = Self.machine {
            $0.pingIntervalSeconds = 0; $0.pingTimeoutSeconds = 0; $0.joinTimeoutSeconds = 1.5
        }
        _ = m.connectionOpened(1, address: "a", now: 0)
        _ = m.connectionOpened(2, address: "a", now: 0)
        m.bindingChanged(2, joined: true, now: 1)
        var bound: Set<ConnectionID> = [2]
        #expect(m.scanDeadlines(now: 1.5, isBound: { bound.contains($0) }) == [])
        #expect(m.scanDeadlines(now: 1.51, isBound: { bound.contains($0) }) == [.close(1, code: 1008, reason: "no room.join within 1.5 s")])
        // Another tab's room.leave unbinds 2 silently: its deadline starts when the scan notices.
        bound = []
        #expect(m.scanDeadlines(now: 10, isBound: { bound.contains($0) }) == [])
        #expect(m.scanDeadlines(now: 11.6, isBound: { bound.contains($0) }) == [.close(2, code: 1008, reason: "no room.join within 1.5 s")])
        // Its own room.leave restarts the deadline at once.
        _ = m.connectionOpened(3, address: "a", now: 20)
        m.bindingChanged(3, joined: true, now: 20)
        m.bindingChanged(3, joined: false, now: 40)
        #expect(m.scanDeadlines(now: 41, isBound: { _ in false }) == [])
        #expect(m.scanDeadlines(now: 41.6, isBound: { _ in false }) == [.close(3, code: 1008, reason: "no room.join within 1.5 s")])
    }

    @Test func wholeSecondsReadAsBefore() {
        var m = Self.machine { $0.joinTimeoutSeconds = 30 }
        _ = m.connectionOpened(1, address: "a", now: 0)
        #expect(m.scanDeadlines(now: 31, isBound: { _ in false }).contains(.close(1, code: 1008, reason: "no room.join within 30 s")))
    }

    /// One entry per open connection: 80 bytes made the table 768 KiB at 5,050 idle members, 40 makes it 448.
    @Test func connectionStateStaysCompact() {
        #expect(MemoryLayout<NodeMachine.ConnectionState>.stride == 40)
    }

    @Test func admissionLimitsAndShutdown() {
        var m = Self.machine {
            $0.maxConnections = 3; $0.maxConnectionsPerAddress = 2
        }
        #expect(m.connectionOpened(1, address: "a", now: 0) == .accept)
        #expect(m.connectionOpened(2, address: "a", now: 0) == .accept)
        #expect(m.connectionOpened(3, address: "a", now: 0) == .refuse(code: 1008, reason: "too many connections from this address", limit: true))
        m.connectionClosed(3, address: "a")
        #expect(m.connectionOpened(4, address: "b", now: 0) == .accept)
        #expect(m.connectionOpened(5, address: "c", now: 0) == .refuse(code: 1013, reason: "server is at its connection limit", limit: true))
        m.connectionClosed(5, address: "c")
        m.connectionClosed(1, address: "a")
        #expect(m.perAddress == ["a": 1, "b": 1])
        let stopped = m.stop(now: 10), again = m.stop(now: 11)
        #expect(stopped && !again, "a second stop changes nothing")
        #expect(m.connectionOpened(6, address: "a", now: 10) == .refuse(code: 1001, reason: "server shutting down", limit: false))
        m.connectionClosed(6, address: "a")
        m.connectionClosed(2, address: "a")
        #expect(!m.stopComplete(now: 12.9), "one client left, within the grace period")
        #expect(m.stopComplete(now: 13.1), "the grace period is over")
        m.connectionClosed(4, address: "b")
        #expect(m.perAddress.isEmpty && m.connections.isEmpty && m.strikes.isEmpty)
        #expect(m.stopComplete(now: 10.5), "everyone has gone")
    }

    @Test func archivesAreScheduledAFewAtATimeAndNotWhileStoppingOrFailing() {
        var m = Self.machine { $0.archiveAfterIdleSeconds = 60 }
        #expect(!m.mayArchive(journaling: true), "not before recovery")
        m.recovered()
        #expect(m.mayArchive(journaling: true))
        #expect(!m.mayArchive(journaling: false), "no data folder, nowhere to archive")
        let rooms = (1...6).map { (code: "R\($0)", seq: UInt64($0)) }
        let first = m.startArchives(rooms, reopening: { $0 == "R2" })
        #expect(first == ["R1", "R3", "R4", "R5"], "at most four at once; a room being reopened is skipped")
        let started1 = m.startArchives(rooms, reopening: { _ in false })
        #expect(started1 == [], "no free writer")
        m.archiveWritten("R1", seq: 1, failed: true)
        m.archiveWritten("R3", seq: 3, failed: false)
        // R3 is archived: the coordinator no longer offers it.
        let started2 = m.startArchives(rooms.filter { $0.code != "R3" }, reopening: { _ in false })
        #expect(started2 == ["R2", "R6"], "a room whose file failed waits for a change")
        m.archiveWritten("R2", seq: 2, failed: false)
        let started3 = m.startArchives([(code: "R1", seq: 1)], reopening: { _ in false })
        #expect(started3 == [])
        let started4 = m.startArchives([(code: "R1", seq: 9)], reopening: { _ in false })
        #expect(started4 == ["R1"], "retried once the room changed")
        #expect(m.archiveCandidateLimit == NodeMachine.archiveWritersAtOnce + 4 + 1, "four writing (R4, R5, R6, R1), R1 refused at seq 1")
        _ = m.stop(now: 0)
        #expect(!m.mayArchive(journaling: true), "a stopping node archives nothing")
        #expect(!Self.machine { $0.archiveAfterIdleSeconds = 0 }.mayArchive(journaling: true), "0 turns archiving off")
    }

    @Test func rateLimitRefusesThenClosesRepeatOffenders() {
        var m = Self.machine {
            $0.messagesPerSecond = 2; $0.messageBurst = 3; $0.rateLimitStrikes = 2
        }
        _ = m.connectionOpened(1, address: "a", now: 0)
        for _ in 0..<3 { #expect(m.messageReceived(1, now: 0) == .process) }
        let limited = NodeMachine.MessageAction.rateLimited(DomainError("rate_limited", "more than 2 messages per second; slow down"))
        #expect(m.messageReceived(1, now: 0) == limited)
        #expect(m.messageReceived(1, now: 0.1) == limited)
        #expect(m.messageReceived(1, now: 0.5) == .process, "refilled at 2 per second")
        #expect(m.messageReceived(1, now: 0.5) == .close(code: 1008, reason: "rate limit exceeded repeatedly"))
        // A client that calms down for 10 s starts afresh.
        _ = m.connectionOpened(2, address: "a", now: 0)
        for _ in 0..<3 { _ = m.messageReceived(2, now: 0) }
        #expect(m.messageReceived(2, now: 0) == limited)
        #expect(m.messageReceived(2, now: 0) == limited)
        for _ in 0..<3 { _ = m.messageReceived(2, now: 20) }
        #expect(m.messageReceived(2, now: 20) == limited, "strikes were reset after a quiet 10 s")
    }

    @Test func scanIntervalFollowsTheShortestTimeout() {
        #expect(Self.machine().scanInterval == 1)
        #expect(Self.machine { $0.joinTimeoutSeconds = 0.4 }.scanInterval == 0.1)
        #expect(Self.machine { $0.pingIntervalSeconds = 0.01 }.scanInterval == 0.05)
    }

    @Test func timeoutsTakeFractionsAndRefuseNegatives() throws {
        let c = try Configuration.parse(#"{"transport":{"joinTimeoutSeconds":0.5,"pingIntervalSeconds":30,"pingTimeoutSeconds":0.75}}"#)
        #expect(c.joinTimeoutSeconds == 0.5 && c.pingIntervalSeconds == 30 && c.pingTimeoutSeconds == 0.75)
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"transport":{"pingTimeoutSeconds":-1}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"transport":{"joinTimeoutSeconds":"soon"}}"#) }
        var e = Configuration()
        try e.applyEnvironment(["ROUNDTABLE_TRANSPORT_PINGINTERVALSECONDS": "0.25"])
        #expect(e.pingIntervalSeconds == 0.25)
    }
}
