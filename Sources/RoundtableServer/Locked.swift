#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex. Chosen over `Synchronization.Mutex` because ThreadSanitizer
/// reports false races on Mutex's raw futex on Linux, and the sanitizer run must stay clean.
public final class Locked<Value>: @unchecked Sendable {
    // Safe: every access to `value` goes through `withLock`, which holds the mutex.
    private var mutex = pthread_mutex_t()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body(&value)
    }
}

/// Bytes shared by every connection a broadcast goes to: encoded once, referenced many times.
public final class SharedBytes: @unchecked Sendable {
    // Safe: immutable after init.
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// Wall-clock milliseconds since the epoch, for the `at` of events. Only the server reads clocks.
public func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Monotonic seconds, for rate limits and timeouts that must not jump with the wall clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
