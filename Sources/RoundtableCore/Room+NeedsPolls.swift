/// How needs and polls change a room. Called by `Room.apply`; infallible like every op.
extension Room {
    mutating func applyNeedOp(_ op: RoomOp, at: Millis) -> [RoomEvent] {
        switch op {
        case .needAdded(let n):
            needs[n.id] = n
            nextNeedID = max(nextNeedID, n.id + 1)
            return [event("need.added", at, ["need": n.publicValue(showOrganization: settings.showNeedOrganization)])]
        case .needEdited(let id, let text, let tags):
            guard var n = needs[id] else { return [] }
            n.text = text
            n.tags = tags
            needs[id] = n
            return [event("need.updated", at, ["need": n.publicValue(showOrganization: settings.showNeedOrganization)])]
        case .needsMerged(let into, let from):
            guard var target = needs[into] else { return [] }
            for id in from where id != into {
                guard var n = needs[id], n.isActive else { continue }
                n.status = .merged(into: into)
                needs[id] = n
                target.mergedFrom.append(id)
                // Tags of duplicates carry over so "who could help" still finds them.
                for t in n.tags where !target.tags.contains(t) { target.tags.append(t) }
            }
            needs[into] = target
            for pid in polls.keys where polls[pid]!.definition.overNeeds { polls[pid]!.mergeOptions(from, into: into) }
            return [
                event(
                    "need.merged", at,
                    [
                        "into": Value(into), "from": .array(from.map { Value($0) }),
                        "need": target.publicValue(showOrganization: settings.showNeedOrganization),
                    ])
            ]
        case .needRemoved(let id):
            guard var n = needs[id] else { return [] }
            n.status = .removed
            needs[id] = n
            for pid in polls.keys where polls[pid]!.definition.overNeeds { polls[pid]!.removeOption(id) }
            return [event("need.removed", at, ["need": Value(id)])]
        default:
            return []
        }
    }

    mutating func applyPollOp(_ op: RoomOp, at: Millis) -> [RoomEvent] {
        switch op {
        case .pollCreated(let id, let def, let options):
            polls[id] = Poll(id: id, definition: def, options: options, createdAt: at)
            nextPollID = max(nextPollID, id + 1)
            // Prepared questions stay private until opened: the room only learns a draft exists.
            return [event("poll.created", at, ["poll": ["id": Value(id), "state": "draft"]])]
        case .pollOpened(let id, let options):
            guard var p = polls[id] else { return [] }
            if p.definition.overNeeds { p.setOptions(options) }
            p.state = .open
            p.openedAt = at
            polls[id] = p
            return [event("poll.opened", at, ["poll": pollSummary(id)])]
        case .pollClosed(let id):
            guard var p = polls[id] else { return [] }
            p.state = .closed
            p.closedAt = at
            p.voterKey = nil
            polls[id] = p
            return [event("poll.closed", at, ["poll": pollSummary(id)])]
        case .voteCast(let id, let voter, let ballot):
            _ = polls.inPlace(id) { $0.cast(ballot, by: voter) }
            return []
        case .voteRetracted(let id, let voter):
            _ = polls.inPlace(id) { $0.retract(voter) }
            return []
        default:
            return []
        }
    }

    /// Needs members still work with, oldest first.
    public var activeNeeds: [Need] {
        needs.values.filter(\.isActive).sorted { $0.id < $1.id }
    }

    /// A poll as members see it (definition, state, options with labels); never ballots.
    public func pollSummary(_ id: Int) -> Value {
        guard let p = polls[id] else { return .null }
        var o: Value.Object = ["id": Value(id), "state": .string(p.state.rawValue)]
        if case .object(let d) = p.definition.value { for (k, v) in d where k != "options" { o[k] = v } }
        if p.definition.kind != .open {
            o["options"] = .array(
                p.options.map { oid in
                    let label = p.definition.overNeeds ? (needs[oid]?.text ?? "") : p.definition.labels[safe: oid - 1] ?? ""
                    return ["id": Value(oid), "label": .string(label)]
                })
        }
        if let t = p.openedAt { o["openedAt"] = .int(t) }
        if let t = p.closedAt { o["closedAt"] = .int(t) }
        if p.revealed { o["revealed"] = true }
        return .object(o)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
