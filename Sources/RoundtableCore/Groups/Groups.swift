/// How members end up in groups: placed by the facilitator, or choosing for themselves.
public enum GroupMode: String, Sendable, Hashable {
    case assigned
    case selfSelect = "self-select"
}

/// A small working group of a room.
public struct Group: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var description: String
    /// Nil means no limit.
    public var capacity: Int?
    public var members: [MemberID] = []
    /// Set when the group was made from a ranked need (`groups.fromNeeds`).
    public var need: Int?
    /// The community's standing group this room group stands for (a session opened from a community with some).
    public var standing: Int?

    public init(id: Int, name: String, description: String = "", capacity: Int? = nil, need: Int? = nil) {
        self.id = id
        self.name = name
        self.description = description
        self.capacity = capacity
        self.need = need
    }

    public var isFull: Bool { capacity.map { members.count >= $0 } ?? false }

    public var value: Value {
        var o: Value.Object = [
            "id": Value(id), "name": .string(name), "description": .string(description),
            "members": .array(members.map { Value($0) }),
        ]
        if let capacity { o["capacity"] = Value(capacity) }
        if let need { o["need"] = Value(need) }
        if let standing { o["standing"] = Value(standing) }
        return .object(o)
    }

    init?(value v: Value) {
        guard let id = v["id"]?.intValue, let name = v["name"]?.stringValue else { return nil }
        self.init(
            id: Int(id), name: name, description: v["description"]?.stringValue ?? "",
            capacity: v["capacity"]?.intValue.map { Int($0) }, need: v["need"]?.intValue.map { Int($0) })
        members = v["members"]?.arrayValue?.compactMap { $0.intValue.map { Int($0) } } ?? []
        standing = v["standing"]?.intValue.map { Int($0) }
    }
}

/// A countdown for group work or an agenda item; when it ends members are called back.
public struct AgendaTimer: Sendable, Hashable {
    public var id: Int
    public var label: String
    public var endsAt: Millis
    /// Only this group's timer (e.g. breakout work); nil = the whole room.
    public var group: Int?

    var value: Value {
        var o: Value.Object = ["id": Value(id), "label": .string(label), "endsAt": .int(endsAt)]
        if let group { o["group"] = Value(group) }
        return .object(o)
    }

    init(id: Int, label: String, endsAt: Millis, group: Int?) {
        self.id = id
        self.label = label
        self.endsAt = endsAt
        self.group = group
    }

    init?(value v: Value) {
        guard let id = v["id"]?.intValue, let endsAt = v["endsAt"]?.intValue else { return nil }
        self.init(id: Int(id), label: v["label"]?.stringValue ?? "", endsAt: endsAt, group: v["group"]?.intValue.map { Int($0) })
    }
}

/// Groups and agenda of a room.
public struct Grouping: Sendable, Hashable {
    public var mode: GroupMode = .assigned
    public var groups: [Group] = []
    public var nextGroupID = 1
    /// Saved groupings by name: member → group name, re-applied later in the session.
    public var saved: [String: [MemberID: String]] = [:]
    public var timers: [AgendaTimer] = []
    public var nextTimerID = 1

    public init() {}

    public func group(of member: MemberID) -> Group? { groups.first { $0.members.contains(member) } }
}

/// Group and agenda state changes.
public enum GroupOp: Sendable, Hashable {
    case created(GroupMode, [Group])
    /// Moves members: `nil` takes a member out of every group.
    case membership([MemberID: Int?])
    case saved(name: String, [MemberID: String])
    case announced(text: String)
    case timerStarted(AgendaTimer)
    case timerEnded(Int)

    var value: Value {
        switch self {
        case .created(let mode, let groups):
            ["op": "gr.created", "mode": .string(mode.rawValue), "groups": .array(groups.map(\.value))]
        case .membership(let moves):
            ["op": "gr.members", "moves": .array(moves.keys.sorted().map { ["member": Value($0), "group": moves[$0]!.map { Value($0) } ?? .null] })]
        case .saved(let name, let map):
            ["op": "gr.saved", "name": .string(name), "map": .array(map.keys.sorted().map { ["member": Value($0), "group": .string(map[$0]!)] })]
        case .announced(let text): ["op": "gr.announced", "text": .string(text)]
        case .timerStarted(let t): ["op": "gr.timer", "timer": t.value]
        case .timerEnded(let id): ["op": "gr.timerEnded", "timer": Value(id)]
        }
    }

