// libFuzzer target: one input = a session. Lines are frames; the first byte of a line picks the
// connection (1...4) or, when it is '!', a disconnect, '~' a tick. The rest goes through
// RequestDecoder into a Coordinator. Room codes, keys and tokens are deterministic (seeded entropy),
// and "@R" in a frame is replaced with the first room's code so joins can succeed.
//
// Checks: exactly one ack/error per request, room seq == events emitted, and the journal replays
// into identical rooms.

struct FuzzHasher: SecretHasher {
    func digest(_ secret: String) -> String {
        var out = ""
        for lane in 0..<4 as Range<UInt64> {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (lane &* 0x9E37_79B9_7F4A_7C15)
            for b in secret.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            h ^= h >> 33; h &*= 0xff51_afd7_ed55_8ccd; h ^= h >> 33
            let hex = String(h, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func sessionFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = Limits()
    limits.maxRooms = 3
    limits.maxMembersPerRoom = 6
    limits.maxNeedsPerRoom = 10
    limits.maxPollsPerRoom = 8
    limits.maxOptionsPerPoll = 5
    limits.resumeBufferEvents = 8
    var c = Coordinator(limits: limits, entropy: SeededEntropy(seed: 7), hasher: FuzzHasher())
    var now: Millis = 1_800_000_000_000
    var journal: [JournalEntry] = []
    var events: [String: Set<UInt64>] = [:]
    var firstRoom: String?
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).prefix(64) {
        now += 700
        var effects: [Effect] = []
        var from: ConnectionID?
        switch line.first! {
        case UInt8(ascii: "!"): effects = c.disconnected(ConnectionID(line.count % 4 + 1), at: now)
        case UInt8(ascii: "~"):
            now += Millis(line.count) * 10_000
            effects = c.tick(at: now)
        default:
            var frame = Array(line.dropFirst())
            if let room = firstRoom, let i = frame.firstRange(of: Array("@R".utf8)) { frame.replaceSubrange(i, with: Array(room.utf8)) }
            let conn = ConnectionID(line.first! % 4 + 1)
            let request: Request
            do throws(RejectedFrame) { request = try RequestDecoder.decode(frame) } catch { continue }
            from = conn
            effects = c.handle(request.command, ref: request.ref, from: conn, at: now)
        }
        var replies = 0
        for e in effects {
            switch e {
            case .journal(let j): journal.append(j)
            case .broadcast(let ev, _): events[ev.room, default: []].insert(ev.seq)
            case .reply(let r, _, let to):
                precondition(from != nil && to == from!, "reply outside a request")
                replies += 1
                if firstRoom == nil, case .ack(let body) = r, let room = body["room"]?.stringValue { firstRoom = room }
            default: break
            }
        }
        precondition(from == nil || replies == 1, "\(replies) replies to one request")
        for (code, room) in c.rooms {
            precondition(UInt64(events[code]?.count ?? 0) == room.seq, "room \(code): seq \(room.seq) != events \(events[code]?.count ?? 0)")
        }
    }
    var fresh = Coordinator(limits: limits, entropy: SeededEntropy(seed: 1), hasher: FuzzHasher())
    for j in journal {
        do throws(OpDecodingError) { try fresh.replay(j) } catch { preconditionFailure("replay failed: \(error)") }
    }
    for (code, live) in c.rooms {
        precondition(fresh.rooms[code]?.snapshotValue == live.snapshotValue, "room \(code): replay differs")
    }
    return 0
}
