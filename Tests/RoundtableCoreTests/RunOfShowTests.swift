import Testing

@testable import RoundtableCore

/// The run of show: agenda steps, `agenda.next` / `agenda.goto` starting each kind with its settings,
/// the wall's view, poll reveals and after-vote results, turnout, the standing announcement, and
/// replay of all of it from the journal.
@Suite struct RunOfShowTests {
    func step(_ kind: StepKind, _ title: String = "", _ build: (inout AgendaStep) -> Void = { _ in }) -> AgendaStep {
        var s = AgendaStep(kind: kind, title: title)
        build(&s)
        return s
    }

    /// A room with a facilitator (1) and members 2...4, each with one need.
    func room() -> (Harness, String) {
        var h = Harness()
        let code = h.ivRoom(["Food Bank", "Clinic", "School"])
        for c: ConnectionID in 2...4 { _ = h.send(c, .submitNeed(text: "need of \(c)", tags: [])) }
        h.inbox = [:]
        return (h, code)
    }

    var agenda: [AgendaStep] {
        [
            step(.welcome, "Hello") { $0.text = "Glad you are here" },
            step(.poll, "Warm-up") {
                $0.definition = PollDefinition(question: "Coffee or tea?", kind: .single, labels: ["Coffee", "Tea"], visibility: .facilitator)
            },
            step(.pollOverNeeds) { $0.definition = PollDefinition(question: "Rank the needs", kind: .ranking) },
            step(.interviews) { $0.interviews = ivSettings(turn: 60, report: 0) },
            step(.groups) {
                $0.groups = {
                    var g = GroupsPlan(); g.fromNeeds = 2; return g
                }()
            },
            step(.pause, "Stretch") { $0.seconds = 90 },
            step(.announcement) { $0.text = "Back at 11:00" },
            step(.closing),
        ]
    }

    @Test func nextRunsEveryKindInOrderWithItsSettings() {
        var (h, code) = room()
        let set = h.send(1, .setAgenda(agenda))
        #expect(set["type"] == "ack" && set["steps"] == [1, 2, 3, 4, 5, 6, 7, 8])
        // Members learn titles only: the prepared question stays private until it opens.
        let changed = h.ivGot(2, "agenda.changed").first?["agenda"]
        #expect(
            changed?["steps"]?.arrayValue?.map { $0["title"] } == [
                "Hello", "Warm-up", "Prioritize the needs", "Appreciative interviews", "Working groups", "Stretch", "Announcement", "Closing: the ranked needs",
            ])
        #expect(changed?["steps"]?.arrayValue?[1]["definition"] == nil)
        #expect(h.ivState(code, for: 1, "agenda")["steps"]?.arrayValue?[1]["definition"]?["question"] == "Coffee or tea?")
        #expect(h.ivState(code, for: 2, "agenda")["steps"]?.arrayValue?[1]["definition"] == nil)

