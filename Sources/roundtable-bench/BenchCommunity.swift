import ArgumentParser
import Foundation
import RoundtableCore
import RoundtableServer

/// Issue 19's scale: a community of thousands with a long history of sessions. Times opening the next
/// session, joining it by community key, and pairing everyone against every earlier session's pairs.
struct BenchCommunity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "community",
        abstract: "Build a community with many past sessions, then time opening, joining and pairing a new one.")

    @Option(help: "Members on the roster.") var members = 5_000
    @Option(help: "Past sessions held before the measured one.") var sessions = 100
    @Option(help: "Members attending each past session (a random sample of the roster).") var attendees = 500
    @Option(help: "Interview rounds in each past session.") var rounds = 3
    @Option(help: "Needs submitted in each past session.") var needs = 10

    func run() throws {
        var c = makeCoordinator(seed: 7)
        c.limits.maxMembersPerCommunity = max(members, 1)
        var now: Millis = 1_800_000_000_000
        var conn: ConnectionID = 1
        func send(_ command: Command, from: ConnectionID) -> Value.Object {
            now += 1
            return ack(c.handle(command, ref: nil, from: from, at: now))!
        }
        let (cred, keys) = benchCommunity(members: members, from: conn, send: send) { i in ["t\(i % 30)", "t\((i * 7) % 30)"] }
        var rng = SeededEntropy(seed: 11)
        var settings = InterviewSettings()
        settings.turnMs = 600_000
        settings.reportMs = 60_000
        let buildStart = benchClock()
        var openMs: [Double] = []
        for s in 0..<sessions {
            conn += 1
            let fac = conn
            let t = benchClock()
            let code = send(.createRoom(.init(title: "Session \(s)", name: "Fay", community: cred)), from: fac)["room"]!.stringValue!
            openMs.append((benchClock() - t) * 1000)
            var order = Array(keys.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var first: ConnectionID = 0
            for k in order.prefix(attendees) {
                conn += 1
                if first == 0 { first = conn }
                _ = send(.join(.init(code: code, communityKey: keys[k])), from: conn)
            }
            for n in 0..<needs { _ = send(.submitNeed(text: "Need \(s)-\(n)", tags: ["t\(n)"]), from: first) }
            _ = send(.startInterviews(settings), from: fac)
            for _ in 1..<max(1, rounds) { _ = send(.nextInterviewRound, from: fac) }
            _ = send(.closeRoom, from: fac)
        }
        let buildSeconds = benchClock() - buildStart
        let community = c.communities[cred.id]!

        // The measured session: open it, everyone joins by key, one round pairs all of them against the history.
        conn += 1
        let fac = conn
        var t = benchClock()
        let opened = send(.createRoom(.init(title: "Measured", name: "Fay", community: cred)), from: fac)
        let openLast = (benchClock() - t) * 1000
        let code = opened["room"]!.stringValue!
        var joinMs: [Double] = []
        for k in keys.indices {
            conn += 1
            t = benchClock()
            _ = send(.join(.init(code: code, communityKey: keys[k])), from: conn)
            joinMs.append((benchClock() - t) * 1000)
        }
        t = benchClock()
        _ = send(.startInterviews(settings), from: fac)
        let pairMs = (benchClock() - t) * 1000
        let room = c.rooms[code]!
        var repeats = 0
        for p in room.interviews.pairs {
            let ids = p.members.compactMap { room.members[$0]?.communityMember }
            for a in 0..<ids.count { for b in (a + 1)..<ids.count where community.met.contains(PairKey(ids[a], ids[b])) { repeats += 1 } }
        }
        joinMs.sort()
        func ms(_ v: Double) -> String { String(format: "%.2f", v) }
        print(
            "community: \(members) members, \(sessions) past sessions of \(attendees) attendees x \(rounds) rounds (built in \(String(format: "%.1f", buildSeconds)) s)"
        )
        print("  pairs met before: \(community.met.count), backlog: \(community.backlog.count) needs (\(community.openBacklog.count) open)")
        print("  open a session: \(ms(openLast)) ms (median over the past sessions \(ms(openMs.sorted()[openMs.count / 2])) ms)")
        print("  join by community key: median \(ms(joinMs[joinMs.count / 2])) ms, p99 \(ms(joinMs[joinMs.count * 99 / 100])) ms, max \(ms(joinMs.last!)) ms")
        print("  pair \(keys.count) members against the history: \(ms(pairMs)) ms, \(room.interviews.pairs.count) pairs, \(repeats) repeated")

        // The community home page and the directory over the whole roster (median of 21 each).
        let member = Community.Credentials(id: cred.id, key: keys[0], asMember: true)
        let someNeed = c.communities[cred.id]!.openBacklog.first?.id
        func median(_ command: Command) -> (ms: Double, reply: Value.Object) {
            var times: [Double] = []
            var reply: Value.Object = [:]
            for _ in 0..<21 {
                conn += 1
                let t = benchClock()
                reply = send(command, from: conn)
                times.append((benchClock() - t) * 1000)
            }
            return (times.sorted()[10], reply)
        }
        let byTag = median(.communityDirectory(member, .init(tag: "t1")))
        let forNeed = median(.communityDirectory(member, .init(need: someNeed)))
        let viewF = median(.communityView(cred))
        let viewM = median(.communityView(member))
        let edit = median(.communityProfile(member, .init(.init(bio: "bench"))))
        print(
            "  directory by tag: \(ms(byTag.ms)) ms (\(byTag.reply["total"]?.intValue ?? 0) found); for a need: \(ms(forNeed.ms)) ms (\(forNeed.reply["total"]?.intValue ?? 0) found)"
        )
        print("  community.view: facilitator (whole roster) \(ms(viewF.ms)) ms, member \(ms(viewM.ms)) ms; community.profile \(ms(edit.ms)) ms")
    }
}

/// Creates a community and imports `members` roster rows, 500 per request (a roster frame's worth); returns its
/// facilitator credentials and the members' personal keys in roster order.
func benchCommunity(
    members: Int, from conn: ConnectionID, send: (Command, ConnectionID) -> Value.Object, expertise: (Int) -> [String]
) -> (Community.Credentials, [String]) {
    let created = send(.createCommunity(name: "Bench community", createToken: nil), conn)
    let cred = Community.Credentials(id: created["community"]!.stringValue!, key: created["facilitatorKey"]!.stringValue!)
    var keys: [String] = []
    for start in stride(from: 0, to: members, by: 500) {
        let rows = (start..<min(members, start + 500)).map { i in Roster.Row(name: "Member \(i)", organization: "org\(i % 60)", expertise: expertise(i)) }
        let a = send(.importRoster(cred, .rows(rows)), conn)
        keys += (a["members"]?.arrayValue ?? []).compactMap { $0["communityKey"]?.stringValue }
    }
    return (cred, keys)
}
