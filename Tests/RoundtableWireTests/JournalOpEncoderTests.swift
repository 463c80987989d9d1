import RoundtableCore
import RoundtableWire
import Testing

/// The journal's fast path for votes must write exactly the bytes the generic path writes, or replay and
/// tools that compare journals would see two shapes of the same op.
@Suite struct JournalOpEncoderTests {
    static let ballots: [Ballot] = [
        .single(3), .multi([1, 4, 2]), .multi([]), .ranking([5, 1, 3, 2]), .rating([2: 5, 1: -1, 10: 0]),
        .points([7: 40, 3: 60]), .points([:]), .open("More \"peer\" calls\nplease é"),
    ]

    @Test(arguments: ballots) func voteCastMatchesTheGenericEncoding(_ ballot: Ballot) throws {
        let op = RoomOp.voteCast(poll: 12, voter: "a0f3\u{1}x", ballot)
        let entry = JournalEntry(room: "ROOM42", seq: 9, at: 1_700_000_000_000, roomOp: op)
        let fast = JournalOpEncoder.payload(entry)
        #expect(fast == JSON.serialize(op.value))
        #expect(try RoomOp(value: JSON.parse(fast)) == op)
    }

    @Test func otherOpsUseTheirValue() {
        let op = RoomOp.voteRetracted(poll: 2, voter: "m7")
        let entry = JournalEntry(room: "R", seq: 1, at: 5, roomOp: op)
        #expect(JournalOpEncoder.payload(entry) == JSON.serialize(op.value))
        let built = JournalEntry(room: "R", seq: 1, at: 5, op: ["op": "archived", "x": 1])
        #expect(JournalOpEncoder.payload(built) == JSON.serialize(["op": "archived", "x": 1]))
        #expect(built != entry)
        #expect(JournalEntry(room: "R", seq: 1, at: 5, op: op.value) == entry)
    }
}
