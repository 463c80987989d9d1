/// One journal entry: an opaque server payload stamped with its position in the global and per-room order.
public struct JournalRecord: Sendable, Equatable {
    /// Log sequence number: global, gap-free, increasing by one per record.
    public var lsn: UInt64
    public var room: String
    /// The room's own event sequence number.
    public var seq: UInt64
    /// Milliseconds since the Unix epoch.
    public var at: Int64
    /// Opaque bytes; the server encodes its own event format.
    public var payload: [UInt8]

    public init(lsn: UInt64, room: String, seq: UInt64, at: Int64, payload: [UInt8]) {
        self.lsn = lsn
        self.room = room
        self.seq = seq
        self.at = at
        self.payload = payload
    }
}

/// What the decoder found at an offset.
public enum DecodeResult: Sendable, Equatable {
    /// A valid record and the offset just past it.
    case record(JournalRecord, next: Int)
    /// The bytes stop part-way through a header or body: the signature of a torn write.
    case incomplete
    /// The bytes cannot be a record (checksum mismatch, impossible length).
    case corrupt(String)
    /// No bytes left.
    case end
}

/// Record framing: `[u32 body length][u32 crc32c(body)][body]`, body =
/// `lsn u64, seq u64, at i64, room length u32, room UTF-8, payload` (all little-endian).
///
/// The length comes first so a reader can tell a short tail (torn write) from a bad checksum (damage)
/// without trusting anything the checksum has not yet covered beyond the length itself.
public enum RecordCodec {
    public static let headerSize = 8
    /// lsn + seq + at + room length: a body can never be shorter.
    public static let minBodySize = 28
    /// Anything longer is treated as a garbage length rather than a record to wait for.
    public static let maxBodySize = 16 << 20

    /// Encoded size of `record`, header included.
    public static func encodedSize(_ record: JournalRecord) -> Int {
        headerSize + minBodySize + record.room.utf8.count + record.payload.count
    }

