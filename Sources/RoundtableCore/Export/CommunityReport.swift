/// A facilitator's report of one community, as JSON, CSV or Markdown: the sessions held, the needs backlog
/// with each need's rank in every session that polled it (the ranking trend), how many members declare each
/// expertise, and how many interview pairs have met. Pure: built from a `Community`, what the server knows of
/// each session room, and the time to stamp it with.
///
/// What it never contains, whatever the format: member keys or their digests, the facilitator key's digest,
/// member names or contact data (the roster is summarized as counts per expertise), ballots.
public struct CommunityReport: Sendable {
    /// What the community itself does not record about a session: the room's title and attendance.
    public struct SessionFacts: Sendable, Hashable {
        public var title: String
        /// People who joined as members (departed ones included: they attended); nil when the room could not be read.
        public var attendance: Int?

        public init(title: String, attendance: Int?) {
            self.title = title
            self.attendance = attendance
        }

        /// Attendance of a room: members who joined with the member role, departed or not.
        public init(room: Room) {
            self.init(title: room.title, attendance: room.members.values.filter { $0.role == .member }.count)
        }
    }

    public struct ExpertiseCount: Sendable, Hashable {
        public var tag: String
        public var members: Int
    }

    public let community: Community
    public let facts: [String: SessionFacts]
    public let generatedAt: Millis

    /// Version of the JSON layout; bumped when a field changes meaning or disappears.
    public static let format = "roundtable.community-report/1"

    public init(community: Community, sessions facts: [String: SessionFacts], generatedAt: Millis) {
        self.community = community
        self.facts = facts
        self.generatedAt = generatedAt
    }

    /// Backlog needs by id, so a need keeps its row across reports.
    public var needs: [BacklogNeed] { community.backlog.keys.sorted().map { community.backlog[$0]! } }

    /// Members per declared expertise, most declared first. Tags compare case-insensitively (members type them
    /// freely); the spelling shown is the first one in member-id order.
    public var expertise: [ExpertiseCount] {
        var counts: [String: (tag: String, members: Int)] = [:]
        for id in community.members.keys.sorted() {
            var seen = Set<String>()
            for tag in community.members[id]!.expertise {
                let key = tag.lowercased()
                guard !key.isEmpty, seen.insert(key).inserted else { continue }
                counts[key, default: (tag, 0)].members += 1
            }
        }
        return counts.values.map { ExpertiseCount(tag: $0.tag, members: $0.members) }
            .sorted { $0.members != $1.members ? $0.members > $1.members : $0.tag.lowercased() < $1.tag.lowercased() }
    }

    /// The need's rank in each session, in session order (nil: that session did not poll it).
    public func trend(_ need: BacklogNeed) -> [Int?] {
        community.sessions.map { s in need.rankings.last { $0.room == s.room }?.rank }
    }

    // MARK: JSON

    public var json: Value {
        var o: Value.Object = [:]
        o.appendUnchecked("format", .string(Self.format))
        o.appendUnchecked("generatedAt", .string(ExportText.isoTimestamp(generatedAt)))
        o.appendUnchecked(
            "community",
            [
                "id": .string(community.id), "name": .string(community.name),
                "createdAt": .string(ExportText.isoTimestamp(community.createdAt)), "members": Value(community.members.count),
                "listed": Value(listedCount),
            ])
        o.appendUnchecked("sessions", .array(community.sessions.map(sessionValue)))
        o.appendUnchecked("backlog", .array(needs.map(needValue)))
        // Standing groups by name with a member count: the report names no member.
        o.appendUnchecked(
            "standingGroups",
            .array(
                community.groups.map {
                    [
                        "id": Value($0.id), "name": .string($0.name), "description": .string($0.description),
                        "focus": .array($0.focus.map { Value($0) }), "members": Value($0.members.count),
                    ]
                }))
        o.appendUnchecked("expertise", .array(expertise.map { ["tag": .string($0.tag), "members": Value($0.members)] }))
        o.appendUnchecked("pairsMet", Value(community.met.count))
        return .object(o)
    }

    private func sessionValue(_ s: CommunitySession) -> Value {
        var o: Value.Object = [
            "room": .string(s.room), "openedAt": .string(ExportText.isoTimestamp(s.openedAt)),
            "title": .string(facts[s.room]?.title ?? ""), "attendance": facts[s.room]?.attendance.map { Value($0) } ?? .null,
        ]
        if let h = s.harvestedAt { o["harvestedAt"] = .string(ExportText.isoTimestamp(h)) }
        return .object(o)
    }

