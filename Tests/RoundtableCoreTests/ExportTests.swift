import Testing

@testable import RoundtableCore

/// The facilitator exports: CSV and Markdown encoding, the JSON layout, agreement with the live ranking,
/// and anonymity (no member next to an anonymous ballot in any format).
@Suite struct ExportTests {
    // MARK: Building blocks

    @Test func csvQuotesOnlyWhenNeeded() {
        #expect(ExportText.csvField("plain text") == "plain text")
        #expect(ExportText.csvField("a,b") == "\"a,b\"")
        #expect(ExportText.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ExportText.csvField("two\nlines") == "\"two\nlines\"")
        #expect(ExportText.csvField("crlf\r\ninside") == "\"crlf\r\ninside\"")
        #expect(ExportText.csvField("") == "")
        #expect(ExportText.csvRecord(["1", "x,y", "z"]) == "1,\"x,y\",z\r\n")
    }

    @Test func csvNeutralizesFormulas() {
        #expect(ExportText.csvText("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")")
        #expect(ExportText.csvText("+1") == "'+1")
        #expect(ExportText.csvText("-cmd") == "'-cmd")
        #expect(ExportText.csvText("@SUM(A1)") == "'@SUM(A1)")
        #expect(ExportText.csvText("Grants") == "Grants")
    }

    @Test func fixedAndTimestamps() {
        #expect(ExportText.fixed(0.5) == "0.500000")
        #expect(ExportText.fixed(2.0 / 3.0, 3) == "0.667")
        #expect(ExportText.fixed(-1.25, 2) == "-1.25")
        #expect(ExportText.fixed(-0.0000001, 3) == "0.000")
        #expect(ExportText.fixed(12, 0) == "12")
        #expect(ExportText.isoTimestamp(0) == "1970-01-01T00:00:00.000Z")
        #expect(ExportText.isoTimestamp(1_795_940_309_569) == "2026-11-29T08:18:29.569Z")
        #expect(ExportText.isoTimestamp(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(ExportText.isoTimestamp(-1) == "1969-12-31T23:59:59.999Z")
        #expect(ExportText.readableTimestamp(1_795_940_309_569) == "2026-11-29 08:18 UTC")
    }

