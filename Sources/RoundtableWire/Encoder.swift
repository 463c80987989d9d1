import RoundtableCore

/// Encodes outgoing messages. Each event is encoded once and the same bytes go to every recipient.
public enum MessageEncoder {
    // Written straight into bytes (no intermediate object): every frame the server sends goes through here.
    public static func encode(_ e: RoomEvent) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        JSON.appendASCII(#"{"type":"#, to: &out)
        JSON.serialize(string: e.type, into: &out)
        JSON.appendASCII(#","room":"#, to: &out)
        JSON.serialize(string: e.room, into: &out)
        JSON.appendASCII(#","seq":"#, to: &out)
        JSON.serialize(.int(Int64(e.seq)), into: &out)
        JSON.appendASCII(#","at":"#, to: &out)
        JSON.serialize(string: ExportText.isoTimestamp(e.at), into: &out)
        for (k, v) in e.payload where k != "type" && k != "room" && k != "seq" && k != "at" { member(k, v, into: &out) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func encode(_ n: Notice, ref: Value?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSON.appendASCII(#"{"type":"#, to: &out)
        JSON.serialize(string: n.type, into: &out)
        if let ref { member("ref", ref, into: &out) }
        for (k, v) in n.body where k != "type" && k != "ref" { member(k, v, into: &out) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A reply: `{"type":"ack","ref":…,…body}` or `{"type":"error","ref":…,"code":…,"message":…}`.
    public static func encode(_ r: Reply, ref: Value?) -> [UInt8] {
        switch r {
        case .ack(let body): encode(Notice(type: "ack", body: body), ref: ref)
        case .error(let e): encode(Notice(type: "error", body: ["code": .string(e.code), "message": .string(e.message)]), ref: ref)
        }
    }

    private static func member(_ key: String, _ value: Value, into out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        JSON.serialize(string: key, into: &out)
        out.append(UInt8(ascii: ":"))
        JSON.serialize(value, into: &out)
    }
}
