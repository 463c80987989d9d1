/// A facilitator's report of one room, as JSON, CSV or Markdown. Pure: built from a `Room` value and
/// the time to stamp it with, so the server (live state) and `roundtable export` (a recovered data
/// folder) produce identical documents.
///
/// What a report never contains, whatever the format:
/// - a member id, name or pseudonym next to an anonymous poll's ballot: anonymous polls appear only as
///   aggregate results and counts (open answers without authors), never ballot by ballot;
/// - who submitted a need (the protocol never shows it; the organization only when the room shows it);
/// - private interview notes, or shared ones the member has not accepted as highlights;
/// - secrets or their digests (facilitator key, member tokens, voter keys).
///
/// Named polls (`anonymous: false`) list each member's ballot, in the JSON report only: the facilitator
/// chose a named poll, and the CSV and Markdown documents are the ones that get forwarded.
public struct RoomReport: Sendable {
    public let room: Room
    public let generatedAt: Millis
    /// The facilitator's ranking, computed once for all three formats.
    public let ranking: [RankedNeed]

    /// Version of the JSON layout; bumped when a field changes meaning or disappears.
    public static let format = "roundtable.report/1"

    public init(room: Room, generatedAt: Millis) {
        self.room = room
        self.generatedAt = generatedAt
        self.ranking = room.facilitatorRanking
    }

    // MARK: JSON

    /// Everything a facilitator may see of the room, as one JSON document.
    public var json: Value {
        var o: Value.Object = [:]
        o.appendUnchecked("format", .string(Self.format))
        o.appendUnchecked("generatedAt", .string(ExportText.isoTimestamp(generatedAt)))
        o.appendUnchecked("room", roomValue)
        o.appendUnchecked("members", .array(room.currentMembers.map(memberValue)))
        o.appendUnchecked(
            "expertise",
            .array(
                expertiseDirectory.map { e in
                    ["tag": .string(e.tag), "members": .array(e.members.map { Value($0.id) })]
                }))
        o.appendUnchecked("needs", .array(ranking.map(rankedNeedValue)))
        o.appendUnchecked("otherNeeds", .array(otherNeedsValue))
        o.appendUnchecked("polls", .array(room.polls.keys.sorted().compactMap { room.polls[$0].map(pollValue) }))
        o.appendUnchecked("interviews", interviewsValue)
        o.appendUnchecked("groups", groupsValue)
        return .object(o)
    }

    private var roomValue: Value {
        var o: Value.Object = [
            "code": .string(room.code), "title": .string(room.title),
            "createdAt": .string(ExportText.isoTimestamp(room.createdAt)), "settings": room.settings.value,
            "seq": .int(Int64(clamping: room.seq)), "members": Value(room.currentMemberCount),
            "departedMembers": Value(room.members.count - room.currentMemberCount),
            "activeNeeds": Value(room.activeNeeds.count), "polls": Value(room.polls.count),
        ]
        // Absent while the session runs: results may still change.
        if let closedAt = room.closedAt { o["closedAt"] = .string(ExportText.isoTimestamp(closedAt)) }
        return .object(o)
    }

    private func memberValue(_ m: Member) -> Value {
        [
            "id": Value(m.id), "name": .string(m.name), "organization": .string(m.organization),
            "role": .string(m.role.rawValue), "expertise": Value(m.expertise), "bio": .string(m.bio),
            "highlights": Value(m.highlights), "joinedAt": .string(ExportText.isoTimestamp(m.joinedAt)),
        ]
    }

