import RoundtableTestSupport
import Testing

@testable import RoundtableStore

@Suite struct CodecTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        // Continuing across pieces must equal one pass, at every split (exercises the 8-byte and tail loops).
        let data = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let whole = CRC32C.checksum(data)
        for split in 0...data.count {
            #expect(CRC32C.checksum(data[split...], continuing: CRC32C.checksum(data[..<split])) == whole)
        }
    }

    @Test(arguments: [1, 2, 3, 42, 0xDEAD_BEEF] as [UInt64])
    func randomRecordsRoundTrip(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let records = randomRecords(300, from: UInt64.random(in: 1...1_000_000, using: &rng), using: &rng)
        let bytes = encodeAll(records)
        var decoded: [JournalRecord] = []
        var offset = 0
        loop: while true {
            switch RecordCodec.decode(bytes, at: offset) {
            case let .record(r, next):
                decoded.append(r)
                offset = next
            case .end: break loop
            default:
                Issue.record("unexpected decode result at \(offset)")
                break loop
            }
        }
        #expect(decoded == records)
        #expect(bytes.count == records.map(RecordCodec.encodedSize).reduce(0, +))
    }

    @Test func extremeFieldValuesRoundTrip() {
        let r = JournalRecord(lsn: .max, room: "ünï\u{0}code 🎉", seq: .max, at: .min, payload: [])
        #expect(RecordCodec.decode(RecordCodec.encode(r)) == .record(r, next: RecordCodec.encodedSize(r)))
    }

    @Test(arguments: [7, 99] as [UInt64])
    func streamDecodingIsIndependentOfChunking(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let records = randomRecords(120, using: &rng)
        let bytes = encodeAll(records)

        var whole = RecordStreamDecoder()
        #expect(try whole.feed(bytes) == records)
        #expect(whole.bufferedCount == 0)

        var byByte = RecordStreamDecoder()
        var got: [JournalRecord] = []
        for b in bytes { got += try byByte.feed([b]) }
        #expect(got == records)

        var chunked = RecordStreamDecoder()
        got = []
        var i = 0
        while i < bytes.count {
            let n = min(Int.random(in: 1...700, using: &rng), bytes.count - i)
            got += try chunked.feed(bytes[i..<(i + n)])
            i += n
        }
        #expect(got == records)
        #expect(chunked.bufferedCount == 0)
    }

    @Test func everyTruncationOfARecordIsIncomplete() {
        var rng = SplitMix64(seed: 5)
        let record = randomRecords(1, using: &rng)[0]
        let bytes = RecordCodec.encode(record)
        for cut in 1..<bytes.count {
            #expect(RecordCodec.decode(Array(bytes[..<cut])) == .incomplete, "cut at \(cut)")
        }
        #expect(RecordCodec.decode([UInt8]()) == .end)
    }

    @Test func everySingleBitFlipInTheBodyIsCorrupt() {
        let record = JournalRecord(lsn: 77, room: "board", seq: 5, at: 1_700_000_000_000, payload: Array("vote:yes".utf8))
        let bytes = RecordCodec.encode(record)
        for byte in RecordCodec.headerSize..<bytes.count {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[byte] ^= UInt8(1 << bit)
                guard case .corrupt = RecordCodec.decode(flipped) else {
                    Issue.record("flip of bit \(bit) in byte \(byte) went undetected")
                    return
                }
            }
        }
    }

    @Test func flipsInTheHeaderNeverYieldARecord() {
        let bytes = RecordCodec.encode(JournalRecord(lsn: 1, room: "a", seq: 1, at: 1, payload: [1, 2, 3]))
        for byte in 0..<RecordCodec.headerSize {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[byte] ^= UInt8(1 << bit)
                if case .record = RecordCodec.decode(flipped) {
                    Issue.record("header flip bit \(bit) byte \(byte) decoded as a record")
                }
            }
        }
    }

    @Test func absurdLengthsAreCorruptNotIncomplete() {
        var bytes = [UInt8](repeating: 0, count: 64)
        guard case .corrupt = RecordCodec.decode(bytes) else { Issue.record("zero length accepted"); return }
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(RecordCodec.maxBodySize + 1).littleEndian, as: UInt32.self) }
        guard case .corrupt = RecordCodec.decode(bytes) else { Issue.record("huge length waited for"); return }
    }

    @Test func streamDecoderReturnsGoodRecordsThenThrowsOnDamage() throws {
        let good = JournalRecord(lsn: 1, room: "x", seq: 1, at: 0, payload: [9])
        var bytes = encodeAll([good, JournalRecord(lsn: 2, room: "x", seq: 2, at: 0, payload: [9])])
        bytes[bytes.count - 1] ^= 0x40
        var decoder = RecordStreamDecoder()
        #expect(try decoder.feed(bytes) == [good])
        #expect(throws: StoreError.self) { _ = try decoder.feed([]) }
        var fresh = RecordStreamDecoder()
        #expect(throws: StoreError.self) { _ = try fresh.feed(bytes[RecordCodec.encodedSize(good)...]) }
    }
}
