/// The facilitator's run of show: an ordered agenda of steps, the step running now, what the wall
/// (projector) shows, and the standing announcement. Durable room state, changed only by `ShowOp`s.

/// What kind of moment a step is; each kind knows what starting it does (`Coordinator+Show.swift`).
public enum StepKind: String, Sendable, Hashable, CaseIterable {
    case welcome
    case needsIntake = "needs-intake"
    case poll
    case pollOverNeeds = "poll-over-needs"
    case interviews
    case groups
    case pause = "break"
    case announcement
    case closing

    /// What the wall shows while a step of this kind runs, unless the step says otherwise.
    public var defaultWall: WallView {
        switch self {
        case .welcome: .join
        case .needsIntake: .needs
        case .poll, .pollOverNeeds: .poll
        case .interviews: .interviews
        case .groups: .groups
        case .pause: .timer
        case .announcement: .announcement
        case .closing: .closing
        }
    }

    public var defaultTitle: String {
        switch self {
        case .welcome: "Welcome"
        case .needsIntake: "Share your needs"
        case .poll: "Poll"
        case .pollOverNeeds: "Prioritize the needs"
        case .interviews: "Appreciative interviews"
        case .groups: "Working groups"
        case .pause: "Break"
        case .announcement: "Announcement"
        case .closing: "Closing: the ranked needs"
        }
    }
}

/// What the wall screen (`/r/CODE?view=projector`) shows.
public enum WallView: String, Sendable, Hashable, CaseIterable {
    case join, poll, results, needs, interviews, groups, timer, announcement, closing
}

/// The wall's choice: a view, and for `poll` / `results` optionally which poll (else the latest one).
public struct Wall: Sendable, Hashable {
    public var view: WallView
    public var poll: Int?
    public init(view: WallView, poll: Int? = nil) {
        self.view = view
        self.poll = poll
    }

    public var value: Value {
        var o: Value.Object = ["view": .string(view.rawValue)]
        if let poll { o["poll"] = Value(poll) }
        return .object(o)
    }

    init(value v: Value?) {
        view = v?["view"]?.stringValue.flatMap(WallView.init(rawValue:)) ?? .join
        poll = v?["poll"]?.intValue.map { Int($0) }
    }
}

/// How a `groups` step forms groups: from the top-ranked needs, or from a list (then optionally assigns).
public struct GroupsPlan: Sendable, Hashable {
    /// Set: the top `fromNeeds` needs become self-select groups (`groups.fromNeeds`).
    public var fromNeeds: Int?
    public var capacity: Int?
    public var mode: GroupMode = .selfSelect
    public var groups: [Coordinator.GroupSpec] = []
    /// A `groups.assign` strategy applied right after the groups are created.
    public var assign: String?
    public init() {}

    var value: Value {
        var o: Value.Object = ["mode": .string(mode.rawValue)]
        if let fromNeeds { o["fromNeeds"] = Value(fromNeeds) }
        if let capacity { o["capacity"] = Value(capacity) }
        if !groups.isEmpty {
            o["groups"] = .array(
                groups.map { g in
                    var x: Value.Object = ["name": .string(g.name), "description": .string(g.description)]
                    if let c = g.capacity { x["capacity"] = Value(c) }
                    return .object(x)
                })
        }
        if let assign { o["assign"] = .string(assign) }
        return .object(o)
    }

    init(value v: Value) {
        fromNeeds = v["fromNeeds"]?.intValue.map { Int($0) }
        capacity = v["capacity"]?.intValue.map { Int($0) }
        mode = v["mode"]?.stringValue.flatMap(GroupMode.init(rawValue:)) ?? .selfSelect
        groups = (v["groups"]?.arrayValue ?? []).map {
            Coordinator.GroupSpec(
                name: $0["name"]?.stringValue ?? "", description: $0["description"]?.stringValue ?? "",
                capacity: $0["capacity"]?.intValue.map { Int($0) })
        }
        assign = v["assign"]?.stringValue
    }
}

/// One step of the agenda. Which fields matter depends on `kind`.
public struct AgendaStep: Sendable, Hashable {
    /// Given by the server (1, 2, … per room, never reused); 0 in a request means "new step".
    public var id: Int
    public var kind: StepKind
    public var title: String
    /// Welcome words, the needs prompt, the announcement text, closing words.
    public var text: String = ""
    /// `poll` / `poll-over-needs`: a poll already in the room (a draft it opens) …
    public var poll: Int?
    /// … or a poll definition it creates and opens.
    public var definition: PollDefinition?
    /// `interviews`: the session settings (defaults when nil).
    public var interviews: InterviewSettings?
    /// `groups`: how the groups are formed.
    public var groups: GroupsPlan?
    /// `break`: the timer's length.
    public var seconds: Int?
    /// What the wall shows during the step, when not the kind's default.
    public var wall: WallView?

