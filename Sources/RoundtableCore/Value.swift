/// A JSON-shaped value: the data model shared by requests, events, journal and exports.
///
/// The domain builds event payloads as `Value`s so the wire layer only serializes them; objects keep
/// their insertion order so `type`, `ref` and `room` come first in every frame a person reads.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    /// Integers are kept exact (seq numbers, timestamps, points); JSON numbers without a fraction or exponent decode here.
    case int(Int64)
    case double(Double)
    case string(String)
    case array([Value])
    case object(Object)
    /// A value built for many frames and serialized once (`SharedValue`). It equals, hashes and reads as
    /// the value it wraps; parsers never produce it.
    case shared(SharedValue)

    /// An insertion-ordered JSON object. Lookups are linear: protocol objects have a handful of keys.
    public struct Object: Sendable, Hashable, Sequence {
        public private(set) var pairs: [(key: String, value: Value)]

        public init() { pairs = [] }
        public init(_ pairs: [(String, Value)]) {
            self.pairs = []
            self.pairs.reserveCapacity(pairs.count)
            for (k, v) in pairs { self[k] = v }
        }

        public var count: Int { pairs.count }
        public var keys: [String] { pairs.map(\.key) }

        public subscript(key: String) -> Value? {
            get {
                for p in pairs where p.key == key { return p.value }
                return nil
            }
            set {
                if let i = pairs.firstIndex(where: { $0.key == key }) {
                    if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
                } else if let newValue {
                    pairs.append((key, newValue))
                }
            }
        }

        /// Adopts `pairs` as they are: for parsers that have checked the keys are distinct.
        public init(distinctPairs pairs: [(key: String, value: Value)]) { self.pairs = pairs }

        /// Appends without checking for an existing key: for builders that know their keys are distinct.
        public mutating func appendUnchecked(_ key: String, _ value: Value) { pairs.append((key, value)) }

        public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> { pairs.makeIterator() }

        public static func == (a: Object, b: Object) -> Bool {
            guard a.pairs.count == b.pairs.count else { return false }
            // Key order is presentation, not meaning.
            for p in a.pairs where b[p.key] != p.value { return false }
            return true
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(pairs.count)
            // Order-independent: XOR of per-pair hashes.
            var acc = 0
            for p in pairs {
                var h = Hasher()
                h.combine(p.key)
                h.combine(p.value)
                acc ^= h.finalize()
            }
            hasher.combine(acc)
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) { self = .object(Object(elements)) }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension Value {
    public init(_ i: Int) { self = .int(Int64(i)) }
    public init(_ s: String?) { self = s.map(Value.string) ?? .null }
    public init(_ strings: [String]) { self = .array(strings.map(Value.string)) }

    public var stringValue: String? {
        switch self {
        case .string(let s): s
        case .shared(let box): box.value.stringValue
        default: nil
        }
    }
    public var intValue: Int64? {
        switch self {
        case .shared(let box): box.value.intValue
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: Int64(d)
        default: nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .shared(let box): box.value.doubleValue
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    public var boolValue: Bool? { unshared.boolCase }
    public var arrayValue: [Value]? { if case .array(let a) = unshared { a } else { nil } }
    public var objectValue: Object? { if case .object(let o) = unshared { o } else { nil } }
    public var isNull: Bool { if case .null = unshared { true } else { false } }

    /// The wrapped value of a `.shared`; any other value as it is.
    public var unshared: Value {
        if case .shared(let box) = self { box.value.unshared } else { self }
    }

    private var boolCase: Bool? { if case .bool(let b) = self { b } else { nil } }

    public subscript(key: String) -> Value? { objectValue?[key] }
}

/// A value that many frames carry unchanged, encoded once when it is made and copied into every frame that
/// carries it: a large room's member profiles, which every joiner's `room.state` lists (issue 20: building
/// and encoding them was a third of the CPU of filling a room). Immutable, so any thread may read it.
public final class SharedValue: Sendable {
    public let value: Value
    /// The value's JSON, from the encoder the coordinator was given; nil without one (serializers encode `value`).
    public let encoded: [UInt8]?

    public init(_ value: Value, encoder: (any FragmentEncoder)? = nil) {
        self.value = value.unshared
        encoded = encoder?.encode(self.value)
    }
}

/// Turns a value into its JSON bytes. The domain does no I/O and knows no wire format: the server injects
/// this (`Coordinator.fragmentEncoder`) so values shared by many frames are encoded once.
public protocol FragmentEncoder: Sendable {
    func encode(_ value: Value) -> [UInt8]
}

extension Value {
    // Written out so that `.shared(x)` equals and hashes as `x.value`: a cached frame part is the same value.
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.shared(let x), _): x.value == b
        case (_, .shared(let y)): a == y.value
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .shared(let box): box.value.hash(into: &hasher)
        case .null: hasher.combine(0)
        case .bool(let b):
            hasher.combine(1)
            hasher.combine(b)
        case .int(let i):
            hasher.combine(2)
            hasher.combine(i)
        case .double(let d):
            hasher.combine(3)
            hasher.combine(d)
        case .string(let s):
            hasher.combine(4)
            hasher.combine(s)
        case .array(let a):
            hasher.combine(5)
            hasher.combine(a)
        case .object(let o):
            hasher.combine(6)
            hasher.combine(o)
        }
    }
}