        // 1 welcome: the wall shows the join screen.
        #expect(h.send(1, .nextStep)["step"] == 1)
        #expect(h.ivRoomState(code).show.wall == Wall(view: .join))
        #expect(h.ivGot(3, "agenda.step").last?["current"] == 1)
        // 2 poll: created and opened; the wall shows it.
        h.inbox = [:]
        #expect(h.send(1, .nextStep)["step"] == 2)
        let poll = h.ivRoomState(code).polls[1]!
        #expect(poll.state == .open && poll.definition.question == "Coffee or tea?")
        #expect(h.ivRoomState(code).show.wall == Wall(view: .poll, poll: 1))
        #expect(h.ivGot(2, "poll.opened").count == 1 && h.ivGot(2, "wall.changed").last?["wall"]?["poll"] == 1)
        // 3 poll over needs: the previous poll closes, the new one opens over the three needs.
        #expect(h.send(1, .nextStep)["step"] == 3)
        #expect(h.ivRoomState(code).polls[1]!.state == .closed)
        #expect(h.ivRoomState(code).polls[2]!.state == .open && h.ivRoomState(code).polls[2]!.options.count == 3)
        // 4 interviews: the poll closes, round 1 starts.
        #expect(h.send(1, .nextStep)["step"] == 4)
        #expect(h.ivRoomState(code).polls[2]!.state == .closed)
        #expect(h.ivRoomState(code).interviews.active && h.ivRoomState(code).interviews.round == 1)
        #expect(h.ivRoomState(code).show.wall.view == .interviews)
        // 5 groups from the top two needs; interviews end when leaving the step.
        #expect(h.send(1, .nextStep)["step"] == 5)
        #expect(!h.ivRoomState(code).interviews.active)
        #expect(h.ivRoomState(code).grouping.groups.count == 2 && h.ivRoomState(code).grouping.mode == .selfSelect)
        // 6 break: a 90 s timer, the wall shows the countdown.
        #expect(h.send(1, .nextStep)["step"] == 6)
        let timer = h.ivRoomState(code).grouping.timers.first
        #expect(timer?.label == "Stretch" && timer?.endsAt == h.now + 90_000)
        #expect(h.ivRoomState(code).show.wall.view == .timer)
        // 7 announcement: the timer stops, the announcement stands.
        #expect(h.send(1, .nextStep)["step"] == 7)
        #expect(h.ivRoomState(code).grouping.timers.isEmpty)
        #expect(h.ivRoomState(code).show.announcement?.text == "Back at 11:00")
        #expect(h.ivState(code, for: 4, "announcement")["text"] == "Back at 11:00")
        // 8 closing, then nothing after it.
        #expect(h.send(1, .nextStep)["step"] == 8)
        #expect(h.ivRoomState(code).show.wall.view == .closing)
        #expect(h.send(1, .nextStep)["code"] == "agenda_end")
        // Everyone, a second facilitator included, reads the same current step from room.state.
        #expect(h.ivState(code, for: 3, "agenda")["current"] == 8)
        #expect(checkReplay(h))
    }

    @Test func gotoAndAFailingStepLeaveNothingBehind() {
        var (h, code) = room()
        var steps = agenda
        steps[2].definition = PollDefinition(question: "Rank", kind: .ranking)
        _ = h.send(1, .setAgenda(steps))
        #expect(h.send(1, .gotoStep(2))["step"] == 2)
        // Remove every need: the poll over needs cannot open, and moving there must change nothing at all.
        for n in 1...3 { _ = h.send(1, .removeNeed(n)) }
        let seqBefore = h.ivRoomState(code).seq, journalBefore = h.journal.count
        let refused = h.send(1, .nextStep)
        #expect(refused["code"] == "no_needs")
        #expect(h.ivRoomState(code).seq == seqBefore && h.journal.count == journalBefore)
        #expect(h.ivRoomState(code).polls[1]!.state == .open, "the running step's poll stays open")
        #expect(h.ivRoomState(code).show.running?.step == 2)
        #expect(h.send(1, .gotoStep(99))["code"] == "step_not_found")
        #expect(h.send(2, .nextStep)["code"] == "not_facilitator")
        #expect(h.send(1, .gotoStep(7))["step"] == 7)
        #expect(h.ivRoomState(code).polls[1]!.state == .closed)
        #expect(checkReplay(h))
    }

    @Test func agendaChecksStepsAndKeepsTheRunningOne() {
        var (h, _) = room()
        #expect(h.send(1, .nextStep)["code"] == "agenda_end")
        #expect(h.send(1, .setAgenda([step(.pause)]))["message"] == "steps[0].seconds: must be 1...86400")
        #expect(h.send(1, .setAgenda([step(.poll)]))["code"] == "invalid_field")
        #expect(h.send(1, .setAgenda([step(.poll) { $0.poll = 9 }]))["code"] == "poll_not_found")
        #expect(h.send(1, .setAgenda([step(.announcement)]))["code"] == "invalid_field")
        #expect(h.send(1, .setAgenda(Array(repeating: step(.welcome), count: 51)))["code"] == "too_large")
        #expect(
            h.send(
                1,
                .setAgenda([
                    step(.groups) {
                        $0.groups = {
                            var g = GroupsPlan(); g.assign = "bogus"; g.groups = [.init(name: "A")]; return g
                        }()
                    }
                ]))["code"] == "invalid_field")
        var bad = ivSettings(turn: 5)
        bad.group = nil
        #expect(h.send(1, .setAgenda([step(.interviews) { $0.interviews = bad }]))["message"] == "steps[0].interviews.turnSeconds: must be 10...7200")
        let ok = h.send(1, .setAgenda([step(.welcome), step(.closing)]))
        #expect(ok["steps"] == [1, 2])
        #expect(h.send(1, .nextStep)["step"] == 1)
        // Edits keep known ids; the running step may not disappear. It comes back as checking makes it (default title).
        #expect(h.send(1, .setAgenda([step(.closing)]))["code"] == "step_locked")
        let edited = h.send(1, .setAgenda([AgendaStep(id: 1, kind: .welcome), step(.needsIntake), AgendaStep(id: 2, kind: .closing, title: "Bye")]))
        #expect(edited["steps"] == [1, 3, 2])
        #expect(h.send(1, .nextStep)["step"] == 3)
    }

    @Test func stepsRunOrRunningAreLocked() {
        var (h, code) = room()
        let plan = [step(.welcome, "Hello"), step(.needsIntake, "Needs"), step(.pause, "Stretch") { $0.seconds = 60 }, step(.closing, "Bye")]
        _ = h.send(1, .setAgenda(plan))
        // Before the session starts everything is a plan: reorder freely.
        #expect(
            h.send(1, .setAgenda([AgendaStep(id: 2, kind: .needsIntake, title: "Needs")] + [1, 3, 4].map { id in withID(plan[id - 1], id) }))["steps"] == [
                2, 1, 3, 4,
            ])
        _ = h.send(1, .setAgenda((1...4).map { withID(plan[$0 - 1], $0) }))
        #expect(h.send(1, .nextStep)["step"] == 1)
        #expect(h.send(1, .nextStep)["step"] == 2)
        let current = h.ivRoomState(code).show.steps
        let seq = h.ivRoomState(code).seq, journal = h.journal.count

        var renamed = current
        renamed[0].title = "Hi"
        let ran = h.send(1, .setAgenda(renamed))
        #expect(ran["code"] == "step_locked" && ran["message"] == "step 1 (Hello) has already run and cannot be edited; change only the steps after it")
        renamed = current
        renamed[1].text = "Tell us more"
        #expect(h.send(1, .setAgenda(renamed))["message"] == "step 2 (Needs) is running now and cannot be edited; change only the steps after it")
        #expect(h.send(1, .setAgenda(Array(current.dropFirst())))["code"] == "step_locked", "removing a step that ran")
        #expect(h.send(1, .setAgenda([current[0], current[2], current[1], current[3]]))["message"]?.stringValue?.contains("cannot be moved") == true)
        #expect(h.send(1, .setAgenda([step(.welcome)] + current))["code"] == "step_locked", "a new step before history moves it")
        #expect(h.send(1, .setAgenda([current[0], current[2], current[3]]))["message"] == "step 2 (Needs) is running now and cannot be removed")
        #expect(h.ivRoomState(code).seq == seq && h.journal.count == journal, "a refusal changes nothing")

        // The steps after the running one stay a plan: edit, reorder, add, remove.
        var future = current
        future[2].seconds = 120
        future.swapAt(2, 3)
        future.append(step(.announcement) { $0.text = "Lunch" })
        #expect(h.send(1, .setAgenda(future))["steps"] == [1, 2, 4, 3, 5])
        #expect(h.ivRoomState(code).show.steps[3].seconds == 120)
        #expect(h.send(1, .setAgenda(Array(h.ivRoomState(code).show.steps.prefix(3))))["steps"] == [1, 2, 4])

        // Going back does not unlock what ran: step 2 stays history while step 1 runs again.
        #expect(h.send(1, .gotoStep(1))["step"] == 1)
        renamed = h.ivRoomState(code).show.steps
        renamed[1].title = "Needs again"
        #expect(h.send(1, .setAgenda(renamed))["message"] == "step 2 (Needs) has already run and cannot be edited; change only the steps after it")
        #expect(h.ivRoomState(code).show.locked == [1, 2])
        // Facilitators' editors learn what is locked; members do not need to.
        #expect(h.ivState(code, for: 1, "agenda")["locked"] == [1, 2])
        #expect(h.ivState(code, for: 2, "agenda")["locked"] == nil)
        #expect(checkReplay(h))
    }

    func withID(_ s: AgendaStep, _ id: Int) -> AgendaStep {
        var s = s
        s.id = id
        return s
    }

    @Test func wallRevealAfterVoteTurnoutAndAnnouncement() {
        var (h, code) = room()
        _ = h.send(5, .join(.init(code: code, name: "Wall", role: .observer)))
        _ = h.send(1, .createPoll(PollDefinition(question: "Hidden", kind: .single, labels: ["A", "B"], visibility: .facilitator), openNow: true))
        _ = h.send(1, .createPoll(PollDefinition(question: "After vote", kind: .single, labels: ["A", "B"], visibility: .afterVote), openNow: true))
        _ = h.send(1, .createPoll(PollDefinition(question: "Draft", kind: .single, labels: ["A", "B"]), openNow: false))
        #expect(h.send(1, .showWall(Wall(view: .results, poll: 1)))["code"] == "results_hidden")
        #expect(h.send(1, .showWall(Wall(view: .poll, poll: 3)))["code"] == "poll_not_open")
        #expect(h.send(2, .showWall(Wall(view: .needs)))["code"] == "not_facilitator")
        #expect(h.send(1, .showWall(Wall(view: .needs)))["type"] == "ack")
        #expect(h.ivState(code, for: 5, "wall")["view"] == "needs")

        // Facilitator votes do not count in the turnout; members do.
        _ = h.send(1, .castVote(poll: 1, ballot: ["option": 1]))
        _ = h.send(2, .castVote(poll: 1, ballot: ["option": 2]))
        _ = h.send(2, .castVote(poll: 2, ballot: ["option": 1]))
        h.inbox = [:]
        h.ivTick(h.now + 1_000)
        let turnout = h.ivGot(5, "poll.turnout").first { $0["poll"] == 1 }
        #expect(turnout?["answered"] == 1 && turnout?["present"] == 3, "members 2-4 present, the facilitator and the wall excluded")
        let responses = h.ivGot(1, "poll.results").first { $0["poll"] == 1 }?["responses"]
        #expect(responses?["present"] == 3 && responses?["answered"] == 1 && responses?["ballots"] == 2)
        // Hidden results reach nobody but facilitators; after-vote results reach who voted.
        #expect(h.ivGot(2, "poll.results").map { $0["poll"] } == [2])
        #expect(h.ivGot(3, "poll.results").isEmpty && h.ivGot(5, "poll.results").isEmpty)
        #expect(h.ivState(code, for: 2, "polls").arrayValue?[1]["results"] != nil)
        #expect(h.ivState(code, for: 3, "polls").arrayValue?[1]["results"] == nil)

        // Reveal: an event, then everyone gets the results; the wall may show them.
        h.inbox = [:]
        #expect(h.send(1, .revealPoll(1))["poll"] == 1)
        #expect(h.ivGot(3, "poll.revealed").first?["poll"] == 1)
        h.ivTick(h.now + 1_000)
        #expect(h.ivGot(3, "poll.results").contains { $0["poll"] == 1 })
        #expect(h.send(1, .showWall(Wall(view: .results, poll: 1)))["type"] == "ack")
        #expect(h.ivState(code, for: 3, "polls").arrayValue?[0]["revealed"] == true)

        // The announcement stands until cleared: in room.state for a wall opened later.
        _ = h.send(1, .announce(text: "Lunch at noon", group: nil))
        _ = h.send(6, .join(.init(code: code, name: "Wall 2", role: .observer)))
        #expect(h.ivState(code, for: 6, "announcement")["text"] == "Lunch at noon")
        h.inbox = [:]
        #expect(h.send(1, .clearAnnouncement)["type"] == "ack")
        #expect(h.ivGot(6, "room.announcementCleared").count == 1)
        #expect(h.ivState(code, for: 6, "announcement") == .null)
        #expect(checkReplay(h))
    }

    @Test func turnoutFollowsPresence() {
        var (h, _) = room()
        _ = h.send(1, .createPoll(PollDefinition(question: "Q", kind: .single, labels: ["A", "B"]), openNow: true))
        h.ivTick(h.now + 1_000)
        h.inbox = [:]
        h.disconnect(4)
        h.ivTick(h.now + 1_000)
        #expect(h.ivGot(2, "poll.turnout").last?["present"] == 2)
    }

    /// The journal replayed into a fresh coordinator gives the same rooms, and the snapshot round-trips.
    func checkReplay(_ h: Harness) -> Bool {
        var fresh = Coordinator(entropy: SeededEntropy(seed: 7), hasher: TestHasher())
        for j in h.journal { try? fresh.replay(j) }
        for (code, live) in h.coordinator.rooms {
            guard let r = fresh.rooms[code], r.snapshotValue == live.snapshotValue else { return false }
            guard let restored = try? Room(snapshot: live.snapshotValue), restored.snapshotValue == live.snapshotValue else { return false }
            if live.show.snapshotValue != restored.show.snapshotValue || live.show.wall != r.show.wall || live.show.running != r.show.running { return false }
        }
        return true
    }
}