    public init(id: Int = 0, kind: StepKind, title: String = "") {
        self.id = id
        self.kind = kind
        self.title = title
    }

    /// The step as facilitators see it (and as the journal keeps it): everything.
    public var fullValue: Value {
        guard case .object(var o) = publicValue else { return .null }
        if !text.isEmpty { o["text"] = .string(text) } // (public kinds already have it: same value)
        if let poll { o["poll"] = Value(poll) }
        if let definition { o["definition"] = definition.value }
        if let interviews { o["interviews"] = interviews.value }
        if let groups { o["groups"] = groups.value }
        return .object(o)
    }

    /// The step as members see it before it runs: no prepared poll questions, prompts or texts.
    public var publicValue: Value {
        var o: Value.Object = ["id": Value(id), "kind": .string(kind.rawValue), "title": .string(title)]
        if let seconds { o["seconds"] = Value(seconds) }
        if let wall { o["wall"] = .string(wall.rawValue) }
        // Welcome words, the needs prompt and closing words are for everyone; an announcement's text waits for its step.
        if !text.isEmpty && (kind == .welcome || kind == .needsIntake || kind == .closing) { o["text"] = .string(text) }
        return .object(o)
    }

    init(journal v: Value) throws(OpDecodingError) {
        guard let id = v["id"]?.intValue, let kind = v["kind"]?.stringValue.flatMap(StepKind.init(rawValue:)) else {
            throw OpDecodingError("agenda step: missing id or kind")
        }
        self.init(id: Int(id), kind: kind, title: v["title"]?.stringValue ?? "")
        text = v["text"]?.stringValue ?? ""
        poll = v["poll"]?.intValue.map { Int($0) }
        if let d = v["definition"] { definition = try PollDefinition(value: d) }
        if let s = v["interviews"] { interviews = InterviewSettings(value: s) }
        if let g = v["groups"] { groups = GroupsPlan(value: g) }
        seconds = v["seconds"]?.intValue.map { Int($0) }
        wall = v["wall"]?.stringValue.flatMap(WallView.init(rawValue:))
    }
}

/// What the running step started, so moving on can end it (close its poll, end its interviews, stop its timer).
public struct StepRun: Sendable, Hashable {
    public var step: Int
    public var startedAt: Millis
    public var poll: Int?
    public var timer: Int?
    public var interviews = false

    var value: Value {
        var o: Value.Object = ["step": Value(step), "startedAt": .int(startedAt), "interviews": .bool(interviews)]
        if let poll { o["poll"] = Value(poll) }
        if let timer { o["timer"] = Value(timer) }
        return .object(o)
    }

    init(step: Int, startedAt: Millis, poll: Int? = nil, timer: Int? = nil, interviews: Bool = false) {
        self.step = step
        self.startedAt = startedAt
        self.poll = poll
        self.timer = timer
        self.interviews = interviews
    }

    init?(value v: Value?) {
        guard let v, let step = v["step"]?.intValue else { return nil }
        self.init(
            step: Int(step), startedAt: v["startedAt"]?.intValue ?? 0, poll: v["poll"]?.intValue.map { Int($0) },
            timer: v["timer"]?.intValue.map { Int($0) }, interviews: v["interviews"]?.boolValue ?? false)
    }
}

/// The room-wide announcement that stays up (on the wall and for late joiners) until cleared or replaced.
public struct StandingAnnouncement: Sendable, Hashable {
    public var text: String
    public var at: Millis
    var value: Value { ["text": .string(text), "at": .int(at)] }
}

/// The run of show of a room.
public struct RunOfShow: Sendable, Hashable {
    public var steps: [AgendaStep] = []
    public var nextStepID = 1
    /// The step running now (nil before the first `agenda.next`).
    public var running: StepRun?
    /// Every step started so far: with the running one, they are history, locked against edits (`step_locked`).
    public var ran: Set<Int> = []
    public var wall = Wall(view: .join)
    public var announcement: StandingAnnouncement?
    public init() {}

    public var currentIndex: Int? { running.flatMap { r in steps.firstIndex { $0.id == r.step } } }

    /// The steps `agenda.set` must leave in place and unchanged: those run so far and the running one,
    /// once the session has started (before the first step everything is still a plan).
    public var locked: Set<Int> {
        guard let r = running else { return [] }
        return ran.union([r.step])
    }

    /// The agenda as one viewer sees it: every step's full definition for facilitators, titles for others.
    public func agendaValue(full: Bool) -> Value {
        var o: Value.Object = ["steps": .array(steps.map { full ? $0.fullValue : $0.publicValue })]
        if let r = running {
            o["current"] = Value(r.step)
            o["startedAt"] = .int(r.startedAt)
            if let p = r.poll { o["poll"] = Value(p) }
        }
        // Facilitators' editors grey out what `agenda.set` would refuse with `step_locked`.
        if full && running != nil { o["locked"] = .array(locked.sorted().map { Value($0) }) }
        return .object(o)
    }