    @Test func markdownCellsCannotBreakTheTable() {
        #expect(ExportText.markdownCell("a | b") == "a \\| b")
        #expect(ExportText.markdownCell("line\none\r\ntwo") == "line one two")
        #expect(ExportText.markdownCell("<script>") == "\\<script\\>")
        #expect(ExportText.markdownCell("[x](http://e)") == "\\[x\\](http://e)")
        let table = ExportText.markdownTable(["A", "B"], [["1", "x|y"], ["2"]])
        let lines = table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1] == "| --- | --- |")
        for line in lines { #expect(Self.cells(line) == 2) }
    }

    // MARK: A room through the coordinator

    /// Facilitator (member 1) and members 2...4 with expertise; needs; an anonymous ranking poll over
    /// needs, a named single-choice poll, and an anonymous open poll — all with ballots.
    struct Fixture {
        var h = Harness()
        var code = ""
        var anonymousPoll = 0
        var namedPoll = 0
        var openPoll = 0
        var pseudonyms: [String] = []

        init() {
            // Pseudonyms are the first 32 digest characters; the readable TestHasher would make them collide.
            h.coordinator = Coordinator(entropy: SeededEntropy(seed: 42), hasher: MixingHasher())
            let (code, _, _) = h.createRoom()
            self.code = code
            h.join(2, code, "Ann", org: "Food Bank")
            h.join(3, code, "Bo", org: "Shelter, Inc.")
            h.join(4, code, "Cy \"the fixer\"", org: "Clinic")
            h.send(2, .updateMember(.init(expertise: ["grants", "data"])))
            h.send(3, .updateMember(.init(expertise: ["volunteers"])))
            h.send(4, .updateMember(.init(expertise: ["grants"])))
            _ = h.send(2, .submitNeed(text: "Federal grants, \"fast\"", tags: ["grants"]))
            _ = h.send(3, .submitNeed(text: "Keeping volunteers\nengaged", tags: ["volunteers"]))
            _ = h.send(4, .submitNeed(text: "=cmd|' /C calc'!A0", tags: []))
            anonymousPoll = Int(h.send(1, .createPoll(.init(question: "Rank the needs", kind: .ranking, overNeeds: true), openNow: true))["poll"]!.intValue!)
            namedPoll = Int(
                h.send(1, .createPoll(.init(question: "Lunch?", kind: .single, labels: ["Pizza", "Salad | soup"], anonymous: false), openNow: true))["poll"]!
                    .intValue!)
            openPoll = Int(h.send(1, .createPoll(.init(question: "Anything else?", kind: .open), openNow: true))["poll"]!.intValue!)
            for (c, order) in [(2, [1, 2, 3]), (3, [2, 1]), (4, [1, 3, 2])] as [(ConnectionID, [Int])] {
                h.send(c, .castVote(poll: anonymousPoll, ballot: ["ranking": .array(order.map { Value($0) })]))
            }
            h.send(2, .castVote(poll: namedPoll, ballot: ["option": 1]))
            h.send(3, .castVote(poll: namedPoll, ballot: ["option": 2]))
            h.send(2, .castVote(poll: openPoll, ballot: ["text": "More peer calls"]))
            h.send(4, .castVote(poll: openPoll, ballot: ["text": "more peer calls "]))
            // While open, anonymous ballots are keyed by pseudonyms: none may leak into an export.
            pseudonyms = room.polls[anonymousPoll]!.ballots.keys.sorted() + room.polls[openPoll]!.ballots.keys.sorted()
        }

        var room: Room { h.coordinator.rooms[code]! }
        var report: RoomReport { RoomReport(room: room, generatedAt: 1_795_940_309_569) }
    }

    @Test func fixtureIsWhatTheTestsAssume() {
        let f = Fixture()
        #expect(f.room.polls[f.anonymousPoll]!.ballots.count == 3)
        #expect(f.room.polls[f.namedPoll]!.ballots.count == 2)
        #expect(f.pseudonyms.count == 5)
        #expect(f.pseudonyms.allSatisfy { !$0.hasPrefix("m") })
    }

    @Test func rankingMatchesTheLiveNeedsRanking() {
        let f = Fixture()
        let live = f.h.coordinator.rankingValue(f.room, forFacilitator: true)["needs"]!.arrayValue!
        let ours = f.report.ranking
        #expect(live.count == ours.count)
        for (l, r) in zip(live, ours) {
            #expect(l["need"]?.intValue == Int64(r.need))
            #expect(l["rank"]?.intValue == Int64(r.rank))
            #expect(l["score"]?.doubleValue == r.score)
            #expect(l["support"]?.intValue == Int64(r.support))
            let liveHelpers = l["helpers"]?.arrayValue?.compactMap(\.intValue) ?? []
            let need = f.room.needs[r.need]!
            let all = f.room.helpers(for: need).map { Int64($0.id) }
            #expect(liveHelpers == Array(all.prefix(f.h.coordinator.limits.maxHelpersPerNeed)))
            #expect(l["helperCount"]?.intValue == Int64(all.count))
        }
    }

    @Test func csvHasBomHeaderCrlfAndOneRowPerRankedNeed() {
        let f = Fixture()
        let csv = f.report.csv
        #expect(csv.hasPrefix("\u{FEFF}rank,need,text,score,low,high,support,polls,helpers\r\n"))
        let rows = Self.parseCSV(String(csv.dropFirst()))
        #expect(rows.count == 1 + f.report.ranking.count)
        #expect(rows.allSatisfy { $0.count == RoomReport.csvColumns.count })
        for (row, r) in zip(rows.dropFirst(), f.report.ranking) {
            #expect(row[0] == String(r.rank))
            #expect(row[1] == String(r.need))
            let text = f.room.needs[r.need]!.text
            #expect(row[2] == ExportText.csvText(text))
            #expect(abs(Double(row[3])! - r.score) < 1e-6)
            #expect(row[6] == String(r.support))
        }
        // The quoted need survives a round trip, newline and quotes included.
        #expect(rows.contains { $0[2] == "Federal grants, \"fast\"" && $0[8] == "Ann; Cy \"the fixer\"" })
        #expect(rows.contains { $0[2] == "Keeping volunteers\nengaged" })
        #expect(rows.contains { $0[2].hasPrefix("'=cmd") })
        // Every line break between records is CRLF (breaks inside quoted fields are data).
        let outside = Array(csv.removingQuotedFields().unicodeScalars)
        #expect(outside.indices.allSatisfy { outside[$0] != "\n" || ($0 > 0 && outside[$0 - 1] == "\r") })
        #expect(outside.filter { $0 == "\n" }.count == rows.count)
    }

    @Test func markdownHasTablesOfConsistentShape() {
        let f = Fixture()
        let md = f.report.markdown
        #expect(md.hasPrefix("# Launch\n"))
        #expect(md.contains("2026-11-29 08:18 UTC"))
        for section in ["## Ranked needs", "## Polls", "### Poll \(f.anonymousPoll): Rank the needs", "## Expertise directory"] {
            #expect(md.contains(section), "missing \(section)")
        }
        // Tables: a header, a delimiter row of the same width, then rows of that width.
        var tables = 0
        var width: Int?
        for line in md.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("|") else {
                width = nil
                continue
            }
            if let w = width {
                #expect(Self.cells(line) == w, "row \(line)")
            } else {
                width = Self.cells(line)
                tables += 1
            }
        }
        #expect(tables >= 5) // needs, three polls, expertise
        #expect(md.contains("| Rank | Need | Score | Interval | Support | Polls | Who could help |"))
        #expect(md.contains("Salad \\| soup"))
        #expect(md.contains("Keeping volunteers engaged"))
        #expect(md.contains("| grants | Ann (Food Bank), Cy \"the fixer\" (Clinic) |"))
    }

    @Test func jsonShape() {
        let f = Fixture()
        let j = f.report.json
        #expect(j["format"]?.stringValue == RoomReport.format)
        #expect(j["generatedAt"]?.stringValue == "2026-11-29T08:18:29.569Z")
        #expect(j["room"]?["code"]?.stringValue == f.code)
        #expect(j["members"]?.arrayValue?.count == 4)
        #expect(j["members"]?.arrayValue?.first?["expertise"] != nil)
        #expect(j["members"]?.arrayValue?.first?["highlights"] != nil)
        let needs = j["needs"]!.arrayValue!
        #expect(needs.count == 3)
        #expect(needs.map { $0["rank"]!.intValue! } == [1, 2, 3])
        for key in ["need", "text", "score", "low", "high", "support", "polls", "helpers"] {
            #expect(needs[0][key] != nil, "need lacks \(key)")
        }
        let polls = j["polls"]!.arrayValue!
        #expect(polls.count == 3)
        for p in polls {
            #expect(p["definition"]?["kind"] != nil)
            #expect(p["results"]?["ballots"] != nil)
            #expect(p["responses"]?["ballots"] != nil)
        }
        #expect(j["expertise"]?.arrayValue?.first?["tag"]?.stringValue == "data")
        #expect(j["interviews"]?["rounds"] != nil)
        #expect(j["groups"]?["groups"] != nil)
        // Needs never name their submitter.
        #expect(!Self.anyObject(j) { $0["submitter"] != nil })
        // Only digests of secrets exist in a room, and none of them is exported.
        #expect(!"\(j)".contains(f.room.facilitatorKeyHash))
    }

    @Test func namedPollListsVotesInJsonOnly() {
        let f = Fixture()
        let poll = f.report.json["polls"]!.arrayValue!.first { $0["id"]?.intValue == Int64(f.namedPoll) }!
        let votes = poll["votes"]!.arrayValue!
        #expect(votes.count == 2)
        #expect(votes[0]["member"]?.intValue == 2 && votes[0]["option"]?.intValue == 1)
        #expect(poll["responses"]?["waiting"] != nil)
        // CSV and Markdown never list who voted what, even for named polls.
        let md = f.report.markdown
        let section = md.components(after: "### Poll \(f.namedPoll):", before: "###")
        #expect(section.contains("Pizza"))
        #expect(!section.contains("Ann") && !section.contains("Bo"))
        #expect(!f.report.csv.contains("Pizza"))
    }

    @Test func anonymousBallotsStayAnonymousInEveryFormat() {
        var f = Fixture()
        // Closing drops the voter key; ballots stay under their pseudonyms.
        f.h.send(1, .closePoll(f.anonymousPoll))
        for report in [f.report, Fixture().report] {
            let j = report.json
            for p in j["polls"]!.arrayValue! where p["definition"]?["anonymous"]?.boolValue == true {
                #expect(p["votes"] == nil)
                #expect(p["responses"]?["waiting"] == nil)
                #expect(p["responses"]?["answered"] == nil)
                #expect(!Self.anyObject(p) { $0["member"] != nil })
            }
            // Outside named polls' votes, no object pairs a member with ballot fields.
            let ballotKeys = ["option", "options", "ranking", "ratings", "points"]
            let withoutNamed = Self.removingNamedVotes(j)
            #expect(!Self.anyObject(withoutNamed) { o in o["member"] != nil && ballotKeys.contains { o[$0] != nil } })
            let documents = ["\(j)", report.csv, report.markdown]
            for doc in documents {
                for pseudonym in f.pseudonyms { #expect(!doc.contains(pseudonym)) }
            }
        }
    }

    // MARK: Helpers

    /// Table cells in a Markdown row: unescaped pipes minus one.
    static func cells(_ line: Substring) -> Int {
        var pipes = 0
        var escaped = false
        for c in line {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true } else if c == "|" { pipes += 1 }
        }
        return pipes - 1
    }

    /// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF record ends.
    static func parseCSV(_ s: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(s.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.unicodeScalars.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\r" && chars.first == "\n" {
                chars.removeFirst()
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func anyObject(_ v: Value, _ pred: (Value.Object) -> Bool) -> Bool {
        switch v {
        case .object(let o): pred(o) || o.contains { anyObject($0.value, pred) }
        case .array(let a): a.contains { anyObject($0, pred) }
        default: false
        }
    }

    static func removingNamedVotes(_ v: Value) -> Value {
        switch v {
        case .object(var o):
            o["votes"] = nil
            return .object(Value.Object(o.map { ($0.key, removingNamedVotes($0.value)) }))
        case .array(let a): return .array(a.map(removingNamedVotes))
        default: return v
        }
    }
}

/// A deterministic 64-hex-digit digest (four FNV-1a passes with different seeds): distinct pseudonyms.
struct MixingHasher: SecretHasher {
    func digest(_ secret: String) -> String {
        var out = ""
        for seed: UInt64 in [0xcbf2_9ce4_8422_2325, 1, 2, 3] {
            var h = seed
            for b in secret.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            let hex = String(h, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }
}

extension String {
    /// The text between the first `start` and the next `end` after it (or the end of the text).
    fileprivate func components(after start: String, before end: String) -> String {
        guard let a = firstRange(of: start) else { return "" }
        let rest = self[a.upperBound...]
        return String(rest[..<(rest.firstRange(of: end)?.lowerBound ?? rest.endIndex)])
    }

    /// The text with quoted CSV fields removed, to check the line ends between records.
    fileprivate func removingQuotedFields() -> String {
        var out = ""
        var quoted = false
        for u in unicodeScalars {
            if u == "\"" { quoted.toggle(); continue }
            if !quoted { out.unicodeScalars.append(u) }
        }
        return out
    }
}
