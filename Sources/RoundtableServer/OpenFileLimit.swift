#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit, fitted to what the server needs.
///
/// lws sizes its fd table by the soft `RLIMIT_NOFILE` (one slot per fd the process may open), and Debian's
/// build (4.1.6, compiled with `_DEBUG`) walks that whole table on every close (`sanity_assert_no_sockfd_traces`):
/// half of a close's CPU at 20,000 slots (~60 µs per close, BENCHMARKS.md), so under a container's usual 1,048,576
/// every close would cost milliseconds and a mass disconnect minutes. The server never holds more than its
/// connections plus a few files, so `serve` sets the soft limit to exactly that (raising it when it is lower, up
/// to the hard limit). Only the `serve` command does this: it is a property of the whole process.
public enum OpenFileLimit {
    /// Files besides client connections: listening sockets, the event loop's descriptors, journal segments,
    /// snapshots and archives being written, key files, static files being served, /proc reads for metrics.
    public static let reserve = 1_024

    /// The soft limit to run with: connections plus the reserve, never above the hard limit.
    public static func target(connections: Int, hard: UInt64) -> UInt64 {
        min(hard, UInt64(max(0, connections)) + UInt64(reserve))
    }

    /// Sets the soft limit to `target`; returns (before, after) when it changed it, nil when it did not (or could not).
    public static func fit(connections: Int) -> (before: UInt64, after: UInt64)? {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return nil }
        let wanted = target(connections: connections, hard: UInt64(rl.rlim_max))
        let before = UInt64(rl.rlim_cur)
        guard wanted != before else { return nil }
        rl.rlim_cur = rlim_t(wanted)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return nil }
        return (before, wanted)
    }
}
