import RoundtableWire
import Testing

@testable import RoundtableCore

/// Community requests as frames, and community ops through the journal's bytes.
@Suite struct CommunityWireTests {
    static func decode(_ text: String) -> Result<Command, DomainError> {
        do throws(RejectedFrame) { return .success(try RequestDecoder.decode(Array(text.utf8)).command) } catch { return .failure(error.error) }
    }

    static let cred = Community.Credentials(id: "C7Q2M9XK4T", key: "k")
    static let auth = #""community":"C7Q2M9XK4T","facilitatorKey":"k""#

    @Test func requestsDecode() {
        #expect(Self.decode(#"{"type":"community.create","name":"Peers"}"#) == .success(.createCommunity(name: "Peers", createToken: nil)))
        #expect(Self.decode(#"{"type":"community.import",\#(Self.auth),"csv":"name\nAna\n"}"#) == .success(.importRoster(Self.cred, .csv("name\nAna\n"))))
        #expect(
            Self.decode(#"{"type":"community.import",\#(Self.auth),"members":[{"name":"Ana","expertise":["grants"],"group":"East"}]}"#)
                == .success(.importRoster(Self.cred, .rows([.init(name: "Ana", expertise: ["grants"], group: "East")]))))
        #expect(Self.decode(#"{"type":"community.export",\#(Self.auth)}"#) == .success(.exportCommunity(Self.cred)))
        #expect(Self.decode(#"{"type":"community.reissueKey",\#(Self.auth),"member":3}"#) == .success(.reissueCommunityKey(Self.cred, member: 3)))
        #expect(Self.decode(#"{"type":"community.reissueKey",\#(Self.auth)}"#) == .success(.reissueCommunityKey(Self.cred, member: nil)))
        #expect(
            Self.decode(#"{"type":"community.needStatus",\#(Self.auth),"need":2,"status":"addressed"}"#)
                == .success(.setBacklogStatus(Self.cred, need: 2, .addressed, owner: nil)))
        guard case .success(.createRoom(let r)) = Self.decode(#"{"type":"room.create","title":"T","name":"F",\#(Self.auth)}"#) else {
            Issue.record("room.create with a community did not decode")
            return
        }
        #expect(r.community == Self.cred)
        guard case .success(.join(let j)) = Self.decode(#"{"type":"room.join","room":"E7Z98H5K","communityKey":"abc"}"#) else {
            Issue.record("room.join with a communityKey did not decode")
            return
        }
        #expect(j.communityKey == "abc" && j.name == nil)
    }

    @Test func memberRequestsDecode() {
        let member = Community.Credentials(id: "C7Q2M9XK4T", key: "m", asMember: true)
        let mauth = #""community":"C7Q2M9XK4T","communityKey":"m""#
        #expect(
            Self.decode(#"{"type":"community.needStatus",\#(Self.auth),"need":2,"status":"in_progress","owner":3}"#)
                == .success(.setBacklogStatus(Self.cred, need: 2, .inProgress, owner: 3)))
        #expect(
            Self.decode(#"{"type":"community.needStatus",\#(Self.auth),"need":2,"status":"open","owner":null}"#)
                == .success(.setBacklogStatus(Self.cred, need: 2, .open, owner: .some(nil))))
        #expect(
            Self.decode(#"{"type":"community.profile",\#(mauth),"bio":"Nurse","listed":false}"#)
                == .success(.communityProfile(member, .init(.init(bio: "Nurse"), listed: false))))
        #expect(
            Self.decode(#"{"type":"community.directory",\#(mauth),"tag":"grants","need":4,"limit":10,"offset":5}"#)
                == .success(.communityDirectory(member, .init(tag: "grants", need: 4, limit: 10, offset: 5))))
        #expect(Self.decode(#"{"type":"community.directory",\#(Self.auth)}"#) == .success(.communityDirectory(Self.cred, .init())))
        #expect(
            Self.decode(#"{"type":"community.groups",\#(Self.auth),"groups":[{"group":2,"name":"Grants","focus":[4],"members":[1,3]},{"name":"New"}]}"#)
                == .success(.communityGroups(Self.cred, [.init(group: 2, name: "Grants", focus: [4], members: [1, 3]), .init(name: "New")])))
        #expect(Self.decode(#"{"type":"community.view",\#(mauth)}"#) == .success(.communityView(member)))
        #expect(Self.decode(#"{"type":"community.view",\#(Self.auth)}"#) == .success(.communityView(Self.cred)))
        for text in [
            #"{"type":"community.profile",\#(Self.auth),"bio":"x"}"#, // (M) only
            #"{"type":"community.groups",\#(mauth),"groups":[]}"#, // (F) only
            #"{"type":"community.view","community":"C7Q2M9XK4T","facilitatorKey":"k","communityKey":"m"}"#, // both keys
            #"{"type":"community.view","community":"C7Q2M9XK4T"}"#, // no key
            #"{"type":"community.directory",\#(mauth),"limit":0}"#,
            #"{"type":"community.directory",\#(mauth),"limit":201}"#,
            #"{"type":"community.groups",\#(Self.auth),"groups":[{"name":"A","members":[0]}]}"#,
            #"{"type":"community.needStatus",\#(Self.auth),"need":2,"status":"open","owner":"x"}"#,
        ] {
            guard case .failure(let e) = Self.decode(text) else {
                Issue.record("accepted: \(text)")
                continue
            }
            #expect(e.code == "invalid_field", "\(text): \(e)")
        }
    }

