#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex, for the domain's few caches (`SharedValue`, `ProfileCache`): the service
/// thread is their only user today, the lock keeps them correct if a copy of a value or a coordinator ever
/// crosses threads. pthread rather than `Synchronization.Mutex`: ThreadSanitizer on Linux reports false races
/// on the latter (Scripts/sanitizers.sh), as `RoundtableStore.Locked` explains.
///
/// `@unchecked Sendable` is safe: `value` is only touched inside `withLock`, with the mutex held, and the
/// mutex lives in heap memory that never moves.
final class Guarded<T>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: T

    init(_ initial: T) {
        value = initial
        mutex = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
