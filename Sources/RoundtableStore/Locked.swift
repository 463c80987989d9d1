#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// State guarded by a pthread mutex, with a condition variable for the journal writer's wake-ups. The one lock of
/// the package: the server's shared state uses it too (`withLock` only; the condition variable then stays idle).
///
/// pthread rather than `Synchronization.Mutex` because ThreadSanitizer on Linux reports false races on the
/// latter, and we need a condition variable with a monotonic timed wait anyway.
///
/// `@unchecked Sendable` is safe: `state` is only read or written inside `withLock`, i.e. with the mutex
/// held, and the pthread objects live in heap memory that never moves.
public final class Locked<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private let state: UnsafeMutablePointer<State>

    public init(_ initial: State) {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        state = .allocate(capacity: 1)
        state.initialize(to: initial)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init")
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        #if os(Linux)
        // Wall-clock jumps must not stretch or shrink the once-per-second fsync.
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        #endif
        precondition(pthread_cond_init(cond, &attr) == 0, "pthread_cond_init")
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        state.deinitialize(count: 1)
        state.deallocate()
        cond.deallocate()
        mutex.deallocate()
    }

    public func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }

    /// Waits (mutex released while asleep) until `ready` holds or `deadline` (monotonic nanoseconds) passes,
    /// then runs `body` under the same lock hold so nothing slips in between the check and the take.
    public func withLock<R>(
        waitingUntil ready: (inout State) -> Bool,
        deadline: UInt64?,
        _ body: (inout State) -> R
    ) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(&state.pointee) {
            if let deadline {
                if monotonicNanos() >= deadline { break }
                #if os(Linux)
                var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                _ = pthread_cond_timedwait(cond, mutex, &ts)
                #else
                let left = deadline - monotonicNanos()
                var ts = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
                _ = pthread_cond_timedwait_relative_np(cond, mutex, &ts)
                #endif
            } else {
                pthread_cond_wait(cond, mutex)
            }
        }
        return body(&state.pointee)
    }

    public func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }
}