    private func needValue(_ n: BacklogNeed) -> Value {
        var o: Value.Object = [
            "need": Value(n.id), "text": .string(n.text), "tags": Value(n.tags), "status": .string(n.status.name),
            "firstRoom": .string(n.firstRoom),
            "rankings": .array(n.rankings.map { ["room": .string($0.room), "rank": Value($0.rank), "score": .double($0.score)] }),
        ]
        if case .merged(let into) = n.status { o["mergedInto"] = Value(into) }
        if let owner = n.owner { o["owner"] = Value(owner) }
        return .object(o)
    }

    /// Members in the directory (`listed`).
    public var listedCount: Int { community.members.values.lazy.filter(\.listed).count }

    /// The name of the standing group that owns a need ("" when none).
    func ownerName(_ n: BacklogNeed) -> String { n.owner.flatMap { id in community.groups.first { $0.id == id }?.name } ?? "" }

    // MARK: CSV

    /// Fixed columns; one `rank ROOM` column per session follows, in session order.
    public static let csvColumns = ["need", "text", "tags", "status", "owner", "first session"]

    /// One row per backlog need with its rank in each session (empty: not polled there). UTF-8 with a byte
    /// order mark, RFC 4180 quoting, CRLF line ends, member-typed text guarded against formulas.
    public var csv: String {
        var out = ExportText.byteOrderMark
        out += ExportText.csvRecord(Self.csvColumns + community.sessions.map { "rank \($0.room)" })
        for n in needs {
            var status = n.status.name
            if case .merged(let into) = n.status { status += " into \(into)" }
            out += ExportText.csvRecord(
                [
                    String(n.id), ExportText.csvText(n.text), ExportText.csvText(n.tags.joined(separator: "; ")), status,
                    ExportText.csvText(ownerName(n)), n.firstRoom,
                ]
                    + trend(n).map { $0.map(String.init) ?? "" })
        }
        return out
    }

    // MARK: Markdown

    /// A summary a facilitator can paste into minutes.
    public var markdown: String {
        var out = "# \(ExportText.markdownCell(community.name.isEmpty ? "Community \(community.id)" : community.name))\n\n"
        out += "Community \(ExportText.markdownCell(community.id)) · created \(ExportText.readableTimestamp(community.createdAt))"
        out += " · report generated \(ExportText.readableTimestamp(generatedAt))\n\n"
        let sessions = community.sessions.count
        out += "\(community.members.count) members · \(sessions) session\(sessions == 1 ? "" : "s") · \(community.backlog.count) needs"
        out += " · \(community.met.count) interview pair\(community.met.count == 1 ? "" : "s") met"
        out += " · \(listedCount) in the directory\n\n"

        out += "## Sessions\n\n"
        if community.sessions.isEmpty {
            out += "No sessions yet.\n\n"
        } else {
            let rows = community.sessions.enumerated().map { i, s in
                [
                    String(i + 1), ExportText.readableTimestamp(s.openedAt), facts[s.room]?.title ?? "", s.room,
                    facts[s.room]?.attendance.map(String.init) ?? "unknown",
                ]
            }
            out += ExportText.markdownTable(["Session", "Date", "Title", "Room", "Attendance"], rows, alignRight: [0, 4]) + "\n"
        }

        out += "## Needs backlog\n\n"
        if community.backlog.isEmpty {
            out += "No needs yet.\n\n"
        } else {
            // Session columns are numbered like the sessions table: room codes would make the table too wide.
            let header = ["Need", "Status"] + community.sessions.indices.map { "S\($0 + 1)" }
            let rows = needs.map { n in
                // Words for minutes: "in progress", not the protocol's `in_progress` (which Markdown would escape).
                var status = n.status.name.replacing("_", with: " ")
                if case .merged(let into) = n.status { status += " into \(into)" }
                let owner = ownerName(n)
                if !owner.isEmpty { status += " · " + owner }
                return [n.text, status] + trend(n).map { $0.map(String.init) ?? "–" }
            }
            out += ExportText.markdownTable(header, rows, alignRight: Set(2..<header.count))
            out += "\nS1, S2, …: the need's rank in each session's poll over needs (–: not polled there).\n\n"
        }

        out += "## Standing groups\n\n"
        if community.groups.isEmpty {
            out += "No standing groups yet.\n\n"
        } else {
            let rows = community.groups.map { g in
                [g.name, g.focus.compactMap { community.backlog[$0]?.text }.joined(separator: "; "), String(g.members.count)]
            }
            out += ExportText.markdownTable(["Group", "Focus", "Members"], rows, alignRight: [2]) + "\n"
        }

        out += "## Expertise\n\n"
        let expertise = expertise
        if expertise.isEmpty {
            out += "Nobody has declared expertise yet.\n\n"
        } else {
            out += ExportText.markdownTable(["Expertise", "Members"], expertise.map { [$0.tag, String($0.members)] }, alignRight: [1]) + "\n"
        }

        out += "## Interviews\n\n\(community.met.count) distinct pair\(community.met.count == 1 ? "" : "s") of members have met in interviews.\n"
        return out
    }
}
