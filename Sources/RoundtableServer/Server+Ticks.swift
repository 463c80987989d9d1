import RoundtableCore
import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// When the service loop runs `Coordinator.tick`.
///
/// Every wake of the loop costs a `poll()` over every socket (~1 µs each: ~5 ms at 5,000 connections,
/// ~19 ms at 19,000 in the perf profiles), so the ticker wakes it every 50 ms only while something is
/// waiting for a tick (a coalesced flush, a timer, interviews) and every 500 ms otherwise (housekeeping
/// counts in seconds). And a flush that is already due runs at the end of the pass that made it due
/// instead of waiting up to 50 ms for the next tick: `tick` itself still enforces `resultsIntervalMs`,
/// so coalescing is unchanged — only the leading edge comes sooner. The eager flush waits until no
/// journal batch is pending, so the results follow the acks of the votes they count (flushing first put
/// a 5,000-member room's results ahead of the voter's ack: ack p50 12 -> 30 ms) and count durable votes.
/// When the service thread writes the journal itself (fsync none/everysec), the write and the acks' release
/// come first in the pass, so the flush then finds nothing pending and the results go out in the same pass.
extension RoundtableServer {
    static let fastTickMicros: UInt32 = 50_000
    static let slowTickSeconds = 0.5

    /// The slow tick, shortened when sub-second timeouts (integration tests) need the deadline scan sooner.
    var slowTickSeconds: Double { min(Self.slowTickSeconds, NodeMachine(settings: .init(config), now: 0).scanInterval) }

    /// After every `lws_service` pass, on the service thread.
    ///
    /// Under `always` the pass's appends go to the writer thread (`wakeWriter`) and come back as reports.
    /// Under `none` and `everysec` this thread writes them itself and releases their acks in the same pass
    /// (`writeJournalInline`), with no hand-off: one pass is then read, write, acks, results.
    func afterServicePass() {
        let inline = journal?.writesInline == true
        if inline { writeJournalInline() }
        if ready && !storageFailing && machine.pendingBatches == 0 && coordinator.hasPendingFlush {
            let now = monotonicSeconds()
            // At most every 5 ms: `tick` also walks every room for timers.
            if now - lastEagerTick >= 0.005 {
                lastEagerTick = now
                let effects = coordinator.tick(at: wallClockMillis())
                if !effects.isEmpty { run(effects) }
            }
        }
        let fast = coordinator.hasPendingFlush || hasTimedRooms
        if fast != fastTicksPublished {
            fastTicksPublished = fast
            fastTicks.withLock { $0 = fast }
        }
        if inline {
            // What the tick journaled (a timer's end, say) goes out now too, not a whole wake-up later.
            writeJournalInline()
        } else if journal?.wakeWriter() == true {
            // Let the writer take the core now (it only writes, or starts an fsync and sleeps): when its
            // report is back already, this pass releases the acks and the next one sends them, instead of
            // waiting a whole pass for the wake-up. Pinned to one core this is ~10 ms off a busy vote's
            // round trip; with a core of its own the writer is already running and this costs one syscall.
            sched_yield()
            drainDurableReports()
        }
    }

    /// Writes this pass's journal appends on this thread and releases what they held (acks, broadcasts):
    /// the writer reports synchronously, inside `writePending`, and `inline` keeps those reports from
    /// posting a wake-up the loop does not need.
    func writeJournalInline() {
        guard let journal, journal.hasUnwritten else { return }
        durableReports.withLock { $0.inline = true }
        let wrote = journal.writePending()
        durableReports.withLock { $0.inline = false }
        if wrote { drainDurableReports() }
    }

    /// A request that may start timed work: tick fast until the next tick has looked at every room.
    func noteTimedWork(_ command: Command) {
        switch command {
        case .startTimer, .startInterviews, .nextInterviewRound, .endInterviews, .rematch: hasTimedRooms = true
        default: break
        }
    }
}
