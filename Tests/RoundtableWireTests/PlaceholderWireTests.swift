import Testing

@Suite struct WireSmoke {
    @Test func targetBuilds() { #expect(Bool(true)) }
}
