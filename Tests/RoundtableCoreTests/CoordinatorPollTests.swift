import Testing

@testable import RoundtableCore

/// The coordinator's needs and polls: permissions, error codes, merges and removals following through to
/// polls over needs, coalesced results, visibility, anonymity, replay and snapshots.
@Suite struct CoordinatorPollTests {
    // MARK: Permissions and error codes

    @Test func membersAndObserversCannotCurateOrRunPolls() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 1)
        h.observe(9, code)
        let need = h.need(2, "Mentoring")
        let other = h.need(2, "Peer mentoring")
        let draft = h.poll(.labelled(.single), open: false)
        let live = h.poll(.labelled(.single))
        let requests: [Command] = [
            .editNeed(need, text: "x", tags: nil), .mergeNeeds(into: need, from: [other]), .removeNeed(need),
            .createPoll(.labelled(.single), openNow: true), .importPolls([.labelled(.open)]), .openPoll(draft),
            .closePoll(live),
        ]
        for c: ConnectionID in [2, 9] {
            for r in requests { #expect(h.send(c, r)["code"] == "not_facilitator", "\(c) \(r)") }
        }
        #expect(h.send(9, .submitNeed(text: "Observers watch", tags: []))["code"] == "not_allowed")
        #expect(h.vote(9, live, Cast.single(1))["code"] == "not_allowed")
        #expect(h.send(77, .submitNeed(text: "x", tags: []))["code"] == "not_joined")
        #expect(h.vote(77, live, Cast.single(1))["code"] == "not_joined")
        // Nothing changed.
        let room = h.room(code)
        #expect(room.activeNeeds.map(\.id) == [need, other] && room.needs[need]?.text == "Mentoring")
        #expect(room.polls[draft]?.state == .draft && room.polls[live]?.state == .open && room.polls.count == 2)
        #expect(room.polls[live]!.ballots.isEmpty)
        // The facilitator may vote and submit needs like anyone.
        #expect(h.vote(1, live, Cast.single(2))["type"] == "ack")
        #expect(h.send(1, .submitNeed(text: "Facilitation", tags: []))["type"] == "ack")
    }

    @Test func pollLifecycleErrors() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 1)
        let draft = h.poll(.labelled(.single), open: false)
        #expect(h.vote(2, draft, Cast.single(1))["code"] == "poll_not_open")
        #expect(h.send(2, .retractVote(poll: draft))["code"] == "poll_not_open")
        #expect(h.send(1, .closePoll(draft))["code"] == "poll_not_open")
        #expect(h.send(1, .openPoll(draft))["type"] == "ack")
        #expect(h.send(1, .openPoll(draft))["code"] == "poll_open")
        #expect(h.send(2, .retractVote(poll: draft))["code"] == "no_ballot")
        #expect(h.vote(2, draft, Cast.single(1))["type"] == "ack")
        #expect(h.send(1, .closePoll(draft))["type"] == "ack")
        #expect(h.vote(2, draft, Cast.single(2))["code"] == "poll_closed")
        #expect(h.send(2, .retractVote(poll: draft))["code"] == "poll_closed")
        #expect(h.send(1, .openPoll(draft))["code"] == "poll_closed")
        #expect(h.send(1, .closePoll(draft))["code"] == "poll_closed")
        let unknown: [(ConnectionID, Command)] = [
            (1, .openPoll(99)), (1, .closePoll(99)), (2, .castVote(poll: 99, ballot: Cast.single(1))), (2, .retractVote(poll: 99)),
        ]
        for (c, r) in unknown { #expect(h.send(c, r)["code"] == "poll_not_found", "\(r)") }
        // The closed poll kept its one ballot.
        #expect(h.pollOf(code, draft).tally.ballots == 1 && h.pollOf(code, draft).state == .closed)
    }

    @Test func invalidBallotsNameTheirReasonAndCountForNothing() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 1)
        let polls: [PollKind: Int] = [
            .single: h.poll(.labelled(.single)), .multi: h.poll(.labelled(.multi) { $0.maxChoices = 2 }),
            .rating: h.poll(.labelled(.rating, 2)), .ranking: h.poll(.labelled(.ranking)),
            .points: h.poll(.labelled(.points, 2) { $0.budget = 10 }), .open: h.poll(.labelled(.open)),
        ]
        let bad: [(PollKind, Value.Object, BallotViolation.Reason)] = [
            (.single, Cast.single(9), .unknownOption),
            (.multi, Cast.multi([]), .noChoices), (.multi, Cast.multi([1, 2, 3]), .tooManyChoices),
            (.multi, Cast.multi([1, 9]), .unknownOption), (.multi, Cast.multi([2, 2]), .duplicateOption),
            (.rating, Cast.rating([:]), .noRatings), (.rating, Cast.rating([1: 6]), .ratingOutOfScale),
            (.rating, Cast.rating([9: 3]), .unknownOption),
            (.ranking, Cast.ranking([]), .emptyRanking), (.ranking, Cast.ranking([1, 1]), .duplicateOption),
            (.ranking, Cast.ranking([1, 9]), .unknownOption),
            (.points, Cast.points([1: -1]), .negativePoints), (.points, Cast.points([1: 8, 2: 3]), .overBudget),
            (.points, Cast.points([1: 0]), .noPoints), (.points, Cast.points([9: 1]), .unknownOption),
            (.open, Cast.text(" \n\t "), .emptyAnswer), (.open, Cast.text(String(repeating: "y", count: 281)), .answerTooLong),
        ]
        for (kind, ballot, reason) in bad {
            let r = h.vote(2, polls[kind]!, ballot)
            #expect(r["code"] == "invalid_ballot", "\(kind) \(reason)")
            #expect(r["message"]?.stringValue?.hasPrefix(reason.rawValue + ":") == true, "\(kind): \(r)")
        }
        // The wrong shape for the kind is a field error.
        #expect(h.vote(2, polls[.single]!, Cast.ranking([1]))["code"] == "invalid_field")
        for id in polls.values {
            #expect(h.pollOf(code, id).ballots.isEmpty && h.pollOf(code, id).tally.ballots == 0)
        }
        // A refused replacement keeps the earlier ballot.
        #expect(h.vote(2, polls[.ranking]!, Cast.ranking([3, 1]))["type"] == "ack")
        #expect(h.vote(2, polls[.ranking]!, Cast.ranking([3, 3]))["code"] == "invalid_ballot")
        #expect(h.pollOf(code, polls[.ranking]!).ballots.values.first == .ranking([3, 1]))
    }

    @Test func needAndPollSettingErrors() {
        var limits = Limits()
        limits.maxNeedsPerRoom = 3
        limits.maxOptionsPerPoll = 2
        var h = Harness.polls(limits: limits)
        let code = h.pollRoom(members: 1)
        let overNeeds = h.poll(.overNeeds(.ranking), open: false) // a draft needs no needs yet
        #expect(h.send(1, .openPoll(overNeeds))["code"] == "no_needs")
        let a = h.need(2, "A"), b = h.need(2, "B"), c = h.need(2, "C")
        #expect(h.send(2, .submitNeed(text: "D", tags: []))["code"] == "limit_reached")
        #expect(h.send(2, .submitNeed(text: "  ", tags: []))["code"] == "invalid_field")
        #expect(h.send(1, .editNeed(99, text: "x", tags: nil))["code"] == "need_not_found")
        #expect(h.send(1, .removeNeed(99))["code"] == "need_not_found")
        #expect(h.send(1, .mergeNeeds(into: a, from: [a]))["code"] == "invalid_field")
        #expect(h.send(1, .mergeNeeds(into: a, from: []))["code"] == "invalid_field")
        #expect(h.send(1, .mergeNeeds(into: a, from: [99]))["code"] == "need_not_found")
        // Three needs exceed maxOptionsPerPoll = 2: the facilitator is told to merge or remove.
        #expect(h.send(1, .openPoll(overNeeds))["code"] == "limit_reached")
        #expect(h.send(1, .mergeNeeds(into: a, from: [b]))["type"] == "ack")
        #expect(h.send(1, .mergeNeeds(into: b, from: [c]))["code"] == "need_not_found", "a merged need is gone")
        #expect(h.send(1, .mergeNeeds(into: c, from: [b]))["code"] == "need_not_found")
        #expect(h.send(1, .editNeed(b, text: "x", tags: nil))["code"] == "need_not_found")
        #expect(h.room(code).activeNeeds.map(\.id) == [a, c])
        // Poll settings.
        #expect(h.send(1, .createPoll(.labelled(.single, 3), openNow: false))["code"] == "too_large")
        #expect(h.send(1, .createPoll(.labelled(.single, 1), openNow: false))["code"] == "invalid_field")
        #expect(h.send(1, .createPoll(.labelled(.single, 2) { $0.method = .borda }, openNow: false))["code"] == "invalid_field")
        #expect(
            h.send(
                1,
                .createPoll(
                    .labelled(.rating, 2) {
                        $0.scaleMin = 5; $0.scaleMax = 1
                    }, openNow: false))["code"] == "invalid_field")
        #expect(h.send(1, .createPoll(.labelled(.points, 2) { $0.budget = 0 }, openNow: false))["code"] == "invalid_field")
        #expect(h.send(1, .createPoll(.labelled(.multi, 2) { $0.maxChoices = 0 }, openNow: false))["code"] == "invalid_field")
        #expect(h.send(1, .createPoll(.overNeeds(.open), openNow: false))["code"] == "invalid_field")
        #expect(h.send(1, .importPolls([]))["code"] == "invalid_field")
        // One bad poll in an import creates none of them.
        #expect(h.send(1, .importPolls([.labelled(.single, 2), .labelled(.single, 1)]))["code"] == "invalid_field")
        #expect(h.room(code).polls.keys.sorted() == [overNeeds])
        #expect(h.send(1, .openPoll(overNeeds))["type"] == "ack")
        #expect(h.pollOf(code, overNeeds).options == [a, c])
    }

    /// `poll.create` with `open: true` whose opening is refused must leave no trace: no poll in memory that
    /// the journal does not have, no seq number used up by an event nobody received.
    @Test func createAndOpenThatIsRefusedLeavesNoTrace() throws {
        var h = Harness.polls()
        let code = h.pollRoom(members: 1)
        let seq = h.room(code).seq
        let journaled = h.journal.count
        #expect(h.send(1, .createPoll(.overNeeds(.ranking), openNow: true))["code"] == "no_needs")
        #expect(h.room(code).polls.isEmpty, "no half-created poll")
        #expect(h.room(code).seq == seq, "no seq used up without an event")
        #expect(h.journal.count == journaled)
        // The room after a restart is the room before it, and members see gap-free events.
        _ = h.need(2, "A")
        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        for e in h.journal { try fresh.replay(e) }
        #expect(fresh.rooms[code]!.seq == h.room(code).seq)
        #expect(fresh.rooms[code]!.polls.keys.sorted() == h.room(code).polls.keys.sorted())
        let seqs = (h.inbox[2] ?? []).compactMap(\.seq)
        #expect(seqs.first == seq + 1, "the member's next event follows the seq it knew, without a gap")
    }

    @Test func draftsStayPrivateUntilOpened() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 1)
        h.flushAndDrain()
        let draft = h.poll(.labelled(.single) { $0.question = "Secret question" }, open: false)
        #expect(h.received(2, "poll.created").map { $0["poll"] } == [["id": Value(draft), "state": "draft"]])
        #expect(h.coordinator.stateNotice(code, for: 2).body["polls"] == [])
        #expect(h.coordinator.stateNotice(code, for: 1).body["polls"]?.arrayValue?.first?["question"] == "Secret question")
        #expect(h.send(1, .openPoll(draft))["type"] == "ack")
        #expect(h.received(2, "poll.opened").first?["poll"]?["question"] == "Secret question")
    }

    // MARK: Merges and removals follow through to polls over needs

    @Test func mergeRemapsBallotsOfEveryKindToTheTarget() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 4)
        let n = (1...4).map { h.need(2, "Need \($0)", tags: ["t\($0)"]) }
        #expect(n == [1, 2, 3, 4])
        let named: (inout PollDefinition) -> Void = { $0.anonymous = false }
        let single = h.poll(.overNeeds(.single, named))
        let multi = h.poll(
            .overNeeds(.multi) {
                $0.anonymous = false; $0.maxChoices = 3
            })
        let ranking = h.poll(.overNeeds(.ranking, named))
        let rating = h.poll(
            .overNeeds(.rating) {
                $0.anonymous = false; $0.scaleMin = 1; $0.scaleMax = 5
            })
        let points = h.poll(.overNeeds(.points, named))
        let draft = h.poll(.overNeeds(.ranking), open: false)
        for (c, o) in [(2, 1), (3, 2), (4, 3), (5, 4)] { h.vote(ConnectionID(c), single, Cast.single(o)) }
        h.vote(2, multi, Cast.multi([2, 3, 4]))
        h.vote(3, multi, Cast.multi([1, 2]))
        h.vote(2, ranking, Cast.ranking([2, 4, 1]))
        h.vote(3, ranking, Cast.ranking([4, 3]))
        h.vote(4, ranking, Cast.ranking([3]))
        h.vote(2, rating, Cast.rating([2: 2, 3: 5]))
        h.vote(3, rating, Cast.rating([1: 1, 2: 4, 4: 3]))
        h.vote(2, points, Cast.points([1: 10, 2: 20, 3: 30]))
        h.vote(3, points, Cast.points([4: 50, 2: 5]))
        h.flushAndDrain()

        #expect(h.send(1, .mergeNeeds(into: 1, from: [3, 2]))["type"] == "ack")
        let merged = h.received(2, "need.merged")
        #expect(merged.count == 1 && merged[0]["from"] == [2, 3] && merged[0]["need"]?["mergedFrom"] == [2, 3])
        #expect(merged[0]["need"]?["tags"] == ["t1", "t2", "t3"])
        #expect(h.room(code).activeNeeds.map(\.id) == [1, 4])

        func ballots(_ id: Int) -> [String: Ballot] { h.pollOf(code, id).ballots }
        for id in [single, multi, ranking, rating, points, draft] { #expect(h.pollOf(code, id).options == [1, 4], "\(id)") }
        #expect(ballots(single) == ["m2": .single(1), "m3": .single(1), "m4": .single(1), "m5": .single(4)])
        #expect(ballots(multi) == ["m2": .multi([1, 4]), "m3": .multi([1])])
        #expect(ballots(ranking) == ["m2": .ranking([1, 4]), "m3": .ranking([4, 1]), "m4": .ranking([1])])
        #expect(ballots(rating) == ["m2": .rating([1: 5]), "m3": .rating([1: 4, 4: 3])], "the highest merged rating")
        #expect(ballots(points) == ["m2": .points([1: 60]), "m3": .points([4: 50, 1: 5])], "points are summed")

        func scores(_ id: Int) -> [OptionID: Double] {
            Dictionary(uniqueKeysWithValues: h.pollOf(code, id).tally.results().options.map { ($0.option, $0.score) })
        }
        #expect(scores(single) == [1: 3, 4: 1])
        #expect(scores(multi) == [1: 2, 4: 1])
        #expect(scores(ranking) == [1: 2, 4: 1]) // N = 2 now: [1,4] → 1, 0; [4,1] → 0, 1; [1] → 1, 0
        #expect(scores(points) == [1: 65, 4: 50])
        #expect(h.pollOf(code, ranking).tally.results().options.first { $0.option == 1 }?.support == 3)
        // Each remapped ballot is a valid ballot of the merged poll, and the tally equals a recount.
        for id in [single, multi, ranking, rating, points] {
            let p = h.pollOf(code, id)
            #expect(p.ballots.values.allSatisfy { p.rules.validate($0) == nil })
            #expect(p.tally == PollTally(rules: p.rules, ballots: p.ballots.values), "\(id)")
        }
        // Live polls publish the new results; the draft does not (it takes the needs when it opens).
        h.tick(at: h.now + 1_000)
        let updated = Set(h.received(1, "poll.results").compactMap { $0["poll"]?.intValue.map(Int.init) })
        #expect(updated == [single, multi, ranking, rating, points])
        let ranked = h.received(2, "needs.ranking").last?["needs"]?.arrayValue ?? []
        #expect(ranked.map { $0["need"] } == [1, 4])
        #expect(ranked.first?["polls"] == 5)
        // A ballot naming a merged need is refused now.
        #expect(h.vote(2, single, Cast.single(2))["message"]?.stringValue?.hasPrefix("unknown-option") == true)
    }

    @Test func removingANeedDropsTheOptionAndEmptyBallots() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 3)
        for t in ["A", "B", "C"] { _ = h.need(2, t) }
        let single = h.poll(.overNeeds(.single))
        let ranking = h.poll(.overNeeds(.ranking) { $0.anonymous = false })
        let points = h.poll(.overNeeds(.points) { $0.anonymous = false })
        h.vote(2, single, Cast.single(1))
        h.vote(3, single, Cast.single(3))
        h.vote(2, ranking, Cast.ranking([3, 1]))
        h.vote(3, ranking, Cast.ranking([3]))
        h.vote(4, ranking, Cast.ranking([2, 3, 1]))
        h.vote(2, points, Cast.points([3: 40, 1: 0]))
        h.vote(3, points, Cast.points([3: 10, 2: 10]))
        h.flushAndDrain()

        #expect(h.send(1, .removeNeed(3))["type"] == "ack")
        #expect(h.received(4, "need.removed").first?["need"] == 3)
        for id in [single, ranking, points] { #expect(h.pollOf(code, id).options == [1, 2]) }
        #expect(h.pollOf(code, single).tally.ballots == 1, "the ballot for the removed need is dropped")
        #expect(h.pollOf(code, ranking).ballots == ["m2": .ranking([1]), "m4": .ranking([2, 1])])
        #expect(h.pollOf(code, points).ballots == ["m3": .points([2: 10])], "only zero points were left: dropped")
        let borda = h.pollOf(code, ranking).tally.results()
        #expect(borda.options.map(\.option) == [1, 2] && borda.options.map(\.score) == [1, 1]) // N = 2
        #expect(borda.options.map(\.support) == [2, 1])
        // The voter whose ballot was dropped can vote again; the removed need is refused.
        #expect(h.send(3, .retractVote(poll: ranking))["code"] == "no_ballot")
        #expect(h.vote(3, ranking, Cast.ranking([3]))["code"] == "invalid_ballot")
        #expect(h.vote(3, ranking, Cast.ranking([2]))["type"] == "ack")
        h.tick(at: h.now + 1_000)
        // Normalized per poll: single 1 → 1, 2 → 0; Borda ([1], [2,1], [2]) 1 → ½, 2 → 1; points 2 → 1, 1 → 0.
        let ranked = h.received(2, "needs.ranking").last?["needs"]?.arrayValue ?? []
        #expect(ranked.map { $0["need"] } == [2, 1], "the removed need is not ranked")
        #expect(ranked.map { $0["score"] } == [.double(2.0 / 3), .double(1.5 / 3)])
        #expect(ranked.map { $0["polls"] } == [3, 3])
        // A merge into a removed need, or of one, is refused.
        #expect(h.send(1, .mergeNeeds(into: 1, from: [3]))["code"] == "need_not_found")
    }

    // MARK: Coalescing and visibility

    @Test func resultsAreCoalescedPerInterval() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 2)
        _ = code
        let poll = h.poll(.labelled(.single))
        let t0 = h.now + 1_000
        h.tick(at: t0) // the opening flush
        h.inbox = [:]
        h.now = t0
        h.vote(2, poll, Cast.single(1))
        h.vote(3, poll, Cast.single(2))
        #expect(h.tick(at: t0 + 100).isEmpty, "nothing before the interval has elapsed")
        #expect(h.tick(at: t0 + 249).isEmpty)
        #expect(h.received(1, "poll.results").isEmpty && h.received(2, "poll.results").isEmpty)
        let effects = h.tick(at: t0 + 250)
        let sends = effects.compactMap { e -> (Notice, [ConnectionID])? in
            if case .send(let n, _, let to) = e, n.type == "poll.results" { return (n, to) }
            return nil
        }
        #expect(sends.count == 2, "one encoding per audience")
        #expect(Set(sends.map { Set($0.1) }) == [[1], [2, 3]])
        for c: ConnectionID in [1, 2, 3] {
            let got = h.received(c, "poll.results")
            #expect(got.count == 1 && got[0]["ballots"] == 2, "\(c)")
        }
        #expect(h.tick(at: t0 + 10_000).isEmpty, "nothing changed since")
        // A third vote right after a flush waits for the next interval again.
        h.now = t0 + 300
        h.vote(2, poll, Cast.single(2))
        #expect(h.tick(at: t0 + 490).isEmpty, "240 ms after the last flush")
        let later = h.tick(at: t0 + 500)
        #expect(later.filter { if case .send(let n, _, _) = $0 { n.type == "poll.results" } else { false } }.count == 2)
        #expect(later.filter { if case .send(let n, _, _) = $0 { n.type == "poll.turnout" } else { false } }.count == 1, "one turnout for everyone")
        #expect(later.count == 3)
        #expect(h.received(2, "poll.results").last?["ballots"] == 2)
    }

    @Test func visibilityPerAudience() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 2)
        h.observe(9, code)
        let n1 = h.need(2, "Mentoring"), n2 = h.need(3, "Funding")
        let live = h.poll(.labelled(.single))
        let later = h.poll(.labelled(.single) { $0.visibility = .afterClose })
        let hidden = h.poll(.labelled(.single) { $0.visibility = .facilitator })
        let hiddenNeeds = h.poll(.overNeeds(.ranking) { $0.visibility = .facilitator })
        for c: ConnectionID in [2, 3] {
            for p in [live, later, hidden] { h.vote(c, p, Cast.single(1)) }
            h.vote(c, hiddenNeeds, Cast.ranking([n2, n1]))
        }
        h.tick(at: h.now + 1_000)
        func polls(_ c: ConnectionID) -> Set<Int> {
            Set(h.received(c, "poll.results").compactMap { $0["poll"]?.intValue.map(Int.init) })
        }
        #expect(polls(1) == [live, later, hidden, hiddenNeeds])
        for c: ConnectionID in [2, 3, 9] { #expect(polls(c) == [live], "\(c)") }
        #expect(h.received(1, "poll.results").allSatisfy { $0["responses"] != nil })
        #expect(h.received(2, "poll.results").allSatisfy { $0["responses"] == nil })
        #expect(h.received(1, "needs.ranking").last?["polls"] == [Value(hiddenNeeds)])
        #expect(h.received(2, "needs.ranking").last?["polls"] == [], "members rank only what they may see")
        func stateResults(_ member: MemberID) -> [Int: Bool] {
            let polls = h.coordinator.stateNotice(code, for: member).body["polls"]?.arrayValue ?? []
            return Dictionary(uniqueKeysWithValues: polls.map { (Int($0["id"]!.intValue!), $0["results"] != nil) })
        }
        #expect(stateResults(1) == [live: true, later: true, hidden: true, hiddenNeeds: true])
        #expect(stateResults(2) == [live: true, later: false, hidden: false, hiddenNeeds: false])
        h.inbox = [:]

        for p in [live, later, hidden, hiddenNeeds] { #expect(h.send(1, .closePoll(p))["type"] == "ack") }
        h.tick(at: h.now + 1_000)
        #expect(polls(1) == [live, later, hidden, hiddenNeeds])
        for c: ConnectionID in [2, 3, 9] { #expect(polls(c) == [live, later], "after close: \(c)") }
        #expect(h.received(2, "poll.results").allSatisfy { $0["final"] == true })
        #expect(stateResults(2) == [live: true, later: true, hidden: false, hiddenNeeds: false])
        #expect(h.coordinator.stateNotice(code, for: 2).body["ranking"]?["polls"] == [])
    }

    @Test func responsesShowWhoIsWaitingOnlyForNamedPolls() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 3)
        h.observe(9, code)
        let named = h.poll(.labelled(.single) { $0.anonymous = false })
        let anonymous = h.poll(.labelled(.single))
        h.vote(2, named, Cast.single(1))
        h.vote(2, anonymous, Cast.single(1))
        h.disconnect(4)
        h.tick(at: h.now + 1_000)
        let got = Dictionary(uniqueKeysWithValues: h.received(1, "poll.results").map { (Int($0["poll"]!.intValue!), $0["responses"]!) })
        // Present counts members only: not the facilitator (1), not the observer (9), not who left (4).
        #expect(got[named] == ["present": 2, "ballots": 1, "answered": 1, "waiting": [3]])
        #expect(got[anonymous] == ["present": 2, "ballots": 1, "answered": 1])
        let turnout = h.received(9, "poll.turnout").filter { $0["poll"] == Value(anonymous) }.last
        #expect(turnout?["answered"] == 1 && turnout?["present"] == 2)
    }

    @Test func namedTurnoutCountsPresentMembersWithABallot() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 4) // connections 2...5
        h.observe(9, code)
        let named = h.poll(.labelled(.single) { $0.anonymous = false })
        h.vote(1, named, Cast.single(1)) // the facilitator's ballot is counted in "ballots", never in turnout
        h.vote(2, named, Cast.single(1))
        h.vote(4, named, Cast.single(1))
        h.vote(9, named, Cast.single(1)) // an observer, if allowed to vote at all, is not in turnout either
        h.disconnect(4) // voted, then left the call: not present
        h.tick(at: h.now + 1_000)
        let turnout = h.received(2, "poll.turnout").filter { $0["poll"] == Value(named) }.last
        #expect(turnout?["answered"] == 1 && turnout?["present"] == 3)
        let responses = h.received(1, "poll.results").filter { $0["poll"] == Value(named) }.last?["responses"]
        #expect(responses?["answered"] == 1 && responses?["present"] == 3 && responses?["waiting"] == [3, 5])
    }

    // MARK: Anonymity

    @Test func anonymousBallotsAreKeyedByPseudonymAndTheKeyGoesAtClose() throws {
        var h = Harness.polls()
        let code = h.pollRoom(members: 3)
        let anon = h.poll(.labelled(.ranking))
        let named = h.poll(.labelled(.ranking) { $0.anonymous = false })
        for c: ConnectionID in [2, 3, 4] {
            h.vote(c, anon, Cast.ranking([Int(c) - 1]))
            h.vote(c, named, Cast.ranking([Int(c) - 1]))
        }
        h.vote(3, anon, Cast.ranking([1, 2])) // a replacement, under the same pseudonym
        let p = h.pollOf(code, anon)
        let keys = Array(p.ballots.keys)
        #expect(keys.count == 3 && p.tally.ballots == 3)
        #expect(keys.allSatisfy { $0.hasPrefix("a") && $0.count == 33 })
        #expect(keys.allSatisfy { k in !["m2", "m3", "m4", "2", "3", "4"].contains(k) })
        #expect(p.ballots.values.contains(.ranking([1, 2])) && !p.ballots.values.contains(.ranking([2])))
        #expect(Set(h.pollOf(code, named).ballots.keys) == ["m2", "m3", "m4"])
        let key = try #require(p.voterKey)
        #expect(h.pollOf(code, named).voterKey == nil)
        // Pseudonyms differ per poll for the same member.
        let other = h.poll(.labelled(.ranking))
        h.vote(2, other, Cast.ranking([1]))
        #expect(Set(h.pollOf(code, other).ballots.keys).isDisjoint(with: keys))
        // Neither the journal nor a snapshot holds the key; no event pairs a member with a ballot.
        #expect(!h.journal.contains { "\($0.op)".contains(key) })
        #expect(!"\(h.room(code).snapshotValue)".contains(key))
        #expect(
            h.journal.filter { $0.op["op"] == "voteCast" && $0.op["poll"] == Value(anon) }.allSatisfy {
                $0.op["voter"]?.stringValue?.hasPrefix("a") == true
            })
        // The member sees their own ballot back while the poll is open.
        #expect(
            h.coordinator.stateNotice(code, for: 3).body["polls"]?.arrayValue?.first { $0["id"] == Value(anon) }?["yourBallot"]
                == ["ranking": [1, 2]])

        #expect(h.send(1, .closePoll(anon))["type"] == "ack")
        #expect(h.pollOf(code, anon).voterKey == nil, "nothing can link ballots to members after close")
        #expect(Set(h.pollOf(code, anon).ballots.keys) == Set(keys), "ballots stay, under their pseudonyms")
        #expect(h.coordinator.stateNotice(code, for: 3).body["polls"]?.arrayValue?.first { $0["id"] == Value(anon) }?["yourBallot"] == nil)
        #expect(!"\(h.room(code).snapshotValue)".contains(key))
    }

    // MARK: Open answers become needs

    @Test func openAnswersBecomeNeedsAtClose() {
        var h = Harness.polls()
        let code = h.pollRoom(members: 4)
        let existing = h.need(2, "Funding")
        let open = h.poll(.labelled(.open))
        for (c, t) in [(2, "Staff turnover"), (3, "  Staff turnover "), (4, "funding"), (5, "Board engagement"), (1, "staff turnover")] {
            #expect(h.vote(ConnectionID(c), open, Cast.text(t))["type"] == "ack")
        }
        h.flushAndDrain()
        #expect(h.send(1, .closePoll(open))["type"] == "ack")
        let added = h.received(2, "need.added").compactMap { $0["need"] }
        #expect(added.map { $0["text"] } == ["Staff turnover", "Board engagement"])
        #expect(added.allSatisfy { $0["fromPoll"] == Value(open) && $0["organization"] == nil })
        #expect(added.map { $0["id"] } == [Value(existing + 1), Value(existing + 2)])
        #expect(h.room(code).needs[existing + 1]?.submitter == nil, "an answer has no author")
    }

    // MARK: Replay and snapshots

    /// A room that exercises every op of needs and polls, with every poll kind; some polls closed, some open.
    func busyRoom() -> (Harness, String) {
        var h = Harness.polls()
        let code = h.pollRoom(members: 5)
        h.observe(20, code)
        for (c, t) in [(2, "Grants"), (3, "Volunteers"), (4, "Grant writing"), (5, "Data"), (6, "Office space"), (2, "Boards")] {
            _ = h.need(ConnectionID(c), t, tags: [t.lowercased()])
        }
        _ = h.send(1, .editNeed(6, text: "Board development", tags: ["governance"]))
        _ = h.send(1, .mergeNeeds(into: 1, from: [3]))
        let polls: [Int] = [
            h.poll(.labelled(.single) { $0.anonymous = false }),
            h.poll(.labelled(.multi, 4) { $0.maxChoices = 2 }),
            h.poll(
                .labelled(.rating, 3) {
                    $0.scaleMin = 0; $0.scaleMax = 10; $0.visibility = .afterClose
                }),
            h.poll(.labelled(.ranking, 4) { $0.method = .schulze }),
            h.poll(.overNeeds(.ranking) { $0.method = .borda }),
            h.poll(.overNeeds(.points) { $0.budget = 50 }),
            h.poll(
                .overNeeds(.rating) {
                    $0.visibility = .facilitator; $0.anonymous = false
                }),
            h.poll(.overNeeds(.single) { $0.anonymous = false }),
            h.poll(.labelled(.open)),
            h.poll(.labelled(.open) { $0.anonymous = false }),
            h.poll(.labelled(.points), open: false),
        ]
        var rng = SeededEntropy(seed: 7)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        func shuffled(_ a: [Int]) -> [Int] {
            var a = a
            for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, pick(i + 1)) }
            return a
        }
        func dict(_ pairs: [(Int, Int)]) -> [Int: Int] { Dictionary(pairs, uniquingKeysWith: { a, _ in a }) }
        for round in 0..<2 {
            for c: ConnectionID in 1...6 {
                let opts = { (id: Int) in h.pollOf(code, id).options }
                h.vote(c, polls[0], Cast.single(1 + pick(3)))
                h.vote(c, polls[1], Cast.multi(Array(Set([1 + pick(4), 1 + pick(4)])).sorted()))
                h.vote(c, polls[2], Cast.rating(dict([(1 + pick(3), pick(11)), (1 + pick(3), pick(11))])))
                h.vote(c, polls[3], Cast.ranking(Array(shuffled([1, 2, 3, 4]).prefix(1 + pick(4)))))
                let needs = opts(polls[4])
                h.vote(c, polls[4], Cast.ranking(Array(shuffled(needs).prefix(1 + pick(needs.count)))))
                h.vote(c, polls[5], Cast.points(dict([(needs[pick(needs.count)], 1 + pick(25)), (needs[pick(needs.count)], pick(25))])))
                h.vote(c, polls[6], Cast.rating(dict([(needs[pick(needs.count)], 1 + pick(5))])))
                h.vote(c, polls[7], Cast.single(needs[pick(needs.count)]))
                h.vote(c, polls[8], Cast.text(["Staff", "Money", " Staff ", "Time"][pick(4)]))
                h.vote(c, polls[9], Cast.text("Round \(round)"))
            }
            if round == 0 {
                _ = h.send(1, .mergeNeeds(into: 2, from: [4]))
                _ = h.send(3, .retractVote(poll: polls[4]))
            }
        }
        _ = h.send(1, .removeNeed(5))
        _ = h.send(4, .retractVote(poll: polls[3]))
        for p in [polls[0], polls[3], polls[5], polls[8]] { _ = h.send(1, .closePoll(p)) }
        _ = h.need(3, "Late need")
        return (h, code)
    }

    @Test func replayingTheJournalRebuildsIdenticalPollsAndNeeds() throws {
        let (h, code) = busyRoom()
        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        for e in h.journal { try fresh.replay(e) }
        let a = h.room(code), b = fresh.rooms[code]!
        #expect(a.seq == b.seq && a.nextNeedID == b.nextNeedID && a.nextPollID == b.nextPollID)
        #expect(a.needs == b.needs)
        #expect(a.polls.keys.sorted() == b.polls.keys.sorted())
        for id in a.polls.keys.sorted() {
            #expect(a.polls[id]!.durable == b.polls[id]!.durable, "poll \(id)")
            #expect(a.polls[id]!.tally == b.polls[id]!.tally, "poll \(id)")
        }
        #expect(a.polls.values.contains { $0.state == .open && !$0.ballots.isEmpty }, "the scenario has open polls with ballots")
        #expect(a.polls.values.allSatisfy { $0.durable.refusedBallots == 0 })
    }

    @Test func snapshotRoundTripKeepsEveryPollKindsResults() throws {
        let (h, code) = busyRoom()
        let a = h.room(code)
        let b = try Room(snapshot: a.snapshotValue)
        #expect(Set(a.polls.values.map(\.definition.kind)) == Set(PollKind.allCases))
        #expect(a.seq == b.seq && a.nextNeedID == b.nextNeedID && a.nextPollID == b.nextPollID)
        #expect(a.needs == b.needs && a.members == b.members)
        for id in a.polls.keys.sorted() {
            #expect(a.polls[id]!.durable == b.polls[id]!.durable, "poll \(id)")
            #expect(a.polls[id]!.tally.results() == b.polls[id]!.tally.results(), "poll \(id)")
        }
        // And again: a snapshot of the restored room is the same snapshot.
        #expect(b.snapshotValue == a.snapshotValue)
        // The restored room serves the same needs ranking and results to a member.
        var c = Coordinator(entropy: SeededEntropy(seed: 3), hasher: SpreadHasher())
        c.restore(b)
        #expect(c.stateNotice(code, for: 2).body["ranking"] == h.coordinator.stateNotice(code, for: 2).body["ranking"])
        func results(_ c: Coordinator) -> [Value?] {
            (c.stateNotice(code, for: 1).body["polls"]?.arrayValue ?? []).map { $0["results"] }
        }
        #expect(results(c) == results(h.coordinator) && results(c).count == a.polls.count)
    }

    /// A multi-choice poll over needs without `maxChoices` ("choose any number of needs") must keep its
    /// ballots across a restart, whether the room comes back from the journal or from a snapshot.
    @Test func multiChoiceOverNeedsWithoutLimitSurvivesReplayAndSnapshot() throws {
        var h = Harness.polls()
        let code = h.pollRoom(members: 2)
        for t in ["A", "B", "C"] { _ = h.need(2, t) }
        let poll = h.poll(.overNeeds(.multi))
        #expect(h.vote(2, poll, Cast.multi([1, 3]))["type"] == "ack")
        #expect(h.vote(3, poll, Cast.multi([2]))["type"] == "ack")
        let live = h.pollOf(code, poll)
        #expect(live.tally.ballots == 2)

        var fresh = Coordinator(entropy: SeededEntropy(seed: 1), hasher: SpreadHasher())
        for e in h.journal { try fresh.replay(e) }
        let replayed = fresh.rooms[code]!.polls[poll]!
        #expect(replayed.durable == live.durable, "journal replay")
        #expect(replayed.tally.ballots == 2)
        let restored = try Room(snapshot: h.room(code).snapshotValue).polls[poll]!
        #expect(restored.durable == live.durable, "snapshot")
        #expect(restored.tally.ballots == 2)
    }
}
