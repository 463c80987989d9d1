import RoundtableCore
import RoundtableWire
import Testing

/// The encoder writes frames straight into bytes; they must read back as the object they stand for,
/// with `type` (and `ref`, or `room`/`seq`/`at`) first, and the body unable to override those keys.
@Suite struct EncoderTests {
    @Test func noticeWithRefPutsTypeAndRefFirst() throws {
        let n = Notice(type: "ack", body: ["poll": 3, "type": "forged", "ref": "forged", "note": "a \"quoted\"\nline"])
        let bytes = MessageEncoder.encode(n, ref: .string("r-1"))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"type":"ack","ref":"r-1","poll":3,"#))
        let back = try JSON.parse(bytes)
        #expect(back == ["type": "ack", "ref": "r-1", "poll": 3, "note": "a \"quoted\"\nline"])
    }

    @Test func noticeWithoutRefAndEmptyBody() throws {
        #expect(String(decoding: MessageEncoder.encode(Notice(type: "pong", body: [:]), ref: nil), as: UTF8.self) == #"{"type":"pong"}"#)
        let withInt = MessageEncoder.encode(Notice(type: "ack", body: [:]), ref: 42)
        #expect(String(decoding: withInt, as: UTF8.self) == #"{"type":"ack","ref":42}"#)
    }

    @Test func eventCarriesRoomSeqAndTime() throws {
        let e = RoomEvent(
            room: "ABC123", seq: 17, at: 1_700_000_000_123, type: "need.added",
            payload: ["need": ["id": 4, "text": "mentoring"], "seq": 99, "room": "forged"])
        let bytes = MessageEncoder.encode(e)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"type":"need.added","room":"ABC123","seq":17,"at":"2023-11-14T22:13:20.123Z","#))
        let back = try JSON.parse(bytes)
        #expect(back == ["type": "need.added", "room": "ABC123", "seq": 17, "at": "2023-11-14T22:13:20.123Z", "need": ["id": 4, "text": "mentoring"]])
    }
}
