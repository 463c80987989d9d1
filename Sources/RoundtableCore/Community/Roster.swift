/// A roster as a facilitator uploads it: CSV text, or rows already read from JSON.
public enum Roster: Sendable, Hashable {
    case csv(String)
    case rows([Row])

    public struct Row: Sendable, Hashable {
        public var name: String
        public var organization: String
        public var expertise: [String]
        public var group: String
        public init(name: String, organization: String = "", expertise: [String] = [], group: String = "") {
            self.name = name
            self.organization = organization
            self.expertise = expertise
            self.group = group
        }
    }

    /// Bytes the roster took on the wire (for JSON rows: their text), checked against `maxRosterBytes`.
    var size: Int {
        switch self {
        case .csv(let text): text.utf8.count
        case .rows(let rows):
            rows.reduce(0) {
                $0 + 16 + $1.name.utf8.count + $1.organization.utf8.count + $1.group.utf8.count + $1.expertise.reduce(0) { $0 + $1.utf8.count + 3 }
            }
        }
    }

    /// The rows, with a header for CSV: `name` (required), `organization`, `expertise` (tags separated by `;`),
    /// `group`. Other columns (e-mail, phone…) are ignored and never stored: the roster is contact-free.
    func rows() throws(DomainError) -> [Row] {
        switch self {
        case .rows(let rows): return rows
        case .csv(let text):
            // Spreadsheets often save UTF-8 with a byte-order mark, which would hide the first column's name.
            let records = try Self.records(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
            guard let header = records.first else { throw Self.invalid("is empty; the first line names the columns") }
            let names = header.map { $0.trimmingWhitespace().lowercased() }
            guard let nameCol = names.firstIndex(of: "name") else { throw Self.invalid("needs a name column") }
            let orgCol = names.firstIndex(of: "organization")
            let tagCol = names.firstIndex(of: "expertise")
            let groupCol = names.firstIndex(of: "group")
            var out: [Row] = []
            for (i, r) in records.dropFirst().enumerated() {
                if r.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { continue } // blank line
                func cell(_ c: Int?) -> String { c.flatMap { $0 < r.count ? r[$0] : nil } ?? "" }
                let name = cell(nameCol)
                if name.trimmingWhitespace().isEmpty { throw Self.invalid("line \(i + 2) has no name") }
                let tags = cell(tagCol).split(separator: ";").map(String.init)
                out.append(Row(name: name, organization: cell(orgCol), expertise: tags, group: cell(groupCol)))
            }
            return out
        }
    }

    /// A roster that arrived well-formed but does not read as one (the request itself was valid).
    static func invalid(_ why: String) -> DomainError { DomainError("roster_invalid", "csv: " + why) }

    /// RFC 4180 records: commas, double quotes with `""` inside, CRLF or LF line ends.
    static func records(_ text: String) throws(DomainError) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field: [Unicode.Scalar] = []
        var quoted = false, wasQuoted = false
        var line = 1
        var it = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endField() {
            record.append(String(String.UnicodeScalarView(field)))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false
        }
        while let c = pending ?? it.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let n = it.next()
                    if n == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        pending = n
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty, !wasQuoted else { throw Self.invalid("line \(line): a quote inside an unquoted field") }
                quoted = true
                wasQuoted = true
            case ",": endField()
            case "\r": break
            case "\n":
                endField()
                records.append(record)
                record.removeAll()
                line += 1
            default:
                if wasQuoted { throw Self.invalid("line \(line): text after a closing quote") }
                field.append(c)
            }
        }
        if quoted { throw Self.invalid("line \(line): a quoted field is not closed") }
        if !field.isEmpty || !record.isEmpty || wasQuoted {
            endField()
            records.append(record)
        }
        return records
    }

    /// The roster as CSV (the import's format, so an export can be imported again).
    static func csv(_ members: [CommunityMember]) -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
        }
        var out = "member,name,organization,expertise,group\n"
        for m in members {
            out += [String(m.id), m.name, m.organization, m.expertise.joined(separator: ";"), m.group].map(quote).joined(separator: ",") + "\n"
        }
        return out
    }
}