    @Test func badRequestsGetFieldErrors() {
        for text in [
            #"{"type":"community.export","community":"C7Q2M9XK4T"}"#, // no key
            #"{"type":"community.import",\#(Self.auth)}"#, // neither csv nor members
            #"{"type":"community.import",\#(Self.auth),"csv":"name\n","members":[]}"#, // both
            #"{"type":"community.import",\#(Self.auth),"members":[{"organization":"x"}]}"#, // a row without a name
            #"{"type":"community.needStatus",\#(Self.auth),"need":2,"status":"merged"}"#,
            #"{"type":"room.create","title":"T","name":"F","community":"C7Q2M9XK4T"}"#, // community without its key
        ] {
            guard case .failure(let e) = Self.decode(text) else {
                Issue.record("accepted: \(text)")
                continue
            }
            #expect(e.code == "invalid_field", "\(text): \(e)")
        }
    }

    static let ops: [CommunityOp] = [
        .created(name: "Peers \"North\"", facilitatorKeyHash: "h1"),
        .membersSet([CommunityMember(id: 1, name: "Ana", organization: "Clinic", expertise: ["grants"], keyHash: "h2", group: "East")]),
        .facilitatorKeyReissued(hash: "h3"),
        .sessionOpened(room: "E7Z98H5K", needs: [1: 4, 2: 7]),
        .harvested(
            Harvest(
                room: "E7Z98H5K",
                needs: [
                    .init(roomNeed: 3, need: 8, text: "Data", tags: ["d"], mergedInto: nil, rank: 1, score: 0.75),
                    .init(roomNeed: 4, need: 9, text: "Dup", tags: [], mergedInto: 8, rank: nil, score: nil),
                ],
                profiles: [.init(id: 1, name: "Ana R", organization: "Clinic", expertise: [])], pairs: [PairKey(1, 2)])),
        .needStatusSet(need: 8, .addressed, owner: nil),
        .needStatusSet(need: 9, .merged(into: 8), owner: nil),
        .needStatusSet(need: 8, .inProgress, owner: 2),
        .membersSet([Self.profiled]),
        .groupsSet([
            StandingGroup(id: 2, name: "Grants team", description: "Writes the joint bid", focus: [8], members: [1, 3]), StandingGroup(id: 5, name: "Data"),
        ]),
        .groupsSet([]),
        .harvested(
            Harvest(
                room: "E7Z98H5K", profiles: [.init(id: 1, name: "Ana", organization: "Clinic", expertise: ["data"], bio: "Nurse", editedAt: 42)],
                highlights: [1: ["Knows every grant deadline"], 3: []], standing: [1: 2, 3: Int?.none], attendance: 4)),
    ]

    static var profiled: CommunityMember {
        var m = CommunityMember(id: 1, name: "Ana", organization: "Clinic", expertise: ["grants"], keyHash: "h2", group: "East")
        m.bio = "Runs the valley clinic"
        m.highlights = ["Great listener", "Knows every grant deadline"]
        m.listed = false
        m.profileEditedAt = 1_700_000_000_123
        return m
    }

    @Test(arguments: ops) func opsSurviveTheJournalBytes(_ op: CommunityOp) throws {
        let entry = JournalEntry(room: "C7Q2M9XK4T", seq: 3, at: 1_700_000_000_000, journalOp: .community(op))
        let bytes = JournalOpEncoder.payload(entry)
        guard case .community(let back) = try JournalOp(value: JSON.parse(bytes)) else {
            Issue.record("not read back as a community op")
            return
        }
        #expect(back == op)
    }
}
