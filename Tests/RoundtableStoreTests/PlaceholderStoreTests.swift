import Testing

@Suite struct StoreSmoke {
    @Test func targetBuilds() { #expect(Bool(true)) }
}
