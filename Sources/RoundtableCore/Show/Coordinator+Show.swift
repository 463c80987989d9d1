/// The run of show: `agenda.set`, `agenda.next` / `agenda.goto` (one control that starts a step with its
/// settings), `wall.show`, `poll.reveal`, `room.clearAnnouncement`.
extension Coordinator {
    // MARK: agenda.set

    mutating func setAgenda(_ specs: [AgendaStep], ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        if specs.count > limits.maxAgendaSteps { throw .tooLarge("steps", limit: limits.maxAgendaSteps) }
        var next = room.show.nextStepID
        var used = Set<Int>()
        var steps: [AgendaStep] = []
        let locked = room.show.locked
        for (i, raw) in specs.enumerated() {
            // History is fixed once the session runs: a step run so far, or running now, keeps its place and settings.
            if locked.contains(raw.id), !used.contains(raw.id) {
                try checkLocked(raw, at: i, in: room)
                used.insert(raw.id)
                steps.append(room.show.steps[i])
                continue
            }
            var s = try checkedStep(raw, field: "steps[\(i)].", in: room)
            // Known ids are kept (the running step stays the running step); new steps get fresh ids.
            if s.id > 0 && s.id < room.show.nextStepID && !used.contains(s.id) {
                used.insert(s.id)
            } else {
                s.id = next
                next += 1
                used.insert(s.id)
            }
            steps.append(s)
        }
        for (i, old) in room.show.steps.enumerated() where locked.contains(old.id) && !used.contains(old.id) {
            throw DomainError("step_locked", "step \(i + 1) (\(old.title)) \(lockedState(old, in: room)) and cannot be removed")
        }
        var effects = commit(.show(.agendaSet(steps)), in: room.code, at: at)
        let full = rooms[room.code]!.show.agendaValue(full: true)
        // Other facilitators get the full definitions too (the event shows members titles only).
        let facilitatorConnections = facilitatorConnections(room.code).filter { $0 != c }
        if !facilitatorConnections.isEmpty {
            effects.append(.send(Notice(type: "agenda.full", body: ["room": .string(room.code), "agenda": full]), ref: nil, to: facilitatorConnections))
        }
        effects.append(.reply(.ack(["steps": .array(steps.map { Value($0.id) }), "agenda": full]), ref: ref, to: c))
        return effects
    }

    /// A locked step must come back at its old position with its old settings (as sent, or as checking makes them).
    private func checkLocked(_ raw: AgendaStep, at i: Int, in room: Room) throws(DomainError) {
        guard let from = room.show.steps.firstIndex(where: { $0.id == raw.id }) else { return }
        let old = room.show.steps[from]
        let state = lockedState(old, in: room)
        if from != i {
            throw DomainError("step_locked", "step \(from + 1) (\(old.title)) \(state) and cannot be moved; change only the steps after it")
        }
        let same = raw.fullValue == old.fullValue || (try? checkedStep(raw, field: "steps[\(i)].", in: room))?.fullValue == old.fullValue
        if !same { throw DomainError("step_locked", "step \(i + 1) (\(old.title)) \(state) and cannot be edited; change only the steps after it") }
    }

    private func lockedState(_ step: AgendaStep, in room: Room) -> String {
        step.id == room.show.running?.step ? "is running now" : "has already run"
    }

    /// Every connection of the room's facilitators.
    func facilitatorConnections(_ code: String) -> [ConnectionID] {
        let connections = runtime[code]?.connections ?? [:]
        return (rooms[code]?.facilitatorIDs ?? []).sorted().flatMap { connections[$0] ?? [] }
    }

