import Testing

@testable import RoundtableCore

/// The community requests as an attacker and a careless client use them: keys across communities and roles,
/// unbounded inputs, and the journal rebuilding the same state after any sequence of requests.
@Suite struct CommunityAuditTests {
    typealias T = CommunityHomeTests

    /// Every way of writing `id` that the server reads as the same community.
    static func spellings(_ id: String) -> [String] {
        let confusable = String(id.map { c -> Character in c == "0" ? "o" : c == "1" ? "l" : c })
        return [id, id.lowercased(), " " + id + " ", String(id.prefix(4)) + "-" + id.dropFirst(4), confusable]
    }

    /// Each community request with `cred`: what must be refused when `cred` does not hold the right key.
    static func everyRequest(_ cred: Community.Credentials) -> [Command] {
        let f = Community.Credentials(id: cred.id, key: cred.key)
        let m = Community.Credentials(id: cred.id, key: cred.key, asMember: true)
        return [
            .importRoster(f, .rows([.init(name: "Mallory")])), .exportCommunity(f), .reissueCommunityKey(f, member: nil),
            .reissueCommunityKey(f, member: 1), .setBacklogStatus(f, need: 1, .addressed, owner: nil),
            .communityGroups(f, [.init(name: "Taken")]), .createRoom(.init(title: "Hijack", name: "M", community: f)),
            .communityView(f), .communityDirectory(f, .init()), .communityProfile(m, .init(.init(bio: "defaced"))),
            .communityView(m), .communityDirectory(m, .init()),
        ]
    }

    @Test func keysOfOneCommunityOpenNothingInAnother() {
        var h = Harness()
        let (a, aKeys) = T.seeded(&h)
        let b = h.createCommunity("Other network")
        let bKeys = h.importMembers(b, T.rows)
        let bSession = h.openSession(b, from: 30)
        let before = h.coordinator.communities[b.id]!
        let wrongKeys = [a.key, aKeys["Ana"]!, "", String(repeating: "0", count: 64), b.key.uppercased(), String(b.key.dropLast())]
        for id in Self.spellings(b.id) {
            for key in wrongKeys {
                for command in Self.everyRequest(Community.Credentials(id: id, key: key)) {
                    #expect(h.send(91, command)["code"] == "bad_credentials", "\(command)")
                }
            }
        }
        // Another community's prefix spliced onto this one's tail names no community at all.
        let spliced = String(a.id.prefix(5) + b.id.dropFirst(5))
        for command in Self.everyRequest(Community.Credentials(id: spliced, key: b.key)) {
            #expect(h.send(91, command)["code"] == "community_not_found", "\(command)")
        }
        #expect(h.coordinator.communities[b.id] == before)
        // A member key of A, used as B's facilitator key or to join B's session, is refused too.
        #expect(h.joinWithKey(92, bSession, aKeys["Ana"]!)["code"] == "bad_credentials")
        // A member key where only the facilitator key is allowed.
        for command in Self.everyRequest(Community.Credentials(id: b.id, key: bKeys["Ana"]!)).prefix(7) {
            #expect(h.send(91, command)["code"] == "bad_credentials", "\(command)")
        }
        // Every spelling of B's id with B's own keys does reach B.
        for id in Self.spellings(b.id) {
            #expect(h.send(91, .communityView(.init(id: id, key: b.key)))["community"] == .string(b.id))
            #expect(h.send(91, .communityView(.init(id: id, key: bKeys["Ben"]!, asMember: true)))["role"] == "member")
        }
        #expect(h.coordinator.communities[b.id] == before)
    }

