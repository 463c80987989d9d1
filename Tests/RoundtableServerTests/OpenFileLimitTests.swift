import Testing

@testable import RoundtableServer

@Suite("Open-file limit fitted to the connections")
struct OpenFileLimitTests {
    @Test func targetIsConnectionsPlusTheReserveUnderTheHardLimit() {
        #expect(OpenFileLimit.target(connections: 300, hard: 1_048_576) == 1_324, "a container's limit comes down")
        #expect(OpenFileLimit.target(connections: 3_000, hard: 20_000) == 4_024, "a low soft limit goes up")
        #expect(OpenFileLimit.target(connections: 19_900, hard: 20_000) == 20_000, "never above the hard limit")
        #expect(OpenFileLimit.target(connections: -5, hard: 20_000) == UInt64(OpenFileLimit.reserve))
    }
}