    /// A step checked like the request it will make when it starts, so a bad setting is refused now.
    func checkedStep(_ raw: AgendaStep, field: String, in room: Room) throws(DomainError) -> AgendaStep {
        var s = raw
        s.title = try Self.text(s.title, field + "title", limit: limits.maxTitleLength)
        if s.title.isEmpty { s.title = s.kind.defaultTitle }
        s.text = try Self.text(s.text, field + "text", limit: limits.maxTextLength)
        switch s.kind {
        case .poll, .pollOverNeeds:
            if let id = s.poll {
                guard room.polls[id] != nil else { throw DomainError("poll_not_found", "\(field)poll: no poll has id \(id)") }
                s.definition = nil
            } else if var d = s.definition {
                if s.kind == .pollOverNeeds { d.overNeeds = true }
                s.definition = try checkedDefinition(d, field: field + "definition.", in: room).0
            } else {
                throw .invalidField(field + "definition", "a poll step needs a poll definition or the id of a poll (poll)")
            }
        case .interviews:
            var probe = s.interviews ?? InterviewSettings()
            let group = probe.group
            probe.group = nil // the group may come from an earlier step; checked when the step starts
            var checked = try checkedInterviewSettings(probe, in: room, field: field + "interviews.")
            checked.group = group
            s.interviews = checked
        case .groups:
            guard var plan = s.groups else { throw .invalidField(field + "groups", "a groups step needs groups or fromNeeds") }
            if let n = plan.fromNeeds {
                if !(1...limits.maxGroupsPerRoom).contains(n) { throw .invalidField(field + "groups.fromNeeds", "must be 1...\(limits.maxGroupsPerRoom)") }
                plan.groups = []
            } else {
                if plan.groups.isEmpty { throw .invalidField(field + "groups.groups", "must hold at least one group") }
                if plan.groups.count > limits.maxGroupsPerRoom { throw .tooLarge(field + "groups.groups", limit: limits.maxGroupsPerRoom) }
                for (i, g) in plan.groups.enumerated() {
                    plan.groups[i].name = try Self.text(g.name, field + "groups.groups[\(i)].name", limit: limits.maxTitleLength, required: true)
                    plan.groups[i].description = try Self.text(g.description, field + "groups.groups[\(i)].description", limit: limits.maxTextLength)
                    if let cap = g.capacity, !(1...1_000_000).contains(cap) {
                        throw .invalidField(field + "groups.groups[\(i)].capacity", "must be 1...1000000")
                    }
                }
            }
            if let cap = plan.capacity, !(1...1_000_000).contains(cap) { throw .invalidField(field + "groups.capacity", "must be 1...1000000") }
            if let a = plan.assign, GroupStrategy(rawValue: a) == nil {
                throw .invalidField(field + "groups.assign", "must be balanced, mixed-organizations or by-need")
            }
            s.groups = plan
        case .pause:
            guard let secs = s.seconds, (1...86_400).contains(secs) else { throw .invalidField(field + "seconds", "must be 1...86400") }
        case .announcement:
            if s.text.isEmpty { throw .invalidField(field + "text", "an announcement step needs its text") }
        case .welcome, .needsIntake, .closing:
            break
        }
        if s.kind != .pause { s.seconds = nil }
        if s.kind != .interviews { s.interviews = nil }
        if s.kind != .groups { s.groups = nil }
        if s.kind != .poll && s.kind != .pollOverNeeds { s.poll = nil; s.definition = nil }
        return s
    }

    // MARK: agenda.next, agenda.goto

    /// Starts a step (`id`), or the one after the running step (`nil`). All or nothing: the step's
    /// requests run on a copy of the coordinator, which replaces this one only when every one succeeded.
    mutating func startStep(_ id: Int?, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        let steps = room.show.steps
        let index: Int
        if let id {
            guard let i = steps.firstIndex(where: { $0.id == id }) else { throw DomainError("step_not_found", "no agenda step has id \(id)") }
            index = i
        } else {
            if steps.isEmpty { throw DomainError("agenda_end", "the agenda is empty: set one first (agenda.set)") }
            let i = room.show.currentIndex.map { $0 + 1 } ?? 0
            guard i < steps.count else { throw DomainError("agenda_end", "the last step is running; there is no next step") }
            index = i
        }
        var trial = self
        var effects = try trial.runStep(steps[index], in: room.code, from: c, at: at)
        self = trial
        effects.append(.reply(.ack(["step": Value(steps[index].id), "index": Value(index)]), ref: ref, to: c))
        return effects
    }

