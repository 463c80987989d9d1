import Testing

@testable import RoundtableCore

/// The community report: sessions, the backlog's ranking trend, expertise counts, pairs met; CSV and Markdown
/// encoding; and what it must never show (keys, their digests, contact data).
@Suite struct CommunityReportTests {
    static let day: Millis = 86_400_000
    static let t0: Millis = 1_795_940_309_569 // 2026-11-29 08:18 UTC

    /// Two sessions: need 1 ranked 2 then 1, need 2 ranked 1 then merged into 1, need 3 (a formula) only in the
    /// second, need 4 never polled and addressed.
    static func community() -> Community {
        var c = Community(id: "CABCDEFGHJ")
        c.apply(.created(name: "Food, \"Rescue\" Network", facilitatorKeyHash: "FACILITATORHASH"), at: t0)
        c.apply(
            .membersSet([
                CommunityMember(id: 1, name: "Ana Secretname", organization: "Org A", expertise: ["Grants", "data"], keyHash: "KEYHASH1"),
                CommunityMember(id: 2, name: "Bo", organization: "Org B", expertise: ["grants"], keyHash: "KEYHASH2"),
                CommunityMember(id: 3, name: "Cy", organization: "", expertise: ["logistics", "Data", "data"], keyHash: "KEYHASH3"),
            ]), at: t0)
        func item(_ need: Int, _ text: String, rank: Int?, into: Int? = nil) -> Harvest.NeedItem {
            Harvest.NeedItem(roomNeed: need, need: need, text: text, tags: need == 1 ? ["ops", "=tag"] : [], mergedInto: into, rank: rank, score: 0.5)
        }
        c.apply(.sessionOpened(room: "ROOMA", needs: [:]), at: t0 + day)
        c.apply(
            .harvested(
                Harvest(
                    room: "ROOMA", needs: [item(1, "Volunteer scheduling", rank: 2), item(2, "Cold storage", rank: 1), item(4, "Vans", rank: nil)],
                    pairs: [PairKey(1, 2)])), at: t0 + day + 3_600_000)
        c.apply(.sessionOpened(room: "ROOMB", needs: [1: 1, 2: 2]), at: t0 + 8 * day)
        c.apply(
            .harvested(
                Harvest(
                    room: "ROOMB",
                    needs: [item(1, "Volunteer scheduling", rank: 1), item(2, "Cold storage", rank: nil, into: 1), item(3, "=1+2 \"cells\"", rank: 2)],
                    pairs: [PairKey(1, 3), PairKey(2, 3)])), at: t0 + 8 * day + 3_600_000)
        c.apply(.needStatusSet(need: 4, .addressed, owner: nil), at: t0 + 9 * day)
        c.apply(.groupsSet([StandingGroup(id: 1, name: "Ops team", focus: [1], members: [1, 2])]), at: t0 + 9 * day)
        c.apply(.needStatusSet(need: 1, .inProgress, owner: 1), at: t0 + 9 * day)
        var cy = c.members[3]!
        cy.listed = false
        c.apply(.membersSet([cy]), at: t0 + 9 * day)
        return c
    }

    static func report() -> CommunityReport {
        CommunityReport(
            community: community(),
            sessions: ["ROOMA": .init(title: "Kick-off", attendance: 7), "ROOMB": .init(title: "Follow-up | two", attendance: nil)],
            generatedAt: t0 + 10 * day)
    }

    @Test func trendFollowsEachSessionsRanking() {
        let r = Self.report()
        #expect(r.needs.map(\.id) == [1, 2, 3, 4])
        #expect(r.needs.map(r.trend) == [[2, 1], [1, nil], [nil, 2], [nil, nil]])
    }

    @Test func expertiseCountsMembersOncePerTagCaseInsensitively() {
        let e = Self.report().expertise
        #expect(e.map(\.tag) == ["data", "Grants", "logistics"])
        #expect(e.map(\.members) == [2, 2, 1])
    }

    @Test func attendanceCountsMembersWhoJoinedIncludingDeparted() {
        var room = Room(code: "ROOMA")
        room.title = "Kick-off"
        for (i, role) in [Role.facilitator, .member, .member, .observer].enumerated() {
            var m = Member(id: i + 1, name: "M\(i)", organization: "", role: role, tokenHash: "t", joinedAt: 0)
            m.departed = i == 2
            room.members[m.id] = m
        }
        #expect(CommunityReport.SessionFacts(room: room) == .init(title: "Kick-off", attendance: 2))
    }

