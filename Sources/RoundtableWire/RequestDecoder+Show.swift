import RoundtableCore

/// Run-of-show requests: `agenda.set` (steps, or a whole activity file with an `agenda`), `agenda.next`,
/// `agenda.goto`, `wall.show`, `poll.reveal`, `room.clearAnnouncement`.
extension RequestDecoder {
    static func showCommand(_ type: String, _ f: Fields) throws(DomainError) -> Command {
        switch type {
        case "agenda.set":
            // Either {"steps": [...]} or an activity file {"activity": {"agenda": [...], "polls": [...]}}, whose
            // steps may name one of the file's polls by position (`pollIndex`).
            var source = f
            var key = "steps"
            var activityPolls: [Value] = []
            if let activity = try f.optionalObject("activity") {
                source = Fields(object: activity)
                key = "agenda"
                activityPolls = try source.optionalArray("polls", maxCount: 200) ?? []
            }
            guard let list = try source.optionalArray(key, maxCount: maxArray) else { throw .invalidField(key, "is required") }
            var steps: [AgendaStep] = []
            for (i, v) in list.enumerated() {
                guard let o = v.objectValue else { throw .invalidField("\(key)[\(i)]", "must be an object") }
                steps.append(try step(Fields(object: o), prefix: "\(key)[\(i)].", activityPolls: activityPolls))
            }
            return .setAgenda(steps)
        case "agenda.next": return .nextStep
        case "agenda.goto": return .gotoStep(try f.id("step"))
        case "wall.show":
            let name = try f.string("view")
            guard let view = WallView(rawValue: name) else {
                throw .invalidField("view", "must be one of \(WallView.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .showWall(Wall(view: view, poll: f.object["poll"] == nil ? nil : try f.id("poll")))
        case "poll.reveal": return .revealPoll(try f.id("poll"))
        default: return .clearAnnouncement
        }
    }

    static func step(_ f: Fields, prefix: String, activityPolls: [Value]) throws(DomainError) -> AgendaStep {
        func named(_ e: DomainError) -> DomainError {
            e.message.hasPrefix(prefix) ? e : DomainError(e.code, prefix + e.message)
        }
        do throws(DomainError) {
            let kindName = try f.string("kind")
            guard let kind = StepKind(rawValue: kindName) else {
                throw DomainError.invalidField("kind", "must be one of \(StepKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var s = AgendaStep(id: Int(try f.optionalInt("id") ?? 0), kind: kind, title: try f.optionalString("title") ?? "")
            if s.id < 0 || s.id >= Int(Int32.max) { s.id = 0 }
            s.text = try f.optionalString("text") ?? ""
            if let w = try f.optionalString("wall") {
                guard let view = WallView(rawValue: w) else {
                    throw DomainError.invalidField("wall", "must be one of \(WallView.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                s.wall = view
            }
            switch kind {
            case .poll, .pollOverNeeds:
                var def: Value.Object?
                if let i = try f.optionalInt("pollIndex") {
                    guard let o = activityPolls[safe: Int(i)]?.objectValue else {
                        throw DomainError.invalidField("pollIndex", "must be the position of one of the activity's polls (from 0)")
                    }
                    def = o
                } else if let o = f.object["poll"]?.objectValue {
                    def = o
                } else if f.object["poll"] != nil {
                    s.poll = try f.id("poll")
                } else {
                    def = try f.optionalObject("definition")
                }
                if var d = def {
                    if kind == .pollOverNeeds {
                        if d["kind"] == nil { d["kind"] = "ranking" }
                        d["overNeeds"] = true
                    }
                    s.definition = try pollDefinition(Fields(object: d), prefix: "definition.")
                }
            case .interviews:
                if let o = try f.optionalObject("interviews") {
                    do throws(DomainError) { s.interviews = try interviewSettings(Fields(object: o)) } catch {
                        throw DomainError(error.code, "interviews." + error.message)
                    }
                }
            case .groups:
                guard let o = try f.optionalObject("groups") else { throw DomainError.invalidField("groups", "is required for a groups step") }
                let g = Fields(object: o)
                var plan = GroupsPlan()
                if let n = try g.optionalInt("fromNeeds") {
                    guard (1...10_000).contains(n) else { throw DomainError.invalidField("groups.fromNeeds", "must be 1...10000") }
                    plan.fromNeeds = Int(n)
                }
                if let c = try g.optionalInt("capacity") {
                    guard (1...1_000_000).contains(c) else { throw DomainError.invalidField("groups.capacity", "must be 1...1000000") }
                    plan.capacity = Int(c)
                }
                if let m = try g.optionalString("mode") {
                    guard let mode = GroupMode(rawValue: m) else { throw DomainError.invalidField("groups.mode", "must be assigned or self-select") }
                    plan.mode = mode
                }
                for (i, v) in (try g.optionalArray("groups", maxCount: maxArray) ?? []).enumerated() {
                    guard let go = v.objectValue else { throw DomainError.invalidField("groups.groups[\(i)]", "must be an object") }
                    let gf = Fields(object: go)
                    let cap = try gf.optionalInt("capacity")
                    if let cap, cap < 1 || cap > 1_000_000 { throw DomainError.invalidField("groups.groups[\(i)].capacity", "must be 1...1000000") }
                    plan.groups.append(
                        .init(name: try gf.string("name"), description: try gf.optionalString("description") ?? "", capacity: cap.map { Int($0) }))
                }
                plan.assign = try g.optionalString("assign")
                s.groups = plan
            case .pause:
                let secs = try f.int("seconds")
                guard (1...86_400).contains(secs) else { throw DomainError.invalidField("seconds", "must be 1...86400") }
                s.seconds = Int(secs)
            case .welcome, .needsIntake, .announcement, .closing:
                break
            }
            return s
        } catch {
            throw named(error)
        }
    }
}

extension Array {
    fileprivate subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
