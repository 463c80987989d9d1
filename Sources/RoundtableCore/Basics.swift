/// Milliseconds since the Unix epoch. The domain never reads a clock: every call is handed `at`.
public typealias Millis = Int64

/// A transport connection, numbered by the server. Not persisted.
public typealias ConnectionID = UInt64

/// A member of one room, numbered from 1 in order of joining. Stable across restarts.
public typealias MemberID = Int

/// What a member may do in a room.
public enum Role: String, Sendable, Hashable, CaseIterable {
    case facilitator, member, observer
}

/// A refusal the client can act on: a stable machine code and a human message.
///
/// Codes are part of the protocol contract (docs/PROTOCOL.md); messages may change.
public struct DomainError: Error, Sendable, Hashable {
    public var code: String
    public var message: String
    /// When set, the server closes the connection with this WebSocket close code after replying.
    public var closeCode: UInt16?

    public init(_ code: String, _ message: String, closeCode: UInt16? = nil) {
        self.code = code
        self.message = message
        self.closeCode = closeCode
    }

    public static func invalidField(_ field: String, _ why: String) -> DomainError {
        DomainError("invalid_field", "\(field): \(why)")
    }
    public static func tooLarge(_ field: String, limit: Int) -> DomainError {
        DomainError("too_large", "\(field) is longer than \(limit)")
    }
    public static let notJoined = DomainError("not_joined", "join a room first (room.join)")
    public static let notFacilitator = DomainError("not_facilitator", "only a facilitator may do this")
    public static let roomNotFound = DomainError("room_not_found", "no room has this code")
    public static let roomClosed = DomainError("room_closed", "the facilitator closed this session; its results are final")
    public static let roomArchived = DomainError(
        "room_archived", "this room was archived after a quiet period; its facilitator reopens it by joining with the facilitator key")
}

/// Where secrets and random choices come from. The server injects a cryptographic source;
/// tests inject a seeded one, so every run of a test sees the same codes and pairings.
public protocol EntropySource {
    /// Uniformly random bytes.
    mutating func bytes(_ count: Int) -> [UInt8]
}

/// One-way hashing of secrets (facilitator keys, resume tokens) so state, journal and snapshots
/// never hold a usable secret. The server injects SHA-256 through OpenSSL.
public protocol SecretHasher: Sendable {
    func digest(_ secret: String) -> String
}

/// A deterministic generator (SplitMix64) for tests and for seeded choices inside the domain.
public struct SeededEntropy: EntropySource, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            var word = next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}

/// Compares two secrets' digests without an early exit, so timing reveals nothing about how much matched.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var diff = UInt8(truncatingIfNeeded: x.count ^ y.count)
    for i in 0..<max(x.count, y.count) {
        let p = i < x.count ? x[i] : 0
        let q = i < y.count ? y[i] : 0
        diff |= p ^ q
    }
    return diff == 0
}

/// Crockford base32 (no I, L, O, U): short codes that survive being read aloud or typed from a screen share.
public enum Crockford {
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// `count` characters, 5 random bits each.
    public static func code(_ count: Int, from entropy: inout any EntropySource) -> String {
        let raw = entropy.bytes(count)
        return String(decoding: raw.map { alphabet[Int($0 & 31)] }, as: UTF8.self)
    }

    /// Upper-cases and maps look-alikes (O→0, I/L→1) so a code typed by hand still matches.
    public static func normalize(_ s: String) -> String {
        var out: [UInt8] = []
        for var c in s.utf8 {
            if c >= 97 && c <= 122 { c -= 32 }
            switch c {
            case UInt8(ascii: "O"): c = UInt8(ascii: "0")
            case UInt8(ascii: "I"), UInt8(ascii: "L"): c = UInt8(ascii: "1")
            case UInt8(ascii: "-"), UInt8(ascii: " "): continue
            default: break
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A hex string of `byteCount` random bytes: 16 bytes = 128 bits for keys and tokens.
public func randomSecret(byteCount: Int = 16, from entropy: inout any EntropySource) -> String {
    hexString(entropy.bytes(byteCount))
}

/// Appends `byte` as two lowercase hex digits. The package's one hex encoder: secrets, digests and
/// JSON's `\u00XX` escapes all go through it.
@inlinable
public func appendHex(_ byte: UInt8, to out: inout [UInt8]) {
    let digits: StaticString = "0123456789abcdef"
    out.append(digits.utf8Start[Int(byte >> 4)])
    out.append(digits.utf8Start[Int(byte & 0x0F)])
}

/// `bytes` as lowercase hex, two digits per byte.
public func hexString(_ bytes: some Collection<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { appendHex(b, to: &out) }
    return String(decoding: out, as: UTF8.self)
}

/// The wire protocol's version, sent in every `room.state` as `protocol`.
public enum ProtocolVersion {
    public static let current = 1
}

extension Dictionary {
    /// Runs `body` on the value for `key` in its storage; `nil` when there is none.
    ///
    /// `dict[key]!.mutate()` and `dict[key]?.mutate()` move the value out into an optional and copy it back,
    /// retaining and releasing every reference it holds (for a `Room` or `Poll`, a few dozen per vote);
    /// `values[index]` yields the stored value itself.
    @inlinable
    mutating func inPlace<R, E: Error>(_ key: Key, _ body: (inout Value) throws(E) -> R) throws(E) -> R? {
        guard let i = index(forKey: key) else { return nil }
        return try body(&values[i])
    }
}
