import RoundtableCore

/// Strict RFC 8259 JSON parsing and compact serialization over `Value`.
///
/// Parsing rules, beyond the RFC grammar:
/// - Exactly one value, optionally surrounded by whitespace (space, tab, CR, LF). A byte order mark is
///   rejected like any other stray byte.
/// - Numbers without a fraction or exponent that fit in `Int64` decode as `.int`; every other number
///   (including integers too large for `Int64`) decodes as `.double`. `-0` is `.int(0)`, `-0.0` is
///   `.double(-0.0)`. A number too large for a finite `Double` is rejected (`numberOutOfRange`) rather
///   than becoming infinity, since the serializer could not write infinity back.
/// - Duplicate object keys: the last value wins and stays at the position where the key first
///   appeared (the same behaviour as `Value.Object`'s subscript setter). Keys are compared with Swift
///   `String` equality, so canonically equivalent spellings (precomposed vs decomposed accents) count
///   as the same key, matching how `Value.Object` looks keys up.
/// - Arrays and objects may nest at most `maxDepth` levels (`[[1]]` is depth 2; a scalar is depth 0).
///   The parser keeps its own stack instead of recursing, so even a very large `maxDepth` cannot
///   overflow the thread stack.
///
/// Serialization is compact (no whitespace), keeps object insertion order, writes non-ASCII as raw
/// UTF-8, escapes only `"`, `\` and control characters, writes non-finite doubles as `null`, and writes
/// finite doubles in Swift's shortest round-trip form (`1.0`, `0.1`, `1e-05`, `1e+16`), so a double with
/// an integral value keeps its `.0` and reads back as `.double`.
public enum JSON {
    /// Parses exactly one JSON value from raw bytes, which must be UTF-8.
    ///
    /// - Parameter maxDepth: the deepest nesting of arrays and objects accepted; deeper input fails
    ///   with `JSONError.Reason.tooDeep`. Negative values are treated as 0.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 32) throws(JSONError) -> Value {
        // Rebinding rather than assuming: the caller's memory may be bound to CChar (C buffers) or nothing.
        let result = bytes.withMemoryRebound(to: UInt8.self) { parseResult($0, maxDepth: maxDepth) }
        return try result.get()
    }

    /// Parses exactly one JSON value from UTF-8 bytes. See `parse(_:maxDepth:)` on raw buffers.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(JSONError) -> Value {
        let result = bytes.withUnsafeBufferPointer { parseResult($0, maxDepth: maxDepth) }
        return try result.get()
    }

    /// Parses exactly one JSON value from a string; error offsets count UTF-8 bytes.
    public static func parse(_ string: String, maxDepth: Int = 32) throws(JSONError) -> Value {
        var string = string
        let result = string.withUTF8 { parseResult($0, maxDepth: maxDepth) }
        return try result.get()
    }

    /// Serializes `value` as compact JSON UTF-8 bytes.
    public static func serialize(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        serialize(value, into: &out)
        return out
    }

    /// Appends the compact JSON encoding of `value` to `buffer`, so a frame header and body can share one
    /// allocation.
    ///
    /// Recurses once per nesting level; values decoded by `parse` are bounded by its `maxDepth`.
    public static func serialize(_ value: Value, into buffer: inout [UInt8]) {
        switch value {
        case .null:
            appendASCII("null", to: &buffer)
        case .bool(let b):
            appendASCII(b ? "true" : "false", to: &buffer)
        case .int(let i):
            writeInt(i, to: &buffer)
        case .double(let d):
            writeDouble(d, to: &buffer)
        case .string(let s):
            writeString(s, to: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { buffer.append(UInt8(ascii: ",")) }
                first = false
                serialize(element, into: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let object):
            buffer.append(UInt8(ascii: "{"))
            var first = true
            for pair in object.pairs {
                if !first { buffer.append(UInt8(ascii: ",")) }
                first = false
                writeString(pair.key, to: &buffer)
                buffer.append(UInt8(ascii: ":"))
                serialize(pair.value, into: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        case .shared(let box):
            if let encoded = box.encoded { buffer.append(contentsOf: encoded) } else { serialize(box.value, into: &buffer) }
        }
    }

    /// Serializes `value` as a compact JSON string (for logs and tests; frames should use the byte forms).
    public static func string(_ value: Value) -> String {
        String(decoding: serialize(value), as: UTF8.self)
    }

    // MARK: - Parsing

    // Result instead of a throwing closure: the stdlib's with* helpers are `rethrows`, which would erase
    // the typed error.
    static func parseResult(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<Value, JSONError> {
        var parser = Parser(buffer, maxDepth: maxDepth)
        do throws(JSONError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Serialization helpers

    /// Appends one JSON string (quoted, escaped): for encoders that write an object's keys themselves.
    public static func serialize(string: String, into out: inout [UInt8]) { writeString(string, to: &out) }

    @inline(__always)
    public static func appendASCII(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static func writeInt(_ value: Int64, to out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(0x30 &+ UInt8(truncatingIfNeeded: value))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // magnitude sidesteps the asymmetry of Int64.min.
        var rest = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var k = 20
            repeat {
                k -= 1
                digits[k] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest != 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[k..<20]))
        }
    }

    private static func writeDouble(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else {
            appendASCII("null", to: &out)
            return
        }
        // Swift's description is the shortest digit string that round-trips, and for finite values its
        // shapes ("1.0", "1e-05", "5e-324", "-0.0") are all valid JSON numbers.
        var text = value.description
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    private static func writeString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { writeEscaped($0, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        // Copy unescaped runs in bulk; most strings have no escapes at all and become one memcpy.
        var runStart = 0
        for i in 0..<utf8.count {
            let c = utf8[i]
            guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
            runStart = i + 1
            out.append(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                appendHex(c, to: &out)
            }
        }
        if runStart < utf8.count {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
    }
}

// MARK: - Parser

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

/// Exact powers of ten: every one up to 1e22 is representable, which is what makes the fast path exact.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private struct Parser {
    /// An array or object still being filled. An object's members wait here (value `.null` until it is
    /// parsed) so duplicate handling happens once, when the object closes.
    struct Frame {
        var isObject: Bool
        var values: [Value] = []
        var pairs: [(key: String, value: Value)] = []

        // One allocation for the usual request (a handful of keys, a short ballot) instead of regrowing
        // from one element; the object adopts `pairs` as they are when its keys are distinct.
        init(isObject: Bool) {
            self.isObject = isObject
            if isObject { pairs.reserveCapacity(6) } else { values.reserveCapacity(8) }
        }
    }

    let buf: UnsafeBufferPointer<UInt8>
    let end: Int
    let maxDepth: Int
    var pos = 0
    /// Reused across strings that need unescaping, so only the final String allocates.
    var scratch: [UInt8] = []

    init(_ buf: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buf = buf
        self.end = buf.count
        self.maxDepth = max(0, maxDepth)
    }

    @inline(__always)
    func fail(_ reason: JSONError.Reason, at offset: Int) -> JSONError {
        JSONError(offset: offset, reason: reason)
    }

    mutating func parseDocument() throws(JSONError) -> Value {
        skipWhitespace()
        guard pos < end else { throw fail(.emptyInput, at: pos) }
        let value = try parseValue()
        skipWhitespace()
        guard pos == end else { throw fail(.trailingData, at: pos) }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = buf[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    /// Parses one value with an explicit container stack: hostile nesting costs heap, bounded by
    /// `maxDepth`, never thread stack.
    mutating func parseValue() throws(JSONError) -> Value {
        var stack: [Frame] = []
        stack.reserveCapacity(4)
        var value: Value
        descend: while true {
            skipWhitespace()
            guard pos < end else { throw fail(.unexpectedEndOfInput, at: end) }
            let c = buf[pos]
            switch c {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                guard stack.count < maxDepth else { throw fail(.tooDeep, at: pos) }
                let isObject = c == UInt8(ascii: "{")
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                pos += 1
                skipWhitespace()
                guard pos < end else { throw fail(.unexpectedEndOfInput, at: end) }
                if buf[pos] == close {
                    pos += 1
                    value = isObject ? .object(Value.Object()) : .array([])
                } else {
                    stack.append(Frame(isObject: isObject))
                    if isObject {
                        let key = try parseKey()
                        stack[stack.count - 1].pairs.append((key, .null))
                    }
                    continue descend
                }
            case quote:
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try literal("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            default:
                throw fail(.unexpectedByte(c), at: pos)
            }

            // A value is complete: hand it to its container, closing as many containers as end here.
            while !stack.isEmpty {
                let top = stack.count - 1
                let isObject = stack[top].isObject
                if isObject {
                    stack[top].pairs[stack[top].pairs.count - 1].1 = value
                } else {
                    stack[top].values.append(value)
                }
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                skipWhitespace()
                guard pos < end else { throw fail(.unexpectedEndOfInput, at: end) }
                let d = buf[pos]
                if d == UInt8(ascii: ",") {
                    pos += 1
                    skipWhitespace()
                    guard pos < end else { throw fail(.unexpectedEndOfInput, at: end) }
                    if buf[pos] == close { throw fail(.trailingComma, at: pos) }
                    if isObject {
                        let key = try parseKey()
                        stack[top].pairs.append((key, .null))
                    }
                    continue descend
                }
                guard d == close else { throw fail(.expectedCommaOrClose, at: pos) }
                pos += 1
                let frame = stack.removeLast()
                value = isObject ? .object(Parser.makeObject(frame.pairs)) : .array(frame.values)
            }
            return value
        }
    }

    /// Parses `"key"` and the `:` after it; `pos` is at the first non-whitespace byte of the member.
    mutating func parseKey() throws(JSONError) -> String {
        guard buf[pos] == quote else { throw fail(.expectedObjectKey, at: pos) }
        let key = try parseString()
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEndOfInput, at: end) }
        guard buf[pos] == UInt8(ascii: ":") else { throw fail(.expectedColon, at: pos) }
        pos += 1
        return key
    }

    static func makeObject(_ pairs: [(key: String, value: Value)]) -> Value.Object {
        // Protocol objects have a handful of keys: a linear duplicate check is cheaper than hashing at this
        // size, and without duplicates the parsed array becomes the object's storage as it is.
        if pairs.count <= 16 {
            if !hasDuplicateKey(pairs) { return Value.Object(distinctPairs: pairs) }
            return Value.Object(pairs.map { ($0.key, $0.value) }) // last wins, first position
        }
        // That check is quadratic, so large (possibly hostile) objects dedupe through a dictionary.
        var slot = [String: Int](minimumCapacity: pairs.count)
        var unique: [(key: String, value: Value)] = []
        unique.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            if let j = slot[key] {
                unique[j].1 = value
            } else {
                slot[key] = unique.count
                unique.append((key, value))
            }
        }
        return Value.Object(distinctPairs: unique)
    }

    static func hasDuplicateKey(_ pairs: [(key: String, value: Value)]) -> Bool {
        for i in pairs.indices.dropFirst() {
            for j in 0..<i where pairs[j].key == pairs[i].key { return true }
        }
        return false
    }

    mutating func literal(_ expected: StaticString) throws(JSONError) {
        let count = expected.utf8CodeUnitCount
        let bytes = expected.utf8Start
        for k in 0..<count {
            guard pos + k < end else { throw fail(.unexpectedEndOfInput, at: end) }
            guard buf[pos + k] == bytes[k] else { throw fail(.invalidLiteral, at: pos) }
        }
        pos += count
    }

    // MARK: Numbers

    @inline(__always)
    func digit(at i: Int) -> UInt64? {
        guard i < end else { return nil }
        let d = buf[i] &- UInt8(ascii: "0")
        return d < 10 ? UInt64(d) : nil
    }

    mutating func parseNumber() throws(JSONError) -> Value {
        let start = pos
        var i = pos
        let negative = buf[i] == UInt8(ascii: "-")
        if negative { i += 1 }

        // Up to 19 significant digits are accumulated exactly; `significant` keeps counting past that so
        // we know when the exact paths no longer apply.
        var mantissa: UInt64 = 0
        var significant = 0
        guard let first = digit(at: i) else { throw fail(.invalidNumber, at: i) }
        if first == 0 {
            i += 1
            if digit(at: i) != nil { throw fail(.leadingZero, at: i - 1) }
        } else {
            while let d = digit(at: i) {
                significant += 1
                if significant <= 19 { mantissa = mantissa &* 10 &+ d }
                i += 1
            }
        }

        var isInteger = true
        var fractionDigits = 0
        if i < end && buf[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            let fractionStart = i
            while let d = digit(at: i) {
                if significant > 0 || d != 0 {
                    significant += 1
                    if significant <= 19 { mantissa = mantissa &* 10 &+ d }
                }
                i += 1
            }
            guard i > fractionStart else { throw fail(.invalidNumber, at: i) }
            fractionDigits = i - fractionStart
        }

        var exponent = 0
        if i < end && (buf[i] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            i += 1
            var exponentNegative = false
            if i < end && (buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-")) {
                exponentNegative = buf[i] == UInt8(ascii: "-")
                i += 1
            }
            let exponentStart = i
            while let d = digit(at: i) {
                // Clamped: only the fast-path range check looks at it; the slow path re-reads the text.
                if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
                i += 1
            }
            guard i > exponentStart else { throw fail(.invalidNumber, at: i) }
            if exponentNegative { exponent = -exponent }
        }
        pos = i

        if isInteger && significant <= 19 {
            if !negative && mantissa <= UInt64(Int64.max) { return .int(Int64(mantissa)) }
            if negative && mantissa <= UInt64(Int64.max) + 1 { return .int(Int64(bitPattern: 0 &- mantissa)) }
        }

        if significant <= 19 {
            if mantissa == 0 { return .double(negative ? -0.0 : 0.0) }
            // Clinger's fast path: both operands exact doubles, so one IEEE operation rounds correctly.
            let scale = exponent - fractionDigits
            if mantissa <= 1 << 53 && scale >= -22 && scale <= 22 {
                let m = Double(mantissa)
                let d = scale < 0 ? m / exactPowersOfTen[-scale] : m * exactPowersOfTen[scale]
                return .double(negative ? -d : d)
            }
        }

        // The grammar is already validated, so the stdlib's correctly rounded conversion sees only JSON.
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw fail(.numberOutOfRange, at: start) }
        return .double(d)
    }

    // MARK: Strings

    /// `pos` is at the opening quote; leaves `pos` after the closing quote.
    mutating func parseString() throws(JSONError) -> String {
        let start = pos + 1
        var i = try scanPlain(from: start)
        guard i < end else { throw fail(.unexpectedEndOfInput, at: end) }
        if buf[i] == quote {
            pos = i + 1
            return String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
        }

        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        while true {
            let c = buf[i]
            if runStart < i { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<i])) }
            if c == quote {
                pos = i + 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if c < 0x20 { throw fail(.controlCharacterInString(c), at: i) }
            i = try unescape(at: i)
            runStart = i
            i = try scanPlain(from: i)
            guard i < end else { throw fail(.unexpectedEndOfInput, at: end) }
        }
    }

    /// Returns the index of the first quote, backslash or control byte at or after `i` (or `end`),
    /// validating any UTF-8 it steps over.
    @inline(__always)
    func scanPlain(from start: Int) throws(JSONError) -> Int {
        var i = start
        guard let base = buf.baseAddress else { return i }
        while true {
            // Eight bytes at a time while they are all plain printable ASCII.
            while i + 8 <= end {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if Parser.needsAttention(word) { break }
                i += 8
            }
            guard i < end else { return i }
            let c = buf[i]
            if c < 0x80 {
                guard c >= 0x20 && c != quote && c != backslash else { return i }
                i += 1
            } else {
                i = try utf8SequenceEnd(at: i)
            }
        }
    }

    /// True when any byte of `word` is < 0x20, `"`, `\`, or ≥ 0x80. Borrow propagation can only add
    /// false positives, which just send us to the bytewise loop.
    @inline(__always)
    static func needsAttention(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word
        let q = word ^ (ones &* 0x22)
        let hasQuote = (q &- ones) & ~q
        let b = word ^ (ones &* 0x5C)
        let hasBackslash = (b &- ones) & ~b
        return (control | hasQuote | hasBackslash | word) & highs != 0
    }

    /// Validates one multi-byte UTF-8 sequence starting at `i` per RFC 3629 (no overlongs, no surrogates,
    /// nothing above U+10FFFF) and returns the index after it.
    @inline(__always)
    func utf8SequenceEnd(at i: Int) throws(JSONError) -> Int {
        let lead = buf[i]
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let continuation: Int
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED: continuation = 2; high = 0x9F
        case 0xF0: continuation = 3; low = 0x90
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; high = 0x8F
        default: throw fail(.invalidUTF8, at: i)
        }
        guard i + continuation < end else { throw fail(.invalidUTF8, at: i) }
        let second = buf[i + 1]
        guard second >= low && second <= high else { throw fail(.invalidUTF8, at: i) }
        if continuation > 1 {
            for k in 2...continuation where buf[i + k] & 0xC0 != 0x80 { throw fail(.invalidUTF8, at: i) }
        }
        return i + continuation + 1
    }

    /// Decodes the escape whose backslash is at `at` into `scratch`; returns the index after it.
    /// Escape errors report the backslash's offset.
    mutating func unescape(at escape: Int) throws(JSONError) -> Int {
        let i = escape + 1
        guard i < end else { throw fail(.unexpectedEndOfInput, at: end) }
        let c = buf[i]
        let simple: UInt8
        switch c {
        case quote, backslash, UInt8(ascii: "/"): simple = c
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "u"):
            var scalar = try hex4(at: i + 1, escape: escape)
            var next = i + 5
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                // Running out of input is truncation; anything else but a second \u is a lone surrogate.
                guard next < end else { throw fail(.unexpectedEndOfInput, at: end) }
                guard buf[next] == backslash else { throw fail(.invalidSurrogate, at: escape) }
                guard next + 1 < end else { throw fail(.unexpectedEndOfInput, at: end) }
                guard buf[next + 1] == UInt8(ascii: "u") else { throw fail(.invalidSurrogate, at: escape) }
                let low = try hex4(at: next + 2, escape: next)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw fail(.invalidSurrogate, at: escape) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                next += 6
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw fail(.invalidSurrogate, at: escape)
            }
            appendUTF8(scalar)
            return next
        default:
            throw fail(.invalidEscape(c), at: escape)
        }
        scratch.append(simple)
        return i + 1
    }

    func hex4(at i: Int, escape: Int) throws(JSONError) -> UInt32 {
        guard i + 4 <= end else { throw fail(.unexpectedEndOfInput, at: end) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = buf[i + k]
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
            default: throw fail(.invalidUnicodeEscape, at: escape)
            }
            v = v << 4 | UInt32(nibble)
        }
        return v
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(0xC0 | UInt8(scalar >> 6))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(0xE0 | UInt8(scalar >> 12))
            scratch.append(0x80 | UInt8((scalar >> 6) & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(scalar >> 18))
            scratch.append(0x80 | UInt8((scalar >> 12) & 0x3F))
            scratch.append(0x80 | UInt8((scalar >> 6) & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        }
    }
}

/// The wire's JSON as the domain's `FragmentEncoder` (for `SharedValue`s).
public struct JSONFragmentEncoder: FragmentEncoder {
    public init() {}
    public func encode(_ value: Value) -> [UInt8] { JSON.serialize(value) }
}