    var snapshotValue: Value {
        var o: Value.Object = [
            "steps": .array(steps.map(\.fullValue)), "nextStepID": Value(nextStepID), "wall": wall.value,
        ]
        if let running { o["running"] = running.value }
        if !ran.isEmpty { o["ran"] = .array(ran.sorted().map { Value($0) }) }
        if let announcement { o["announcement"] = announcement.value }
        return .object(o)
    }

    init(snapshot v: Value) throws(OpDecodingError) {
        var steps: [AgendaStep] = []
        for s in v["steps"]?.arrayValue ?? [] { steps.append(try AgendaStep(journal: s)) }
        self.steps = steps
        nextStepID = Int(v["nextStepID"]?.intValue ?? 1)
        running = StepRun(value: v["running"])
        if let list = v["ran"]?.arrayValue {
            ran = Set(list.compactMap { $0.intValue.map { Int($0) } })
        } else if let i = currentIndex {
            // A snapshot from before `ran` was kept: the steps up to the running one are the best guess.
            ran = Set(steps[...i].map(\.id))
        }
        wall = Wall(value: v["wall"])
        if let a = v["announcement"], let t = a["text"]?.stringValue { announcement = StandingAnnouncement(text: t, at: a["at"]?.intValue ?? 0) }
    }
}

/// Run-of-show state changes.
public enum ShowOp: Sendable, Hashable {
    /// The agenda replaced (new steps already carry their ids).
    case agendaSet([AgendaStep])
    /// A step started; what it started, and what the wall shows now.
    case stepStarted(StepRun, wall: Wall)
    case wallShown(Wall)
    /// Members may see this poll's results from now on, whatever its visibility.
    case pollRevealed(Int)
    case announcementCleared

    var value: Value {
        switch self {
        case .agendaSet(let steps): ["op": "show.agenda", "steps": .array(steps.map(\.fullValue))]
        case .stepStarted(let run, let wall): ["op": "show.step", "run": run.value, "wall": wall.value]
        case .wallShown(let wall): ["op": "show.wall", "wall": wall.value]
        case .pollRevealed(let id): ["op": "show.reveal", "poll": Value(id)]
        case .announcementCleared: ["op": "show.clearAnnouncement"]
        }
    }

    init?(value v: Value) throws(OpDecodingError) {
        guard let kind = v["op"]?.stringValue, kind.hasPrefix("show.") else { return nil }
        switch kind {
        case "show.agenda":
            var steps: [AgendaStep] = []
            for s in v["steps"]?.arrayValue ?? [] { steps.append(try AgendaStep(journal: s)) }
            self = .agendaSet(steps)
        case "show.step":
            guard let run = StepRun(value: v["run"]) else { throw OpDecodingError("show.step: missing run") }
            self = .stepStarted(run, wall: Wall(value: v["wall"]))
        case "show.wall": self = .wallShown(Wall(value: v["wall"]))
        case "show.reveal":
            guard let id = v["poll"]?.intValue else { throw OpDecodingError("show.reveal: missing poll") }
            self = .pollRevealed(Int(id))
        case "show.clearAnnouncement": self = .announcementCleared
        default: throw OpDecodingError("unknown op \(kind)")
        }
    }
}

extension Room {
    mutating func applyShowOp(_ op: ShowOp, at: Millis) -> [RoomEvent] {
        switch op {
        case .agendaSet(let steps):
            show.steps = steps
            show.nextStepID = max(show.nextStepID, (steps.map(\.id).max() ?? 0) + 1)
            if let r = show.running, !steps.contains(where: { $0.id == r.step }) { show.running = nil }
            show.ran.formIntersection(steps.map(\.id))
            return [event("agenda.changed", at, ["agenda": show.agendaValue(full: false)])]
        case .stepStarted(let run, let wall):
            show.running = run
            show.ran.insert(run.step)
            show.wall = wall
            let step = show.steps.first { $0.id == run.step }
            var payload: Value.Object = ["current": Value(run.step), "startedAt": .int(run.startedAt)]
            if let step { payload["step"] = step.publicValue }
            if let p = run.poll { payload["poll"] = Value(p) }
            return [event("agenda.step", at, payload), event("wall.changed", at, ["wall": wall.value])]
        case .wallShown(let wall):
            show.wall = wall
            return [event("wall.changed", at, ["wall": wall.value])]
        case .pollRevealed(let id):
            guard polls[id] != nil, polls[id]?.revealed == false else { return [] }
            polls[id]!.revealed = true
            return [event("poll.revealed", at, ["poll": Value(id)])]
        case .announcementCleared:
            show.announcement = nil
            return [event("room.announcementCleared", at, [:])]
        }
    }
}
