/// Why and where `JSON.parse` rejected its input.
///
/// `offset` is the byte offset (from the start of the input) of the byte that made the input invalid,
/// or the input length when it ended too early. Clients get it verbatim in error replies, so it is
/// deliberately a plain byte count rather than a line/column pair.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset into the input where the problem was detected.
    public var offset: Int
    /// What was wrong.
    public var reason: Reason

    /// The ways input can fail to be a single strict RFC 8259 JSON value.
    public enum Reason: Sendable, Equatable {
        /// The input was empty or only whitespace.
        case emptyInput
        /// The input ended in the middle of a value (unterminated string, array, object, literal or escape).
        case unexpectedEndOfInput
        /// A byte that cannot start a value here (single quotes, `NaN`, `Infinity`, stray `]`, non-ASCII outside strings…).
        case unexpectedByte(UInt8)
        /// A complete value was followed by something other than whitespace.
        case trailingData
        /// A comma directly before `]` or `}`.
        case trailingComma
        /// An object member did not start with a string key.
        case expectedObjectKey
        /// An object key was not followed by `:`.
        case expectedColon
        /// An array element or object member was not followed by `,` or the closing bracket.
        case expectedCommaOrClose
        /// A misspelled `true`, `false` or `null`.
        case invalidLiteral
        /// A number that breaks the grammar: `-`, `1.`, `.5`, `1e`, `+1`, `-x`.
        case invalidNumber
        /// An integer part with a superfluous leading zero, such as `01` or `-00`.
        case leadingZero
        /// A number whose magnitude does not fit in a finite `Double` (for example `1e400`).
        case numberOutOfRange
        /// A raw byte below 0x20 inside a string; JSON requires these to be escaped.
        case controlCharacterInString(UInt8)
        /// A backslash followed by a byte that does not form a JSON escape.
        case invalidEscape(UInt8)
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\u` escape naming a lone or mismatched UTF-16 surrogate.
        case invalidSurrogate
        /// Bytes inside a string that are not well-formed UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
        case invalidUTF8
        /// Arrays and objects nest deeper than the `maxDepth` the caller allowed.
        case tooDeep
    }

    /// Creates an error; public so layers above can report their own JSON-shaped failures uniformly.
    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .emptyInput: what = "empty input"
        case .unexpectedEndOfInput: what = "unexpected end of input"
        case .unexpectedByte(let b): what = "unexpected byte \(JSONError.show(b))"
        case .trailingData: what = "unexpected data after the value"
        case .trailingComma: what = "trailing comma"
        case .expectedObjectKey: what = "expected a string object key"
        case .expectedColon: what = "expected ':' after object key"
        case .expectedCommaOrClose: what = "expected ',' or a closing bracket"
        case .invalidLiteral: what = "invalid literal"
        case .invalidNumber: what = "invalid number"
        case .leadingZero: what = "number has a leading zero"
        case .numberOutOfRange: what = "number out of range"
        case .controlCharacterInString(let b): what = "unescaped control character \(JSONError.show(b)) in string"
        case .invalidEscape(let b): what = "invalid escape \\\(JSONError.show(b))"
        case .invalidUnicodeEscape: what = "invalid \\u escape"
        case .invalidSurrogate: what = "lone or mismatched UTF-16 surrogate escape"
        case .invalidUTF8: what = "invalid UTF-8"
        case .tooDeep: what = "nesting too deep"
        }
        return "JSON error at byte \(offset): \(what)"
    }

    private static func show(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        let hex = String(b, radix: 16, uppercase: true)
        return b < 0x10 ? "0x0\(hex)" : "0x\(hex)"
    }
}
