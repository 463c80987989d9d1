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
                == .success(.setBacklogStatus(Self.cred, need: 2, .addressed)))
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
        .needStatusSet(need: 8, .addressed),
        .needStatusSet(need: 9, .merged(into: 8)),
    ]

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