    /// The requests a step makes, as effects without their acks, then the `agenda.step` and `wall.changed` events.
    private mutating func runStep(_ step: AgendaStep, in code: String, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        var effects: [Effect] = []
        func quiet(_ list: [Effect]) -> [Effect] {
            list.filter { e in
                if case .reply(.ack, _, let to) = e, to == c { return false }
                return true
            }
        }
        // Leave the running step: what it started ends, unless the new step carries it on.
        if let run = rooms[code]!.show.running {
            if let p = run.poll, rooms[code]!.polls[p]?.state == .open, step.poll != p { effects += closePollOps(p, in: code, at: at) }
            if run.interviews && rooms[code]!.interviews.active && step.kind != .interviews { effects += commit(.interview(.ended), in: code, at: at) }
            if let t = run.timer, rooms[code]!.grouping.timers.contains(where: { $0.id == t }) { effects += commit(.groups(.timerEnded(t)), in: code, at: at) }
        }
        var run = StepRun(step: step.id, startedAt: at)
        switch step.kind {
        case .welcome, .needsIntake, .closing:
            break
        case .poll, .pollOverNeeds:
            if let id = step.poll {
                guard let p = rooms[code]!.polls[id] else { throw DomainError("poll_not_found", "no poll has id \(id)") }
                if p.state == .draft { effects += quiet(try openPoll(id, ref: nil, from: c, at: at)) }
                run.poll = id
            } else if let d = step.definition {
                effects += quiet(try createPolls([d], openNow: true, ref: nil, from: c, at: at))
                run.poll = rooms[code]!.nextPollID - 1
            }
        case .interviews:
            if rooms[code]!.interviews.active {
                effects += quiet(try nextInterviewRound(ref: nil, from: c, at: at))
            } else {
                effects += quiet(try startInterviews(step.interviews ?? InterviewSettings(), ref: nil, from: c, at: at))
            }
            run.interviews = true
        case .groups:
            let plan = step.groups ?? GroupsPlan()
            if let n = plan.fromNeeds {
                effects += quiet(try groupsFromNeeds(count: n, capacity: plan.capacity, ref: nil, from: c, at: at))
            } else {
                effects += quiet(try createGroups(plan.mode, plan.groups, ref: nil, from: c, at: at))
            }
            if let a = plan.assign { effects += quiet(try assignGroups(explicit: nil, strategy: a, ref: nil, from: c, at: at)) }
        case .pause:
            effects += quiet(try startTimer(seconds: step.seconds ?? 300, label: step.title, group: nil, ref: nil, from: c, at: at))
            run.timer = rooms[code]!.grouping.nextTimerID - 1
        case .announcement:
            effects += quiet(try announce(step.text, group: nil, ref: nil, from: c, at: at))
        }
        let wall = Wall(view: step.wall ?? step.kind.defaultWall, poll: run.poll)
        effects += commit(.show(.stepStarted(run, wall: wall)), in: code, at: at)
        return effects
    }

    // MARK: wall.show

    mutating func showWall(_ wall: Wall, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        if let id = wall.poll {
            let p = try poll(id, in: room)
            if p.state == .draft { throw DomainError("poll_not_open", "poll \(id) is a draft: open it before showing it") }
            if wall.view == .results && !membersMaySee(p) {
                throw DomainError("results_hidden", "members may not see the results of poll \(id) yet: reveal them first (poll.reveal)")
            }
        }
        var effects = commit(.show(.wallShown(wall)), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    // MARK: poll.reveal

    mutating func revealPoll(_ id: Int, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        let p = try poll(id, in: room)
        if p.state == .draft { throw DomainError("poll_not_open", "poll \(id) is a draft: there are no results to reveal") }
        if p.revealed { return [.reply(.ack(["poll": Value(id)]), ref: ref, to: c)] }
        var effects = commit(.show(.pollRevealed(id)), in: room.code, at: at)
        // Members get the results (and the ranking counts the poll) at the next flush.
        markPollDirty(room.code, id, overNeeds: p.definition.overNeeds)
        effects.append(.reply(.ack(["poll": Value(id)]), ref: ref, to: c))
        return effects
    }

    // MARK: room.clearAnnouncement

    mutating func clearAnnouncement(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, _) = try facilitator(c)
        guard room.show.announcement != nil else { return [.reply(.ok, ref: ref, to: c)] }
        var effects = commit(.show(.announcementCleared), in: room.code, at: at)
        effects.append(.reply(.ok, ref: ref, to: c))
        return effects
    }

    /// Agenda, wall and standing announcement as one member sees them in `room.state`.
    func showState(_ room: Room, for viewer: Member) -> Value.Object {
        var o: Value.Object = [
            "agenda": room.show.agendaValue(full: viewer.role == .facilitator), "wall": room.show.wall.value,
        ]
        if let a = room.show.announcement { o["announcement"] = a.value }
        return o
    }
}
