/// Needs: submitted by members, curated by facilitators.
extension Coordinator {
    mutating func submitNeed(text: String, tags: [String], ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (room, m) = try caller(c)
        if m.role == .observer { throw DomainError("not_allowed", "observers watch; they do not submit needs") }
        let text = try Self.text(text, "text", limit: limits.maxTextLength, required: true)
        let tags = try Self.tags(tags, "tags", limits: limits)
        if room.needs.count >= limits.maxNeedsPerRoom {
            throw DomainError("limit_reached", "this room already has its maximum of \(limits.maxNeedsPerRoom) needs")
        }
        let need = Need(id: room.nextNeedID, text: text, tags: tags, submitter: m.id, organization: m.organization, createdAt: at)
        var effects = commit(.needAdded(need), in: room.code, at: at)
        markRankingDirty(room.code)
        effects.append(.reply(.ack(["need": Value(need.id)]), ref: ref, to: c))
        return effects
    }

    mutating func editNeed(_ id: Int, text: String?, tags: [String]?, ref: Value?, from c: ConnectionID, at: Millis)
        throws(DomainError) -> [Effect]
    {
        let (room, _) = try facilitator(c)
        let need = try activeNeed(id, in: room)
        let newText = try text.map { s throws(DomainError) in try Self.text(s, "text", limit: limits.maxTextLength, required: true) } ?? need.text
        let newTags = try tags.map { t throws(DomainError) in try Self.tags(t, "tags", limits: limits) } ?? need.tags
        var effects = commit(.needEdited(id, text: newText, tags: newTags), in: room.code, at: at)
        markRankingDirty(room.code)
        effects.append(.reply(.ack(["need": Value(id)]), ref: ref, to: c))
        return effects
    }

    mutating func mergeNeeds(into: Int, from: [Int], ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (room, _) = try facilitator(c)
        _ = try activeNeed(into, in: room)
        let sources = Array(Set(from)).sorted()
        if sources.isEmpty { throw .invalidField("from", "must name at least one need") }
        if sources.contains(into) { throw .invalidField("from", "must not contain the target need") }
        for id in sources { _ = try activeNeed(id, in: room) }
        var effects = commit(.needsMerged(into: into, from: sources), in: room.code, at: at)
        markRankingDirty(room.code)
        for p in room.polls.values where p.definition.overNeeds && p.state != .draft { markPollDirty(room.code, p.id) }
        effects.append(.reply(.ack(["need": Value(into)]), ref: ref, to: c))
        return effects
    }

    mutating func removeNeed(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        _ = try activeNeed(id, in: room)
        var effects = commit(.needRemoved(id), in: room.code, at: at)
        markRankingDirty(room.code)
        for p in room.polls.values where p.definition.overNeeds && p.state != .draft { markPollDirty(room.code, p.id) }
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    func activeNeed(_ id: Int, in room: Room) throws(DomainError) -> Need {
        guard let n = room.needs[id], n.isActive else { throw DomainError("need_not_found", "no active need has id \(id)") }
        return n
    }

    mutating func markRankingDirty(_ code: String) {
        runtime[code, default: RoomRuntime(bufferLimit: limits.resumeBufferEvents)].rankingDirty = true
        dirtyRooms.insert(code)
    }

    mutating func markPollDirty(_ code: String, _ poll: Int, overNeeds known: Bool? = nil) {
        let overNeeds = known ?? (rooms[code]?.polls[poll]?.definition.overNeeds == true)
        // The `default:` subscript mutates in place; `runtime[code]?.…` would copy the runtime out and back.
        runtime[code, default: RoomRuntime(bufferLimit: limits.resumeBufferEvents)].markDirty(poll: poll, overNeeds: overNeeds)
        dirtyRooms.insert(code)
    }
}
