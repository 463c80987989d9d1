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

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: Int64(d)
        default: nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: [Value]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: Object? { if case .object(let o) = self { o } else { nil } }
    public var isNull: Bool { if case .null = self { true } else { false } }

    public subscript(key: String) -> Value? { objectValue?[key] }
}
