import ArgumentParser
import Foundation
import RoundtableCore
import RoundtableServer
import RoundtableWire

/// What a join into a community session costs the server as the backlog grows: the session starts with the
/// open backlog as its needs (up to `maxNeedsPerRoom`), and every joiner's `room.state` carries them. Each join
/// is timed through the coordinator and the encoding of everything it sends (what the service thread does for
/// it, short of the socket writes), with the size of the joiner's `room.state`.
struct BenchCommunityJoin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "community-join",
        abstract: "Time joins into a community session whose backlog holds 0, 100, 1,000 needs.")

    @Option(help: "Backlog sizes to measure, comma-separated.") var backlogs = "0,100,1000"
    @Option(help: "Members on the roster; every one of them joins the measured session.") var members = 1_000
    @Option(help: "Expertise tags in use (each member declares two, each need one).") var tags = 30
    @Option(help: "limits.maxHelpersPerNeed (a very large value lists every helper, as before the cap).")
    var maxHelpers = Limits().maxHelpersPerNeed

    func run() throws {
        print("community-join: \(members) members join one session; per join: coordinator + encoding of every message it sends")
        print("| backlog | needs in the room | join median | p90 | max | mean over the last 100 | room.state bytes (last joiner) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for backlog in backlogs.split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            let r = measure(backlog: backlog)
            let ms = r.joinMs.sorted()
            func f(_ v: Double) -> String { String(format: "%.3f ms", v) }
            let tail = r.joinMs.suffix(100)
            print(
                "| \(backlog) | \(r.roomNeeds) | \(f(ms[ms.count / 2])) | \(f(ms[ms.count * 9 / 10])) | \(f(ms.last!)) | \(f(tail.reduce(0, +) / Double(tail.count))) | \(r.stateBytes) |"
            )
        }
    }

    struct Result {
        var roomNeeds = 0
        var joinMs: [Double] = []
        var stateBytes = 0
    }

    func measure(backlog: Int) -> Result {
        var c = makeCoordinator(seed: 5)
        c.limits.maxMembersPerCommunity = max(members, 1)
        c.limits.maxHelpersPerNeed = maxHelpers
        var now: Millis = 1_800_000_000_000
        var conn: ConnectionID = 1
        func send(_ command: Command, from: ConnectionID) -> Value.Object {
            now += 1
            return ack(c.handle(command, ref: nil, from: from, at: now))!
        }
        let (cred, keys) = benchCommunity(members: members, from: conn, send: send) { i in ["t\(i % tags)", "t\((i * 7 + 3) % tags)"] }
        // The backlog: one past session whose facilitator wrote the needs, closed (its needs go to the backlog).
        if backlog > 0 {
            conn += 1
            let fac = conn
            _ = send(.createRoom(.init(title: "Past", name: "Fay", community: cred)), from: fac)
            for n in 0..<backlog { _ = send(.submitNeed(text: "Backlog need number \(n)", tags: ["t\(n % tags)"]), from: fac) }
            _ = send(.closeRoom, from: fac)
        }
        conn += 1
        let code = send(.createRoom(.init(title: "Measured", name: "Fay", community: cred)), from: conn)["room"]!.stringValue!
        var r = Result(roomNeeds: c.rooms[code]!.needs.count)
        for k in keys {
            conn += 1
            now += 1
            let t = benchClock()
            let effects = c.handle(.join(.init(code: code, communityKey: k)), ref: nil, from: conn, at: now)
            var bytes = 0
            var stateBytes = 0
            for e in effects {
                switch e {
                case .journal(let entry): bytes += JournalOpEncoder.payload(entry).count
                case .broadcast(let event, _): bytes += MessageEncoder.encode(event).count
                case .reply(let reply, let ref, _): bytes += MessageEncoder.encode(reply, ref: ref).count
                case .send(let notice, let ref, _):
                    let n = MessageEncoder.encode(notice, ref: ref).count
                    if notice.type == "room.state" { stateBytes = n }
                    bytes += n
                default: break
                }
            }
            r.joinMs.append((benchClock() - t) * 1000)
            r.stateBytes = stateBytes
            precondition(bytes > 0)
        }
        return r
    }
}
