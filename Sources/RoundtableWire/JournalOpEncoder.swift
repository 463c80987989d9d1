import RoundtableCore

/// The journal payload of an entry: the op's JSON.
///
/// Votes are most of the journal under load, so `voteCast` is written straight into bytes, identical
/// to `JSON.serialize(op.value)` (a test holds them equal for every ballot kind); every other op goes
/// through its `Value`.
public enum JournalOpEncoder {
    public static func payload(_ entry: JournalEntry) -> [UInt8] {
        guard case .voteCast(let poll, let voter, let ballot)? = entry.roomOp else { return JSON.serialize(entry.op) }
        var out: [UInt8] = []
        out.reserveCapacity(96)
        JSON.appendASCII(#"{"op":"voteCast","poll":"#, to: &out)
        JSON.serialize(.int(Int64(poll)), into: &out)
        JSON.appendASCII(#","voter":"#, to: &out)
        JSON.serialize(string: voter, into: &out)
        JSON.appendASCII(#","ballot":"#, to: &out)
        write(ballot, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The ballot in `Ballot.value`'s shape.
    static func write(_ ballot: Ballot, into out: inout [UInt8]) {
        switch ballot {
        case .single(let o):
            JSON.appendASCII(#"{"option":"#, to: &out)
            JSON.serialize(.int(Int64(o)), into: &out)
        case .multi(let os):
            JSON.appendASCII(#"{"options":"#, to: &out)
            ids(os, into: &out)
        case .ranking(let os):
            JSON.appendASCII(#"{"ranking":"#, to: &out)
            ids(os, into: &out)
        case .rating(let m):
            JSON.appendASCII(#"{"ratings":"#, to: &out)
            map(m, into: &out)
        case .points(let m):
            JSON.appendASCII(#"{"points":"#, to: &out)
            map(m, into: &out)
        case .open(let text):
            JSON.appendASCII(#"{"text":"#, to: &out)
            JSON.serialize(string: text, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func ids(_ ids: [OptionID], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, o) in ids.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSON.serialize(.int(Int64(o)), into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func map(_ m: [OptionID: Int], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, (k, v)) in m.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSON.serialize(string: String(k), into: &out)
            out.append(UInt8(ascii: ":"))
            JSON.serialize(.int(Int64(v)), into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