    init?(value v: Value) throws(OpDecodingError) {
        guard let kind = v["op"]?.stringValue, kind.hasPrefix("gr.") else { return nil }
        switch kind {
        case "gr.created":
            self = .created(
                GroupMode(rawValue: v["mode"]?.stringValue ?? "") ?? .assigned, v["groups"]?.arrayValue?.compactMap(Group.init(value:)) ?? [])
        case "gr.members":
            var moves: [MemberID: Int?] = [:]
            for m in v["moves"]?.arrayValue ?? [] {
                guard let id = m["member"]?.intValue else { continue }
                // `.some(nil)` is a removal; assigning nil would drop the key and lose it.
                moves[Int(id)] = .some(m["group"]?.intValue.map { Int($0) })
            }
            self = .membership(moves)
        case "gr.saved":
            var map: [MemberID: String] = [:]
            for m in v["map"]?.arrayValue ?? [] {
                if let id = m["member"]?.intValue, let g = m["group"]?.stringValue { map[Int(id)] = g }
            }
            self = .saved(name: v["name"]?.stringValue ?? "", map)
        case "gr.announced": self = .announced(text: v["text"]?.stringValue ?? "")
        case "gr.timer":
            guard let t = v["timer"].flatMap(AgendaTimer.init(value:)) else { throw OpDecodingError("gr.timer") }
            self = .timerStarted(t)
        case "gr.timerEnded":
            guard let id = v["timer"]?.intValue else { throw OpDecodingError("gr.timerEnded") }
            self = .timerEnded(Int(id))
        default: throw OpDecodingError("unknown op \(kind)")
        }
    }
}

extension Room {
    mutating func applyGroupOp(_ op: GroupOp, at: Millis) -> [RoomEvent] {
        switch op {
        case .created(let mode, let groups):
            grouping.mode = mode
            grouping.groups = groups
            grouping.nextGroupID = (groups.map(\.id).max() ?? 0) + 1
            return [event("groups.created", at, ["mode": .string(mode.rawValue), "groups": .array(groups.map(\.value))])]
        case .membership(let moves):
            var changed = Set<Int>()
            for (member, target) in moves.sorted(by: { $0.key < $1.key }) {
                for i in grouping.groups.indices where grouping.groups[i].members.contains(member) && grouping.groups[i].id != target {
                    grouping.groups[i].members.removeAll { $0 == member }
                    changed.insert(grouping.groups[i].id)
                }
                if let target, let i = grouping.groups.firstIndex(where: { $0.id == target }),
                    !grouping.groups[i].members.contains(member)
                {
                    grouping.groups[i].members.append(member)
                    changed.insert(target)
                }
            }
            return changed.sorted().compactMap { id in
                guard let g = grouping.groups.first(where: { $0.id == id }) else { return nil }
                return event("group.changed", at, ["group": Value(id), "members": .array(g.members.map { Value($0) })])
            }
        case .saved(let name, let map):
            grouping.saved[name] = map
            return [event("groups.saved", at, ["name": .string(name)])]
        case .announced(let text):
            return [event("room.announcement", at, ["text": .string(text)])]
        case .timerStarted(let t):
            grouping.timers.append(t)
            grouping.nextTimerID = max(grouping.nextTimerID, t.id + 1)
            return [event("timer.started", at, ["timer": t.value])]
        case .timerEnded(let id):
            guard let t = grouping.timers.first(where: { $0.id == id }) else { return [] }
            grouping.timers.removeAll { $0.id == id }
            return [
                event(
                    "timer.ended", at,
                    ["timer": t.value, "message": .string(t.group == nil ? "Time is up." : "Time is up: please come back to the plenary.")])
            ]
        }
    }
}