    @Test func reissuedKeysStopWorkingEverywhere() {
        var h = Harness()
        let (cred, keys) = T.seeded(&h)
        let ana = h.send(90, .reissueCommunityKey(cred, member: 1))["communityKey"]!.stringValue!
        let session = h.openSession(cred, from: 10)
        #expect(h.joinWithKey(11, session, keys["Ana"]!)["code"] == "bad_credentials")
        #expect(h.send(11, .communityView(T.member(cred, keys["Ana"]!)))["code"] == "bad_credentials")
        #expect(h.send(11, .communityProfile(T.member(cred, keys["Ana"]!), .init(listed: false)))["code"] == "bad_credentials")
        #expect(h.joinWithKey(11, session, ana)["communityMember"] == 1)
        let facilitator = h.send(90, .reissueCommunityKey(cred, member: nil))["facilitatorKey"]!.stringValue!
        for command in Self.everyRequest(cred).prefix(10) { #expect(h.send(91, command)["code"] == "bad_credentials", "\(command)") }
        #expect(h.send(91, .exportCommunity(.init(id: cred.id, key: facilitator)))["type"] == "ack")
    }

    /// A re-import finds members by name and organization: a member who took another's would get their roster row.
    @Test func aMemberCannotTakeAnotherMembersIdentity() {
        var h = Harness()
        let (cred, keys) = T.seeded(&h)
        let ben = T.member(cred, keys["Ben"]!)
        for (name, org) in [("Ana", "Clinic"), (" ana ", "CLINIC"), ("ANA", " clinic")] {
            let reply = h.send(91, .communityProfile(ben, .init(.init(name: name, organization: org))))
            #expect(reply["code"] == "invalid_field" && reply["message"]?.stringValue?.contains("name") == true, "\(name) \(org)")
        }
        // In two steps (the organization first, then the name) too.
        #expect(h.send(91, .communityProfile(ben, .init(.init(organization: "Clinic"))))["type"] == "ack")
        #expect(h.send(91, .communityProfile(ben, .init(.init(name: "Ana"))))["code"] == "invalid_field")
        // Their own identity in another case is theirs to keep.
        #expect(h.send(91, .communityProfile(ben, .init(.init(name: "BEN"))))["type"] == "ack")
        // An edit made in a session does not carry a taken identity into the community (the rest of it does).
        let s = h.openSession(cred, from: 10)
        _ = h.joinWithKey(12, s, keys["Cy"]!)
        _ = h.send(12, .updateMember(.init(name: "Ana", organization: "clinic", bio: "renamed in the room")))
        _ = h.send(10, .closeRoom)
        let cy = h.coordinator.communities[cred.id]!.members[3]!
        #expect(cy.name == "Cy" && cy.organization == "Co-op" && cy.bio == "renamed in the room")
        // So the facilitator's re-import of Ana's row reaches Ana, on every run.
        let ack = h.send(90, .importRoster(cred, .rows([.init(name: "Ana", organization: "Clinic", group: "East")])))
        #expect(ack["members"]?.arrayValue?.first?["member"] == 1 && ack["members"]?.arrayValue?.first?["existing"] == true)
        #expect(h.coordinator.communities[cred.id]!.members[1]!.group == "East")
    }

    @Test func directoryTagIsBoundedByMaxTagLength() {
        var limits = Limits()
        limits.maxTagLength = 12
        var h = Harness(limits: limits)
        let (cred, keys) = T.seeded(&h)
        let long = String(repeating: "data ", count: 3) // 15 characters: no stored tag can be that long
        for c in [cred, T.member(cred, keys["Ana"]!)] {
            let reply = h.send(91, .communityDirectory(c, .init(tag: long)))
            #expect(reply["code"] == "too_large" && reply["message"]?.stringValue?.contains("tag") == true)
            #expect(h.send(91, .communityDirectory(c, .init(tag: "  data  ")))["total"] == 2)
        }
    }

    /// Random community requests (good and bad) through the coordinator; replaying the journal into a fresh
    /// coordinator gives the same communities, and so does a snapshot of them.
    @Test(arguments: [1, 2, 3, 4, 5, 6]) func journalReplayRebuildsAnyRequestSequence(seed: UInt64) throws {
        var h = Harness()
        var rng = SplitMix(seed: seed)
        let (cred, first) = T.seeded(&h)
        var keys = Array(first.values)
        var facilitator = cred
        var sessions: [String] = []
        for step in 0..<160 {
            let c = ConnectionID(100 + step % 7)
            let member = Community.Credentials(id: cred.id, key: keys[rng.below(keys.count)], asMember: true)
            let id = 1 + rng.below(8)
            switch rng.below(12) {
            case 0:
                let names = (0..<1 + rng.below(3)).map { _ in Roster.Row(name: "P\(rng.below(9))", organization: "O", expertise: ["t\(rng.below(4))"]) }
                let ack = h.send(90, .importRoster(facilitator, .rows(names)))
                keys += ack["members"]?.arrayValue?.compactMap { $0["communityKey"]?.stringValue } ?? []
            case 1:
                if let k = h.send(90, .reissueCommunityKey(facilitator, member: id))["communityKey"]?.stringValue { keys.append(k) }
            case 2:
                if let k = h.send(90, .reissueCommunityKey(facilitator, member: nil))["facilitatorKey"]?.stringValue {
                    facilitator = Community.Credentials(id: cred.id, key: k)
                }
            case 3:
                let statuses: [BacklogStatus] = [.open, .inProgress, .addressed]
                let owner: Int?? = [nil, .some(nil), .some(1 + rng.below(3))][rng.below(3)]
                h.send(90, .setBacklogStatus(facilitator, need: 1 + rng.below(4), statuses[rng.below(3)], owner: owner))
            case 4:
                let specs = (0..<rng.below(4)).map { i in
                    Command.StandingGroupSpec(
                        group: rng.below(2) == 0 ? nil : 1 + rng.below(5), name: "G\(i)", focus: [1 + rng.below(3)], members: [1 + rng.below(6)])
                }
                h.send(90, .communityGroups(facilitator, specs))
            case 5:
                h.send(c, .communityProfile(member, .init(.init(expertise: ["t\(rng.below(4))"], bio: "b\(step)"), listed: rng.below(3) != 0)))
            case 6:
                let ack = h.send(c, .createRoom(.init(title: "S\(step)", name: "F", community: facilitator)))
                if let room = ack["room"]?.stringValue { sessions.append(room) }
            case 7:
                if let s = sessions.last { _ = h.joinWithKey(c, s, keys[rng.below(keys.count)]) }
            case 8:
                h.send(c, .submitNeed(text: "need \(rng.below(20))", tags: ["t\(rng.below(4))"]))
            case 9:
                h.send(c, .updateMember(.init(bio: "room \(step)")))
            case 10:
                if rng.below(2) == 0 { h.send(c, .joinGroup(1 + rng.below(3))) } else { h.send(c, .closeRoom) }
            default:
                h.disconnect(c)
            }
        }
        let live = h.coordinator.communities
        var replayed = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        for e in h.journal { try replayed.replay(JournalEntry(room: e.room, seq: e.seq, at: e.at, op: e.op)) }
        #expect(replayed.communities == live)
        var restored = Coordinator(entropy: SeededEntropy(seed: 1), hasher: TestHasher())
        try restored.restore(snapshot: Coordinator.snapshotValue([:], archived: [:], communities: live))
        #expect(restored.communities == live)
    }
}

/// A small deterministic generator for the replay test (the domain has no randomness of its own).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
