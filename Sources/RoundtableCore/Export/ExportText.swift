/// Text building blocks for the facilitator exports: CSV fields, Markdown cells, fixed-point numbers,
/// UTC timestamps. Pure functions: the domain has no Foundation, no clock and no locale, so every
/// export is byte-for-byte reproducible from a room and a time.
public enum ExportText {
    /// UTF-8 byte order mark. Spreadsheet programs (Excel above all) guess a legacy code page for a
    /// CSV without it and garble every name with an accent.
    public static let byteOrderMark = "\u{FEFF}"

    /// One CSV record: RFC 4180 quoting, CRLF terminated.
    public static func csvRecord(_ fields: [String]) -> String {
        fields.map(csvField).joined(separator: ",") + "\r\n"
    }

    /// A field quoted when RFC 4180 needs it (comma, quote, CR or LF), quotes doubled inside.
    public static func csvField(_ s: String) -> String {
        // Scalars, not Characters: Swift sees "\r\n" as one Character, which equals neither "\r" nor "\n".
        guard s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return s }
        // Line breaks stay inside the quotes as they are: RFC 4180 allows them there.
        var out = "\""
        for u in s.unicodeScalars {
            if u == "\"" { out += "\"\"" } else { out.unicodeScalars.append(u) }
        }
        return out + "\""
    }

    /// Text typed by members, made safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`, tab or CR
    /// would be read as a formula (CSV injection), so such a cell gets a leading apostrophe, which
    /// spreadsheets show as text and hide. Numbers are written by us and never go through this.
    public static func csvText(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return s }
        return "'" + s
    }

    /// A Markdown table cell: one line, no table breakouts, no HTML, no emphasis or links from member text.
    /// CommonMark lets any ASCII punctuation be backslash-escaped, so escaping never shows a stray backslash.
    public static func markdownCell(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var lastWasSpace = false
        for u in s.unicodeScalars {
            switch u {
            case "\r", "\n", "\t":
                // A newline would end the table row; collapse to one space.
                if !lastWasSpace { out += " " }
                lastWasSpace = true
                continue
            case "\\", "|", "*", "_", "`", "[", "]", "<", ">", "~", "#", "!":
                out += "\\"
                out.unicodeScalars.append(u)
            default:
                out.unicodeScalars.append(u)
            }
            lastWasSpace = u == " "
        }
        return out
    }

    /// A Markdown table: header row, delimiter row, body rows; every cell escaped. Rows shorter than the
    /// header are padded so the column count is always the header's.
    public static func markdownTable(_ header: [String], _ rows: [[String]], alignRight: Set<Int> = []) -> String {
        func row(_ cells: [String]) -> String {
            let padded = cells + Array(repeating: "", count: max(0, header.count - cells.count))
            return "| " + padded.prefix(header.count).map(markdownCell).joined(separator: " | ") + " |\n"
        }
        var out = row(header)
        out += "|" + header.indices.map { alignRight.contains($0) ? " ---: |" : " --- |" }.joined() + "\n"
        for r in rows { out += row(r) }
        return out
    }

    /// `x` with exactly `decimals` digits after the point, no exponent, no locale ("0.500000", "-1.25").
    public static func fixed(_ x: Double, _ decimals: Int = 6) -> String {
        guard x.isFinite else { return x.isNaN ? "NaN" : (x < 0 ? "-Infinity" : "Infinity") }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(x) * Double(scale)).rounded()
        // Beyond 2^53 the integer arithmetic below would lose digits; scores never get there.
        guard scaled < 9e15 else { return "\(x)" }
        let n = Int64(scaled)
        let sign = x < 0 && n != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(n) }
        var fraction = String(n % scale)
        while fraction.count < decimals { fraction = "0" + fraction }
        return sign + String(n / scale) + "." + fraction
    }

    /// ISO 8601 (RFC 3339) in UTC with milliseconds: `2026-11-29T08:18:29.569Z`. The one date formatter: reports and
    /// every event's `at` on the wire.
    public static func isoTimestamp(_ ms: Millis) -> String {
        let t = civil(ms)
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)).\(pad(t.milli, 3))Z"
    }

    /// A readable UTC date and time for documents: `2026-11-29 08:18 UTC`.
    public static func readableTimestamp(_ ms: Millis) -> String {
        let t = civil(ms)
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2)) \(pad(t.hour, 2)):\(pad(t.minute, 2)) UTC"
    }

    private static func pad(_ n: Int64, _ width: Int) -> String {
        var s = String(n)
        while s.count < width { s = "0" + s }
        return s
    }

    /// Days-to-civil after Howard Hinnant's public-domain algorithm (proleptic Gregorian, any year).
    private static func civil(_ ms: Millis) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, milli: Int64) {
        func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
        let secs = floorDiv(ms, 1000)
        let milli = ms - secs * 1000
        let days = floorDiv(secs, 86_400)
        let rem = secs - days * 86_400
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60, milli)
    }
}
