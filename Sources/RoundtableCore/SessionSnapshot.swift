/// Snapshot encoding of the interview session and the grouping of a room.
extension InterviewSession {
    var snapshotValue: Value {
        [
            "active": .bool(active), "settings": settings.value, "round": Value(round), "phase": .string(phase.rawValue),
            "phaseEndsAt": .int(phaseEndsAt), "pairs": .array(pairs.map(\.value)),
            "history": .array(history.sorted { ($0.a, $0.b) < ($1.a, $1.b) }.map { [Value($0.a), Value($0.b)] }),
            "waiting": .array(waiting.map { [Value($0.member), .int($0.since)] }), "unmet": Value(unmet),
            "nextPairID": Value(nextPairID), "notes": .array(notes.keys.sorted().map { notes[$0]!.value }),
            "nextNoteID": Value(nextNoteID),
        ]
    }

    init(snapshot v: Value) {
        self.init()
        active = v["active"]?.boolValue ?? false
        settings = InterviewSettings(value: v["settings"] ?? .null)
        round = Int(v["round"]?.intValue ?? 0)
        phase = v["phase"]?.stringValue.flatMap(InterviewPhase.init(rawValue:)) ?? .done
        phaseEndsAt = v["phaseEndsAt"]?.intValue ?? 0
        pairs = v["pairs"]?.arrayValue?.compactMap(InterviewPair.init(value:)) ?? []
        for h in v["history"]?.arrayValue ?? [] {
            if let a = h.arrayValue, a.count == 2, let x = a[0].intValue, let y = a[1].intValue { history.insert(PairKey(Int(x), Int(y))) }
        }
        for w in v["waiting"]?.arrayValue ?? [] {
            if let a = w.arrayValue, a.count == 2, let m = a[0].intValue, let s = a[1].intValue { waiting.append((Int(m), s)) }
        }
        unmet = Int(v["unmet"]?.intValue ?? 0)
        nextPairID = Int(v["nextPairID"]?.intValue ?? 1)
        for n in v["notes"]?.arrayValue ?? [] { if let note = InterviewNote(value: n) { notes[note.id] = note } }
        nextNoteID = Int(v["nextNoteID"]?.intValue ?? 1)
    }
}

extension Grouping {
    var snapshotValue: Value {
        [
            "mode": .string(mode.rawValue), "groups": .array(groups.map(\.value)), "nextGroupID": Value(nextGroupID),
            "saved": .object(
                Value.Object(
                    saved.keys.sorted().map { name in
                        (name, Value.array(saved[name]!.keys.sorted().map { [Value($0), .string(saved[name]![$0]!)] }))
                    })),
            "timers": .array(timers.map(\.value)), "nextTimerID": Value(nextTimerID),
        ]
    }

    init(snapshot v: Value) {
        self.init()
        mode = GroupMode(rawValue: v["mode"]?.stringValue ?? "") ?? .assigned
        groups = v["groups"]?.arrayValue?.compactMap(Group.init(value:)) ?? []
        nextGroupID = Int(v["nextGroupID"]?.intValue ?? 1)
        for (name, list) in v["saved"]?.objectValue ?? Value.Object() {
            var map: [MemberID: String] = [:]
            for e in list.arrayValue ?? [] {
                if let a = e.arrayValue, a.count == 2, let m = a[0].intValue, let g = a[1].stringValue { map[Int(m)] = g }
            }
            saved[name] = map
        }
        timers = v["timers"]?.arrayValue?.compactMap(AgendaTimer.init(value:)) ?? []
        nextTimerID = Int(v["nextTimerID"]?.intValue ?? 1)
    }
}
