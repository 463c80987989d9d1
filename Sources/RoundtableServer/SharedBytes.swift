/// Bytes shared by every connection a broadcast goes to: encoded once, referenced many times.
public final class SharedBytes: @unchecked Sendable {
    // Safe: immutable after init.
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}
