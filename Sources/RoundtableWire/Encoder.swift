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
        JSON.serialize(string: RFC3339.format(e.at), into: &out)
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

/// RFC 3339 timestamps in UTC with milliseconds, computed without Foundation.
public enum RFC3339 {
    public static func format(_ ms: Millis) -> String {
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = ms - secs * 1000
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = secs - days * 86400
        let (y, m, d) = civil(fromDays: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem % 3600 / 60, 2)):\(pad(rem % 60, 2)).\(pad(milli, 3))Z"
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
