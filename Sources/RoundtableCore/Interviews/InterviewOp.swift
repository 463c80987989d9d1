/// Interview state changes, journaled like every other op.
public enum InterviewOp: Sendable, Hashable {
    case started(InterviewSettings)
    case round(number: Int, pairs: [InterviewPair], endsAt: Millis, unmet: Int)
    case phase(InterviewPhase, endsAt: Millis)
    /// A new pair, or a pair that became a trio (same id).
    case pairSet(InterviewPair)
    case waiting(MemberID, since: Millis?)
    case ended
    case note(InterviewNote)
    case highlightAccepted(Int)

    var value: Value {
        switch self {
        case .started(let s): ["op": "iv.started", "settings": s.value]
        case .round(let n, let pairs, let endsAt, let unmet):
            ["op": "iv.round", "round": Value(n), "pairs": .array(pairs.map(\.value)), "endsAt": .int(endsAt), "unmet": Value(unmet)]
        case .phase(let p, let endsAt): ["op": "iv.phase", "phase": .string(p.rawValue), "endsAt": .int(endsAt)]
        case .pairSet(let p): ["op": "iv.pair", "pair": p.value]
        case .waiting(let m, let since): ["op": "iv.waiting", "member": Value(m), "since": since.map(Value.int) ?? .null]
        case .ended: ["op": "iv.ended"]
        case .note(let n): ["op": "iv.note", "note": n.value]
        case .highlightAccepted(let id): ["op": "iv.accepted", "note": Value(id)]
        }
    }

    init?(value v: Value) throws(OpDecodingError) {
        guard let kind = v["op"]?.stringValue, kind.hasPrefix("iv.") else { return nil }
        switch kind {
        case "iv.started": self = .started(InterviewSettings(value: v["settings"] ?? .null))
        case "iv.round":
            self = .round(
                number: Int(v["round"]?.intValue ?? 0), pairs: v["pairs"]?.arrayValue?.compactMap(InterviewPair.init(value:)) ?? [],
                endsAt: v["endsAt"]?.intValue ?? 0, unmet: Int(v["unmet"]?.intValue ?? 0))
        case "iv.phase":
            guard let p = v["phase"]?.stringValue.flatMap(InterviewPhase.init(rawValue:)) else { throw OpDecodingError("iv.phase") }
            self = .phase(p, endsAt: v["endsAt"]?.intValue ?? 0)
        case "iv.pair":
            guard let p = v["pair"].flatMap(InterviewPair.init(value:)) else { throw OpDecodingError("iv.pair") }
            self = .pairSet(p)
        case "iv.waiting":
            guard let m = v["member"]?.intValue else { throw OpDecodingError("iv.waiting") }
            self = .waiting(Int(m), since: v["since"]?.intValue)
        case "iv.ended": self = .ended
        case "iv.note":
            guard let n = v["note"].flatMap(InterviewNote.init(value:)) else { throw OpDecodingError("iv.note") }
            self = .note(n)
        case "iv.accepted":
            guard let id = v["note"]?.intValue else { throw OpDecodingError("iv.accepted") }
            self = .highlightAccepted(Int(id))
        default: throw OpDecodingError("unknown op \(kind)")
        }
    }
}

extension Room {
    mutating func applyInterviewOp(_ op: InterviewOp, at: Millis) -> [RoomEvent] {
        switch op {
        case .started(let s):
            interviews = InterviewSession()
            interviews.active = true
            interviews.settings = s
            return [event("interviews.started", at, ["settings": s.value])]
        case .round(let n, let pairs, let endsAt, let unmet):
            interviews.round = n
            interviews.pairs = pairs
            interviews.phase = .firstTurn
            interviews.phaseEndsAt = endsAt
            interviews.unmet = unmet
            interviews.waiting = []
            interviews.nextPairID = (pairs.map(\.id).max() ?? 0) + 1
            for p in pairs { interviews.remember(p.members) }
            return [
                event(
                    "interviews.round", at,
                    [
                        "round": Value(n), "pairs": Value(pairs.count), "unmet": Value(unmet), "phase": .string(InterviewPhase.firstTurn.rawValue),
                        "endsAt": .int(endsAt),
                    ])
            ]
        case .phase(let p, let endsAt):
            interviews.phase = p
            interviews.phaseEndsAt = endsAt
            return [event("interview.phase", at, ["round": Value(interviews.round), "phase": .string(p.rawValue), "endsAt": .int(endsAt)])]
        case .pairSet(let p):
            // Whoever is in this pair leaves any other pair (a rematch, or a trio formed from a waiting member);
            // a pair left with one member is dissolved, so that member waits for a partner when they come back.
            for i in interviews.pairs.indices where interviews.pairs[i].id != p.id {
                interviews.pairs[i].members.removeAll { p.members.contains($0) }
            }
            // Someone left alone by this change waits for a new partner (paired at the next tick if online).
            for lone in interviews.pairs where lone.id != p.id && lone.members.count == 1 {
                if !interviews.waiting.contains(where: { $0.member == lone.members[0] }) { interviews.waiting.append((lone.members[0], at)) }
            }
            interviews.pairs.removeAll { $0.id != p.id && $0.members.count < 2 }
            if let i = interviews.pairs.firstIndex(where: { $0.id == p.id }) {
                interviews.pairs[i] = p
            } else {
                interviews.pairs.append(p)
            }
            interviews.nextPairID = max(interviews.nextPairID, p.id + 1)
            interviews.waiting.removeAll { p.members.contains($0.member) }
            interviews.remember(p.members)
            return [event("interview.paired", at, ["round": Value(interviews.round), "pair": Value(p.id), "size": Value(p.members.count)])]
        case .waiting(let m, let since):
            interviews.waiting.removeAll { $0.member == m }
            if let since { interviews.waiting.append((m, since)) }
            return []
        case .ended:
            interviews.active = false
            interviews.phase = .done
            interviews.phaseEndsAt = at // clients showing a countdown see it over, not a stale deadline
            interviews.pairs = []
            interviews.waiting = []
            return [event("interviews.ended", at, ["rounds": Value(interviews.round)])]
        case .note(let n):
            interviews.notes[n.id] = n
            interviews.nextNoteID = max(interviews.nextNoteID, n.id + 1)
            guard n.shared else { return [] }
            return [
                event("interview.highlight", at, ["highlight": Value(n.id), "author": Value(n.author), "about": Value(n.about), "text": .string(n.text)])
            ]
        case .highlightAccepted(let id):
            guard var n = interviews.notes[id], n.shared, !n.accepted, var m = members[n.about] else { return [] }
            n.accepted = true
            interviews.notes[id] = n
            m.highlights.append(n.text)
            members[m.id] = m
            return [event("member.updated", at, ["member": m.profile(online: online.contains(m.id))])]
        }
    }
}
