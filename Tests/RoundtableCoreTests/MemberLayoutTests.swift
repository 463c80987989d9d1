import Testing

@testable import RoundtableCore

/// Every room keeps a table of its members: a wider `Member` moves a room of 100 into a larger allocation.
@Suite struct MemberLayoutTests {
    @Test func memberStaysAt112Bytes() {
        #expect(MemoryLayout<Member>.stride == 112)
    }
}