    private func rankedNeedValue(_ r: RankedNeed) -> Value {
        let need = room.needs[r.need]
        var o: Value.Object = [
            "rank": Value(r.rank), "need": Value(r.need), "text": .string(need?.text ?? ""),
            "tags": Value(need?.tags ?? []), "score": .double(r.score), "low": .double(r.low), "high": .double(r.high),
            "support": Value(r.support), "polls": Value(r.polls), "tied": .bool(r.tied),
        ]
        if let need {
            if room.settings.showNeedOrganization && !need.organization.isEmpty { o["organization"] = .string(need.organization) }
            if !need.mergedFrom.isEmpty { o["mergedFrom"] = .array(need.mergedFrom.map { Value($0) }) }
            if let p = need.fromPoll { o["fromPoll"] = Value(p) }
            o["helpers"] = .array(room.helpers(for: need).map { ["id": Value($0.id), "name": .string($0.name)] })
        } else {
            o["helpers"] = []
        }
        return .object(o)
    }

    /// Merged and removed needs, so the facilitator can see what collapsed into what.
    private var otherNeedsValue: [Value] {
        room.needs.values.filter { !$0.isActive }.sorted { $0.id < $1.id }.map { n in
            var o: Value.Object = ["need": Value(n.id), "text": .string(n.text), "tags": Value(n.tags)]
            switch n.status {
            case .merged(let into):
                o["status"] = "merged"
                o["into"] = Value(into)
            case .removed: o["status"] = "removed"
            case .active: o["status"] = "active"
            }
            return .object(o)
        }
    }

    private func pollValue(_ p: Poll) -> Value {
        var o: Value.Object = [
            "id": Value(p.id), "question": .string(p.definition.question), "state": .string(p.state.rawValue),
            "definition": p.definition.value, "createdAt": .string(ExportText.isoTimestamp(p.createdAt)),
        ]
        if let t = p.openedAt { o["openedAt"] = .string(ExportText.isoTimestamp(t)) }
        if let t = p.closedAt { o["closedAt"] = .string(ExportText.isoTimestamp(t)) }
        if p.definition.kind != .open {
            o["options"] = .array(p.options.map { ["id": Value($0), "label": .string(room.optionLabel(p, $0))] })
        }
        if p.state != .draft { o["results"] = resultsValue(p) }
        o["responses"] = responsesValue(p)
        if !p.definition.anonymous {
            // Named polls only: the facilitator asked for names when creating the poll (see the type's doc).
            o["votes"] = .array(
                namedVotes(p).map { v in
                    var b = v.ballot.value
                    b["member"] = Value(v.member.id)
                    b["name"] = .string(v.member.name)
                    return .object(b)
                })
        }
        return .object(o)
    }

    private func resultsValue(_ p: Poll) -> Value {
        let r = p.tally.results()
        var o: Value.Object = [
            "method": .string(r.method.rawValue), "ballots": Value(r.ballots), "final": .bool(p.state == .closed),
        ]
        o["options"] = .array(
            r.options.map { x in
                [
                    "rank": Value(x.rank), "option": Value(x.option), "label": .string(room.optionLabel(p, x.option)),
                    "score": .double(x.score), "low": .double(x.low), "high": .double(x.high), "support": Value(x.support),
                    "tied": .bool(x.tied),
                ]
            })
        if p.definition.kind == .open {
            o["answers"] = .array(r.answers.map { ["text": .string($0.text), "count": Value($0.count)] })
        }
        return .object(o)
    }

    /// Counts only for anonymous polls; for named ones also who has answered and who has not.
    private func responsesValue(_ p: Poll) -> Value {
        let eligible = room.currentMembers.filter { $0.role != .observer }
        var o: Value.Object = ["ballots": Value(p.ballots.count), "eligible": Value(eligible.count)]
        if !p.definition.anonymous {
            let waiting = eligible.filter { p.ballots["m\($0.id)"] == nil }
            o["answered"] = Value(eligible.count - waiting.count)
            o["waiting"] = .array(waiting.map { Value($0.id) })
        }
        return .object(o)
    }