    @Test func jsonShape() {
        let j = Self.report().json
        #expect(j["format"] == "roundtable.community-report/1")
        #expect(j["community"]?["name"] == "Food, \"Rescue\" Network" && j["community"]?["members"] == 3)
        let sessions = j["sessions"]?.arrayValue ?? []
        #expect(sessions.map { $0["title"]?.stringValue } == ["Kick-off", "Follow-up | two"])
        #expect(sessions.map { $0["attendance"] } == [7, .null])
        #expect(sessions.first?["openedAt"] == "2026-11-30T08:18:29.569Z")
        let backlog = j["backlog"]?.arrayValue ?? []
        #expect(backlog.map { $0["status"]?.stringValue } == ["in_progress", "merged", "open", "addressed"])
        #expect(backlog[1]["mergedInto"] == 1 && backlog[0]["owner"] == 1 && backlog[1]["owner"] == nil)
        #expect(j["community"]?["listed"] == 2)
        let groups = j["standingGroups"]?.arrayValue ?? []
        #expect(groups.count == 1 && groups[0]["name"] == "Ops team" && groups[0]["members"] == 2 && groups[0]["focus"] == [1])
        #expect(backlog[0]["rankings"]?.arrayValue?.map { $0["rank"] } == [2, 1])
        #expect(j["pairsMet"] == 3)
        #expect(j["expertise"]?.arrayValue?.first?["tag"] == "data")
    }

    @Test func csvHasOneRowPerNeedWithARankColumnPerSession() {
        let csv = Self.report().csv
        #expect(csv.hasPrefix("\u{FEFF}need,text,tags,status,owner,first session,rank ROOMA,rank ROOMB\r\n"))
        let lines = csv.dropFirst().components(separatedBy: "\r\n")
        #expect(lines.count == 6 && lines.last == "")
        #expect(lines[1] == "1,Volunteer scheduling,ops; =tag,in_progress,Ops team,ROOMA,2,1")
        #expect(lines[2] == "2,Cold storage,,merged into 1,,ROOMA,1,")
        // A need typed as a formula is neutralized, then quoted for its quotes (RFC 4180).
        #expect(lines[3] == "3,\"'=1+2 \"\"cells\"\"\",,open,,ROOMB,,2")
        #expect(lines[4] == "4,Vans,,addressed,,ROOMA,,")
    }

    @Test func markdownReadsAsMinutes() {
        let md = Self.report().markdown
        #expect(md.hasPrefix("# Food, \"Rescue\" Network\n\n"))
        #expect(md.contains("report generated 2026-12-09 08:18 UTC"))
        #expect(md.contains("3 members · 2 sessions · 4 needs · 3 interview pairs met · 2 in the directory"))
        #expect(md.contains("| 1 | 2026-11-30 08:18 UTC | Kick-off | ROOMA | 7 |"))
        #expect(md.contains("| 2 | 2026-12-07 08:18 UTC | Follow-up \\| two | ROOMB | unknown |"))
        #expect(md.contains("| Need | Status | S1 | S2 |"))
        #expect(md.contains("| Volunteer scheduling | in progress · Ops team | 2 | 1 |"))
        #expect(md.contains("## Standing groups") && md.contains("| Ops team | Volunteer scheduling | 2 |"))
        #expect(md.contains("| Cold storage | merged into 1 | 1 | – |"))
        #expect(md.contains("| =1+2 \"cells\" | open | – | 2 |"))
        #expect(md.contains("| data | 2 |"))
        #expect(md.contains("3 distinct pairs of members have met"))
        // Every table row has the header's column count.
        for line in md.split(separator: "\n") where line.hasPrefix("| Volunteer") || line.hasPrefix("| Vans") {
            #expect(line.filter { $0 == "|" }.count == 5)
        }
    }

    @Test func noKeysDigestsOrNamesInAnyFormat() {
        let r = Self.report()
        for doc in [String(describing: r.json), r.csv, r.markdown] {
            for secret in ["FACILITATORHASH", "KEYHASH1", "KEYHASH2", "KEYHASH3", "Secretname", "Org A", "Org B"] {
                #expect(!doc.contains(secret), "\(secret) leaked")
            }
        }
    }

    @Test func emptyCommunityStillRenders() {
        var c = Community(id: "CEMPTY")
        c.apply(.created(name: "", facilitatorKeyHash: "h"), at: Self.t0)
        let r = CommunityReport(community: c, sessions: [:], generatedAt: Self.t0)
        #expect(r.csv == "\u{FEFF}need,text,tags,status,owner,first session\r\n")
        #expect(r.markdown.hasPrefix("# Community CEMPTY"))
        #expect(r.markdown.contains("No sessions yet.") && r.markdown.contains("No needs yet.") && r.markdown.contains("No standing groups yet."))
    }
}