    /// Appends the framed record to `out`.
    public static func encode(_ record: JournalRecord, into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: headerSize))
        appendLE(record.lsn, &out)
        appendLE(record.seq, &out)
        appendLE(UInt64(bitPattern: record.at), &out)
        appendLE(UInt32(truncatingIfNeeded: record.room.utf8.count), &out)
        out.append(contentsOf: record.room.utf8)
        out.append(contentsOf: record.payload)
        let bodyCount = out.count - start - headerSize
        let crc = out.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + headerSize)...]))
        }
        storeLE(UInt32(truncatingIfNeeded: bodyCount), &out, at: start)
        storeLE(crc, &out, at: start + 4)
    }

    /// Encodes one record into a fresh array.
    public static func encode(_ record: JournalRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedSize(record))
        encode(record, into: &out)
        return out
    }

    /// Decodes the record starting at `offset` of `bytes`.
    public static func decode(_ bytes: [UInt8], at offset: Int = 0) -> DecodeResult {
        bytes.withUnsafeBytes { decode($0, at: offset) }
    }

    /// Decodes the record starting at `offset` of `buffer`.
    public static func decode(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> DecodeResult {
        let remaining = buffer.count - offset
        if remaining <= 0 { return .end }
        if remaining < headerSize { return .incomplete }
        let length = Int(loadLE(buffer, offset, as: UInt32.self))
        // A header of zeros (what a pre-sized segment holds past its last record) is never a record: its
        // length 0 is below `minBodySize`, which every encoded record meets (lsn, seq, at and the room length
        // are always written), so it lands here, never in the checksum test where an empty body's CRC could match.
        if length < minBodySize { return .corrupt("record length \(length) is below the minimum \(minBodySize)") }
        if length > maxBodySize { return .corrupt("record length \(length) exceeds the maximum \(maxBodySize)") }
        if remaining - headerSize < length { return .incomplete }
        let bodyStart = offset + headerSize
        let body = UnsafeRawBufferPointer(rebasing: buffer[bodyStart..<(bodyStart + length)])
        let stored = loadLE(buffer, offset + 4, as: UInt32.self)
        let actual = CRC32C.checksum(body)
        if stored != actual {
            return .corrupt("checksum mismatch (stored \(hex(stored)), computed \(hex(actual)))")
        }
        let roomCount = Int(loadLE(body, 24, as: UInt32.self))
        if roomCount > length - minBodySize {
            return .corrupt("room name length \(roomCount) overruns the record")
        }
        let roomBytes = UnsafeRawBufferPointer(rebasing: body[minBodySize..<(minBodySize + roomCount)])
        guard let room = String(validating: roomBytes, as: UTF8.self) else {
            return .corrupt("room name is not valid UTF-8")
        }
        let record = JournalRecord(
            lsn: loadLE(body, 0, as: UInt64.self),
            room: room,
            seq: loadLE(body, 8, as: UInt64.self),
            at: Int64(bitPattern: loadLE(body, 16, as: UInt64.self)),
            payload: Array(body[(minBodySize + roomCount)...])
        )
        return .record(record, next: bodyStart + length)
    }

    /// Whether every byte from `offset` to the end is zero: the unwritten, pre-sized tail of a segment, which
    /// the reader takes as the end of the journal. A zero header cannot start a record (see `decode`), and a torn
    /// or damaged record always leaves a non-zero byte at its own start (its length), so "zeros up to the end
    /// at a record boundary" never hides a record or a torn write; zeros with anything non-zero after them
    /// are still damage.
    static func isZeroFill(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        guard offset < buffer.count else { return true }
        var i = offset
        while i < buffer.count && i % 8 != 0 {
            if buffer[i] != 0 { return false }
            i += 1
        }
        while i + 8 <= buffer.count {
            if buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
            i += 8
        }
        while i < buffer.count {
            if buffer[i] != 0 { return false }
            i += 1
        }
        return true
    }

    /// Cheap test for "a plausible record with an LSN in `lsns` starts here", used when looking past damage
    /// for intact records; the length and LSN checks reject almost every offset before any checksum work.
    static func looksLikeRecord(_ buffer: UnsafeRawBufferPointer, at offset: Int, lsns: ClosedRange<UInt64>) -> Bool {
        let remaining = buffer.count - offset
        guard remaining >= headerSize + minBodySize else { return false }
        let length = Int(loadLE(buffer, offset, as: UInt32.self))
        guard length >= minBodySize, length <= maxBodySize, length <= remaining - headerSize else { return false }
        guard lsns.contains(loadLE(buffer, offset + headerSize, as: UInt64.self)) else { return false }
        if case .record = decode(buffer, at: offset) { return true }
        return false
    }
}

/// Incremental decoder for bytes that arrive in arbitrary pieces (e.g. shipping the journal over a pipe).
public struct RecordStreamDecoder: Sendable {
    private var pending: [UInt8] = []
    private var consumed = 0
    /// Damage found after some good records in the same call: those are returned first, the error next time.
    private var failure: StoreError?

    public init() {}

    /// Bytes received but not yet part of a complete record.
    public var bufferedCount: Int { pending.count - consumed }

    /// Adds bytes and returns every record they complete; throws on damage, which no later bytes can repair.
    /// Records decoded before the damage are returned first; the error is thrown by the following call.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(StoreError) -> [JournalRecord] {
        if let failure { throw failure }
        pending.append(contentsOf: bytes)
        var out: [JournalRecord] = []
        loop: while true {
            switch RecordCodec.decode(pending, at: consumed) {
            case let .record(r, next):
                out.append(r)
                consumed = next
            case .incomplete, .end:
                break loop
            case let .corrupt(reason):
                let error = StoreError.corruptJournal(file: "<stream>", offset: consumed, reason: reason)
                if out.isEmpty { throw error }
                failure = error
                return out
            }
        }
        // Compact only when the dead prefix dominates, so byte-at-a-time feeding stays linear.
        if consumed > 4096 && consumed * 2 > pending.count {
            pending.removeFirst(consumed)
            consumed = 0
        }
        return out
    }
}

// MARK: - Little-endian helpers

@inline(__always)
func appendLE<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
}

@inline(__always)
func storeLE<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8], at offset: Int) {
    out.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
}

@inline(__always)
func loadLE<T: FixedWidthInteger>(_ buffer: UnsafeRawBufferPointer, _ offset: Int, as: T.Type) -> T {
    T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
}

func loadLE<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type) -> T {
    bytes.withUnsafeBytes { loadLE($0, offset, as: T.self) }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}