    /// A named poll's ballots with their members, by member id. Empty for anonymous polls, always:
    /// their ballots are keyed by pseudonyms, and even those never leave the server.
    func namedVotes(_ p: Poll) -> [(member: Member, ballot: Ballot)] {
        guard !p.definition.anonymous else { return [] }
        return p.ballots.compactMap { key, ballot -> (Member, Ballot)? in
            guard key.hasPrefix("m"), let id = Int(key.dropFirst()), let m = room.members[id] else { return nil }
            return (m, ballot)
        }.sorted { $0.0.id < $1.0.id }
    }

    private var interviewsValue: Value {
        let s = room.interviews
        let name = { (id: MemberID) -> Value in .string(self.room.members[id]?.name ?? "") }
        let history = s.history.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
        // Pairings and accepted highlights only: interview notes stay with their author and partner.
        return [
            "active": .bool(s.active), "rounds": Value(s.round), "strategy": .string(s.settings.strategy.rawValue),
            "pairs": .array(
                s.pairs.map { p in
                    ["id": Value(p.id), "members": .array(p.members.map { Value($0) }), "names": .array(p.members.map(name))]
                }),
            "history": .array(
                history.map { k in
                    ["members": [Value(k.a), Value(k.b)], "names": [name(k.a), name(k.b)]]
                }),
        ]
    }

    private var groupsValue: Value {
        let g = room.grouping
        return [
            "mode": .string(g.mode.rawValue),
            "groups": .array(
                g.groups.map { gr in
                    var o: Value.Object = [
                        "id": Value(gr.id), "name": .string(gr.name), "description": .string(gr.description),
                        "members": .array(gr.members.map { Value($0) }),
                        "names": .array(gr.members.map { .string(room.members[$0]?.name ?? "") }),
                    ]
                    if let c = gr.capacity { o["capacity"] = Value(c) }
                    if let n = gr.need { o["need"] = Value(n) }
                    return .object(o)
                }),
            "saved": Value(g.saved.keys.sorted()),
        ]
    }

    // MARK: Directory

    /// Each expertise tag with the current members who claim it, tags in alphabetical order.
    public var expertiseDirectory: [(tag: String, members: [Member])] {
        var byTag: [String: [Member]] = [:]
        for m in room.currentMembers {
            for t in m.expertise { byTag[t, default: []].append(m) }
        }
        return byTag.keys.sorted().map { ($0, byTag[$0]!) }
    }

    // MARK: CSV

    /// The CSV header, in column order.
    public static let csvColumns = ["rank", "need", "text", "score", "low", "high", "support", "polls", "helpers"]

    /// The ranked needs, one row each: UTF-8 with a byte order mark, RFC 4180 quoting, CRLF line ends.
    /// Helpers are names separated by "; ". Scores have six decimals.
    public var csv: String {
        var out = ExportText.byteOrderMark + ExportText.csvRecord(Self.csvColumns)
        for r in ranking {
            let need = room.needs[r.need]
            let helpers = need.map { room.helpers(for: $0).map(\.name) } ?? []
            out += ExportText.csvRecord([
                String(r.rank), String(r.need), ExportText.csvText(need?.text ?? ""),
                ExportText.fixed(r.score), ExportText.fixed(r.low), ExportText.fixed(r.high),
                String(r.support), String(r.polls), ExportText.csvText(helpers.joined(separator: "; ")),
            ])
        }
        return out
    }

    // MARK: Markdown

