import RoundtableCore

/// Seeded SplitMix64 as a `RandomNumberGenerator`, so a failing random or property test reproduces from its seed.
/// It is Core's `SeededEntropy` (the same algorithm, the same sequence for the same seed) under the protocol
/// that `Int.random(in:using:)`, `shuffled(using:)` and friends take.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var source: SeededEntropy
    public init(seed: UInt64) { source = SeededEntropy(seed: seed) }
    public mutating func next() -> UInt64 { source.next() }
}
