import Testing

@Suite struct ServerSmoke {
    @Test func targetBuilds() { #expect(Bool(true)) }
}