    /// A readable summary: ranked needs, each poll's results, the expertise directory, groups.
    public var markdown: String {
        var out = "# \(ExportText.markdownCell(room.title.isEmpty ? "Room \(room.code)" : room.title))\n\n"
        out += "Room \(ExportText.markdownCell(room.code)) · created \(ExportText.readableTimestamp(room.createdAt))"
        if let closedAt = room.closedAt { out += " · session closed \(ExportText.readableTimestamp(closedAt)) (results are final)" }
        out += " · report generated \(ExportText.readableTimestamp(generatedAt))\n\n"
        out += "\(room.currentMemberCount) members · \(room.activeNeeds.count) needs · \(room.polls.count) polls\n\n"

        out += "## Ranked needs\n\n"
        if ranking.isEmpty {
            out += "No needs yet.\n\n"
        } else {
            let rows = ranking.map { r -> [String] in
                let need = room.needs[r.need]
                let helpers = need.map { room.helpers(for: $0).map(\.name) } ?? []
                return [
                    String(r.rank), need?.text ?? "", ExportText.fixed(r.score, 3),
                    "\(ExportText.fixed(r.low, 3))–\(ExportText.fixed(r.high, 3))", String(r.support), String(r.polls),
                    helpers.joined(separator: ", "),
                ]
            }
            out += ExportText.markdownTable(
                ["Rank", "Need", "Score", "Interval", "Support", "Polls", "Who could help"], rows, alignRight: [0, 2, 4, 5])
            out += "\nScores are 0–1 (1 = the top need of every poll that covers it); needs no poll has covered yet rank last.\n\n"
        }

        out += "## Polls\n\n"
        if room.polls.isEmpty { out += "No polls.\n\n" }
        for id in room.polls.keys.sorted() {
            guard let p = room.polls[id] else { continue }
            out += "### Poll \(id): \(ExportText.markdownCell(p.definition.question))\n\n"
            let r = p.tally.results()
            out += "\(p.definition.kind.rawValue) · \(p.state.rawValue) · \(p.definition.anonymous ? "anonymous" : "named")"
            out += " · \(r.method.rawValue) · \(p.ballots.count) ballot\(p.ballots.count == 1 ? "" : "s")\n\n"
            if p.state == .draft {
                out += "Not opened yet.\n\n"
            } else if p.definition.kind == .open {
                out +=
                    r.answers.isEmpty
                    ? "No answers.\n\n"
                    : ExportText.markdownTable(["Answer", "Count"], r.answers.map { [$0.text, String($0.count)] }, alignRight: [1]) + "\n"
            } else {
                let rows = r.options.map { x in
                    [
                        String(x.rank), room.optionLabel(p, x.option), ExportText.fixed(x.score, 3),
                        "\(ExportText.fixed(x.low, 3))–\(ExportText.fixed(x.high, 3))", String(x.support),
                    ]
                }
                out += ExportText.markdownTable(["Rank", "Option", "Score", "Interval", "Support"], rows, alignRight: [0, 2, 4]) + "\n"
            }
        }

        out += "## Expertise directory\n\n"
        let directory = expertiseDirectory
        if directory.isEmpty {
            out += "Nobody has listed expertise yet.\n\n"
        } else {
            out +=
                ExportText.markdownTable(
                    ["Expertise", "Members"],
                    directory.map { e in [e.tag, e.members.map { memberLabel($0) }.joined(separator: ", ")] }) + "\n"
        }
        let highlighted = room.currentMembers.filter { !$0.highlights.isEmpty }
        if !highlighted.isEmpty {
            out += "### Highlights\n\n"
            out +=
                ExportText.markdownTable(
                    ["Member", "Highlights"], highlighted.map { [memberLabel($0), $0.highlights.joined(separator: "; ")] }) + "\n"
        }

        if !room.grouping.groups.isEmpty {
            out += "## Groups\n\n"
            out +=
                ExportText.markdownTable(
                    ["Group", "Members"],
                    room.grouping.groups.map { g in
                        [g.name, g.members.compactMap { room.members[$0].map(memberLabel) }.joined(separator: ", ")]
                    }) + "\n"
        }
        if room.interviews.round > 0 {
            out += "## Interviews\n\n\(room.interviews.round) round\(room.interviews.round == 1 ? "" : "s"), "
            out += "\(room.interviews.history.count) distinct pairs met (\(room.interviews.settings.strategy.rawValue)).\n\n"
        }
        return out
    }

    private func memberLabel(_ m: Member) -> String {
        m.organization.isEmpty ? m.name : "\(m.name) (\(m.organization))"
    }
}
