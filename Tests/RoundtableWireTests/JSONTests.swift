import RoundtableCore
import RoundtableTestSupport
import Testing

@testable import RoundtableWire

// MARK: - Helpers

/// The error `JSON.parse` throws for `bytes`, or nil when it accepts them.
private func parseError(_ bytes: [UInt8], maxDepth: Int = 32) -> JSONError? {
    do throws(JSONError) {
        _ = try JSON.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String, maxDepth: Int = 32) -> JSONError? {
    parseError(Array(text.utf8), maxDepth: maxDepth)
}

private func nestedArrays(_ depth: Int, innermost: String = "1") -> String {
    String(repeating: "[", count: depth) + innermost + String(repeating: "]", count: depth)
}

private func randomScalar(_ rng: inout SplitMix64) -> Unicode.Scalar {
    switch Int.random(in: 0..<10, using: &rng) {
    case 0: return Unicode.Scalar(UInt8.random(in: 0..<0x20, using: &rng))
    case 1: return ["\"", "\\", "/", "\u{7F}", "\u{2028}"].randomElement(using: &rng)!
    case 2: return ["é", "中", "😀", "\u{301}", "\u{FFFF}", "\u{10FFFF}"].randomElement(using: &rng)!
    case 3:
        // Anywhere in Unicode except the surrogate gap.
        while true {
            if let s = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &rng)) { return s }
        }
    default: return Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng))
    }
}

private func randomString(_ rng: inout SplitMix64) -> String {
    var s = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...12, using: &rng) { s.append(randomScalar(&rng)) }
    return String(s)
}

private func randomDouble(_ rng: inout SplitMix64) -> Double {
    switch Int.random(in: 0..<4, using: &rng) {
    case 0: return Double(Int.random(in: -100_000...100_000, using: &rng)) / 100
    case 1: return [0.0, -0.0, 1.0, 0.1, 1e-5, 1e22, 1e23, .leastNonzeroMagnitude, .greatestFiniteMagnitude].randomElement(using: &rng)!
    default:
        // Arbitrary bit patterns reach subnormals and 17-digit values that miss the fast path.
        while true {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { return d }
        }
    }
}

private func randomValue(_ rng: inout SplitMix64, depth: Int) -> Value {
    let kinds = depth >= 4 ? 5 : 7
    switch Int.random(in: 0..<kinds, using: &rng) {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2:
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .int(Int64.random(in: -1000...1000, using: &rng))
        case 1: return .int([Int64.min, Int64.max, 0].randomElement(using: &rng)!)
        default: return .int(Int64(bitPattern: rng.next()))
        }
    case 3: return .double(randomDouble(&rng))
    case 4: return .string(randomString(&rng))
    case 5:
        return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var pairs: [(String, Value)] = []
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            pairs.append((randomString(&rng), randomValue(&rng, depth: depth + 1)))
        }
        return .object(Value.Object(pairs))
    }
}

/// An exhaustive switch, so adding a reason without a test for it stops this file compiling.
private func kind(_ reason: JSONError.Reason) -> String {
    switch reason {
    case .emptyInput: "emptyInput"
    case .unexpectedEndOfInput: "unexpectedEndOfInput"
    case .unexpectedByte: "unexpectedByte"
    case .trailingData: "trailingData"
    case .trailingComma: "trailingComma"
    case .expectedObjectKey: "expectedObjectKey"
    case .expectedColon: "expectedColon"
    case .expectedCommaOrClose: "expectedCommaOrClose"
    case .invalidLiteral: "invalidLiteral"
    case .invalidNumber: "invalidNumber"
    case .leadingZero: "leadingZero"
    case .numberOutOfRange: "numberOutOfRange"
    case .controlCharacterInString: "controlCharacterInString"
    case .invalidEscape: "invalidEscape"
    case .invalidUnicodeEscape: "invalidUnicodeEscape"
    case .invalidSurrogate: "invalidSurrogate"
    case .invalidUTF8: "invalidUTF8"
    case .tooDeep: "tooDeep"
    }
}

private let allReasonKinds: Set<String> = [
    "emptyInput", "unexpectedEndOfInput", "unexpectedByte", "trailingData", "trailingComma",
    "expectedObjectKey", "expectedColon", "expectedCommaOrClose", "invalidLiteral", "invalidNumber",
    "leadingZero", "numberOutOfRange", "controlCharacterInString", "invalidEscape", "invalidUnicodeEscape",
    "invalidSurrogate", "invalidUTF8", "tooDeep",
]

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

// MARK: - Tests

@Suite struct JSONTests {
    @Test func parsesScalarsAndWhitespace() throws {
        #expect(try JSON.parse(" \t\r\nnull \n") == .null)
        #expect(try JSON.parse("true") == .bool(true))
        #expect(try JSON.parse("false") == .bool(false))
        #expect(try JSON.parse("0") == .int(0))
        #expect(try JSON.parse("-0") == .int(0))
        #expect(try JSON.parse("-12") == .int(-12))
        #expect(try JSON.parse("1.5") == .double(1.5))
        #expect(try JSON.parse("-0.0") == .double(-0.0))
        #expect(try JSON.parse("2E3") == .double(2000))
        #expect(try JSON.parse("2e-3") == .double(0.002))
        #expect(try JSON.parse("1e+2") == .double(100))
        #expect(try JSON.parse("0.0000000000000000000000000000001") == .double(1e-31))
        #expect(try JSON.parse(#""hi""#) == .string("hi"))
        #expect(try JSON.parse(#" [ 1 , { "a" : [ ] , "b" : { } } ] "#) == [1, ["a": [], "b": [:]]])
    }

    @Test func allThreeInputFormsAgree() throws {
        let text = #"{"type":"chat","body":"héllo","n":[1,2.5]}"#
        let expected: Value = ["type": "chat", "body": "héllo", "n": [1, 2.5]]
        #expect(try JSON.parse(text) == expected)
        #expect(try JSON.parse(bytes(text)) == expected)
        let raw = bytes(text)
        let viaRaw = try raw.withUnsafeBytes { (buffer) throws(JSONError) -> Value in try JSON.parse(buffer) }
        #expect(viaRaw == expected)
        #expect(parseError(bytes(text + "x"))?.offset == raw.count)
    }

    /// A shared value is encoded when it is made and copied into frames: the bytes a plain value gives.
    @Test func sharedValuesSerializeLikeWhatTheyWrap() throws {
        let plain: Value = ["id": 2, "name": "Ana \"A\"", "expertise": ["data", "é"], "online": true]
        let box = SharedValue(plain, encoder: JSONFragmentEncoder())
        #expect(box.encoded == JSON.serialize(plain))
        let frame: Value = ["members": [.shared(box), plain, .shared(SharedValue(plain))]]
        let expected = JSON.serialize(["members": [plain, plain, plain]] as Value)
        #expect(JSON.serialize(frame) == expected) // encoded bytes, the plain value, a box without bytes
        #expect(try JSON.parse(JSON.serialize(frame)) == frame)
    }

    @Test func roundTripsNestedValues() throws {
        let value: Value = [
            "type": "room.state",
            "ref": 42,
            "room": ["id": "r1", "members": [["name": "Ada", "away": false], ["name": "Linus", "away": true]]],
            "scores": [1, -2, 3.25, nil, [[], [:], [[["deep"]]]]],
            "big": .int(.min),
            "note": "line1\nline2\t\"quoted\" \\ é 😀",
        ]
        let encoded = JSON.serialize(value)
        #expect(try JSON.parse(encoded) == value)
        #expect(JSON.string(value) == String(decoding: encoded, as: UTF8.self))
        // Insertion order survives, which Value's order-blind equality would not catch.
        let reparsed = try JSON.parse(encoded)
        #expect(reparsed.objectValue?.keys == ["type", "ref", "room", "scores", "big", "note"])
        #expect(JSON.serialize(reparsed) == encoded)
    }

    @Test func serializesCompactlyInInsertionOrder() {
        let value: Value = ["z": 1, "a": [true, false, nil], "m": ["": ""], "e": [], "o": [:]]
        #expect(JSON.string(value) == #"{"z":1,"a":[true,false,null],"m":{"":""},"e":[],"o":{}}"#)
        var buffer: [UInt8] = Array("prefix:".utf8)
        JSON.serialize([1, 2], into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "prefix:[1,2]")
    }

    @Test func serializesEscapesAndRawUTF8() {
        let value = Value.string("a\"b\\c/\n\r\t\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}é中😀\u{2028}")
        #expect(JSON.string(value) == #""a\"b\\c/\n\r\t\b\f\u0000\u0001\u001f"# + "\u{7F}é中😀\u{2028}\"")
        #expect(JSON.serialize("😀") == [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22])
        #expect(JSON.string(["k\"\n": 1]) == #"{"k\"\n":1}"#)
    }

    @Test func serializesNumbers() {
        #expect(JSON.string(.int(0)) == "0")
        #expect(JSON.string(.int(7)) == "7")
        #expect(JSON.string(.int(-7)) == "-7")
        #expect(JSON.string(.int(1_234_567_890)) == "1234567890")
        #expect(JSON.string(.int(.max)) == "9223372036854775807")
        #expect(JSON.string(.int(.min)) == "-9223372036854775808")
        #expect(JSON.string(.double(1.0)) == "1.0")
        #expect(JSON.string(.double(-0.0)) == "-0.0")
        #expect(JSON.string(.double(0.1)) == "0.1")
        #expect(JSON.string(.double(1e-5)) == "1e-05")
        #expect(JSON.string(.double(1e16)) == "1e+16")
        #expect(JSON.string(.double(.leastNonzeroMagnitude)) == "5e-324")
        #expect(JSON.string([.double(.infinity), .double(-.infinity), .double(.nan)]) == "[null,null,null]")
    }

    @Test func everyErrorReasonHasAWitness() {
        let cases: [(input: [UInt8], reason: JSONError.Reason, offset: Int)] = [
            (bytes(""), .emptyInput, 0),
            (bytes(" \n\t"), .emptyInput, 3),
            (bytes("[1,2"), .unexpectedEndOfInput, 4),
            (bytes(#""abc"#), .unexpectedEndOfInput, 4),
            (bytes(#"{"a""#), .unexpectedEndOfInput, 4),
            (bytes("tru"), .unexpectedEndOfInput, 3),
            (bytes(#""\u12"#), .unexpectedEndOfInput, 5),
            (bytes(#""\"#), .unexpectedEndOfInput, 2),
            (bytes("'a'"), .unexpectedByte(UInt8(ascii: "'")), 0),
            (bytes("NaN"), .unexpectedByte(UInt8(ascii: "N")), 0),
            (bytes("[Infinity]"), .unexpectedByte(UInt8(ascii: "I")), 1),
            (bytes(".5"), .unexpectedByte(UInt8(ascii: ".")), 0),
            (bytes("+1"), .unexpectedByte(UInt8(ascii: "+")), 0),
            (bytes("[,1]"), .unexpectedByte(UInt8(ascii: ",")), 1),
            (bytes("]"), .unexpectedByte(UInt8(ascii: "]")), 0),
            ([0xEF, 0xBB, 0xBF, 0x31], .unexpectedByte(0xEF), 0),
            (bytes("[1] x"), .trailingData, 4),
            (bytes("1 2"), .trailingData, 2),
            (bytes("nulls"), .trailingData, 4),
            (bytes("{}}"), .trailingData, 2),
            (bytes("[1,]"), .trailingComma, 3),
            (bytes(#"{"a":1 , }"#), .trailingComma, 9),
            (bytes("{1:2}"), .expectedObjectKey, 1),
            (bytes(#"{"a":1,2}"#), .expectedObjectKey, 7),
            (bytes("{'a':1}"), .expectedObjectKey, 1),
            (bytes(#"{"a" 1}"#), .expectedColon, 5),
            (bytes(#"{"a"=1}"#), .expectedColon, 4),
            (bytes("[1 2]"), .expectedCommaOrClose, 3),
            (bytes(#"{"a":1]"#), .expectedCommaOrClose, 6),
            (bytes("[1}"), .expectedCommaOrClose, 2),
            (bytes("[truex]"), .expectedCommaOrClose, 5),
            (bytes("trux"), .invalidLiteral, 0),
            (bytes("[nul]"), .invalidLiteral, 1),
            (bytes("True"), .unexpectedByte(UInt8(ascii: "T")), 0),
            (bytes("-Infinity"), .invalidNumber, 1),
            (bytes("-"), .invalidNumber, 1),
            (bytes("1."), .invalidNumber, 2),
            (bytes("1.e5"), .invalidNumber, 2),
            (bytes("1e"), .invalidNumber, 2),
            (bytes("1e+"), .invalidNumber, 3),
            (bytes("[-]"), .invalidNumber, 2),
            (bytes("01"), .leadingZero, 0),
            (bytes("-00"), .leadingZero, 1),
            (bytes("[007]"), .leadingZero, 1),
            (bytes("1e400"), .numberOutOfRange, 0),
            (bytes("[-1.5e309]"), .numberOutOfRange, 1),
            (bytes("\"a\tb\""), .controlCharacterInString(0x09), 2),
            (bytes("\"a\nb\""), .controlCharacterInString(0x0A), 2),
            ([0x22, 0x00, 0x22], .controlCharacterInString(0x00), 1),
            (bytes(#""ok\n then raw"#) + [0x1F, 0x22], .controlCharacterInString(0x1F), 14),
            (bytes(#""\x""#), .invalidEscape(UInt8(ascii: "x")), 1),
            (bytes(#""ab\'""#), .invalidEscape(UInt8(ascii: "'")), 3),
            (bytes(#""\U0041""#), .invalidEscape(UInt8(ascii: "U")), 1),
            (bytes(#""\u12G4""#), .invalidUnicodeEscape, 1),
            (bytes(#""\u 123""#), .invalidUnicodeEscape, 1),
            (bytes(#""\uD83D\u12xy""#), .invalidUnicodeEscape, 7),
            (bytes(#""\uD800""#), .invalidSurrogate, 1),
            (bytes(#""\uD800\"#), .unexpectedEndOfInput, 8),
            (bytes(#""\uDC00""#), .invalidSurrogate, 1),
            (bytes(#""\uDE00\uD83D""#), .invalidSurrogate, 1),
            (bytes(#""\uD800\u0041""#), .invalidSurrogate, 1),
            (bytes(#""\uD800\uD800""#), .invalidSurrogate, 1),
            (bytes(#""\uD800\n""#), .invalidSurrogate, 1),
            (bytes(#""x\uD800abc""#), .invalidSurrogate, 2),
            ([0x22, 0xC3, 0x28, 0x22], .invalidUTF8, 1), // bad continuation
            ([0x22, 0xC0, 0xAF, 0x22], .invalidUTF8, 1), // overlong '/'
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidUTF8, 1), // overlong 3-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, 1), // UTF-8-encoded surrogate
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, 1), // above U+10FFFF
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], .invalidUTF8, 1),
            ([0x22, 0x80, 0x22], .invalidUTF8, 1), // stray continuation
            ([0x22, 0x61, 0xE2, 0x82], .invalidUTF8, 2), // truncated at end of input
            (bytes(#""0123456789abcdef"#) + [0xFF, 0x22], .invalidUTF8, 17), // after a SWAR-scanned run
            (bytes(nestedArrays(33)), .tooDeep, 32),
        ]
        var covered: Set<String> = []
        for c in cases {
            let error = parseError(c.input)
            let shown = String(decoding: c.input, as: UTF8.self)
            #expect(error == JSONError(offset: c.offset, reason: c.reason), "input: \(shown)")
            if let error { covered.insert(kind(error.reason)) }
        }
        #expect(covered == allReasonKinds)
    }

    @Test func errorDescriptionNamesOffsetAndReason() {
        let error = parseError("[1,]")
        #expect(error?.description == "JSON error at byte 3: trailing comma")
        #expect(parseError("'")?.description == "JSON error at byte 0: unexpected byte '''")
        #expect(parseError([0x22, 0x01, 0x22])?.description == "JSON error at byte 1: unescaped control character 0x01 in string")
    }

    @Test func depthLimit() throws {
        #expect(try JSON.parse(nestedArrays(32)) != .null)
        #expect(parseError(nestedArrays(33)) == JSONError(offset: 32, reason: .tooDeep))
        // Empty containers count as a level too.
        #expect(parseError(nestedArrays(33, innermost: "")) == JSONError(offset: 32, reason: .tooDeep))
        #expect(parseError(nestedArrays(32, innermost: "{}")) == JSONError(offset: 32, reason: .tooDeep))

        let objects32 = String(repeating: #"{"a":"#, count: 32) + "1" + String(repeating: "}", count: 32)
        let parsed = try JSON.parse(objects32)
        var cursor = parsed
        for _ in 0..<32 { cursor = try #require(cursor["a"]) }
        #expect(cursor == 1)
        let objects33 = #"{"a":"# + objects32 + "}"
        #expect(parseError(objects33) == JSONError(offset: 32 * 5, reason: .tooDeep))

        #expect(try JSON.parse(nestedArrays(3), maxDepth: 3) != .null)
        #expect(parseError(nestedArrays(4), maxDepth: 3)?.reason == .tooDeep)
        #expect(try JSON.parse("7", maxDepth: 0) == 7)
        #expect(parseError("[]", maxDepth: 0) == JSONError(offset: 0, reason: .tooDeep))
        #expect(parseError("[]", maxDepth: -5)?.reason == .tooDeep)

        // Hostile input: fails fast at the limit, whether or not it is ever closed.
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(parseError(hostile) == JSONError(offset: 32, reason: .tooDeep))
        #expect(parseError(bytes(nestedArrays(100_000))) == JSONError(offset: 32, reason: .tooDeep))
        // A generous limit must still not use the thread stack: the parser is iterative.
        #expect(parseError(hostile, maxDepth: 1_000_000) == JSONError(offset: 100_000, reason: .unexpectedEndOfInput))
        #expect(try JSON.parse(nestedArrays(2_000), maxDepth: 2_000) != .null)
    }

    @Test func unicodeEscapesAndRawUTF8() throws {
        #expect(try JSON.parse(#""\u00e9\u00E9""#) == "éé")
        #expect(try JSON.parse(#""\u4e2d""#) == "中")
        #expect(try JSON.parse(#""\uD83D\uDE00""#) == "😀")
        #expect(try JSON.parse(#""\ud83d\ude00x""#) == "😀x")
        #expect(try JSON.parse(#""\uDBFF\uDFFF""#) == .string(String(Character("\u{10FFFF}"))))
        #expect(try JSON.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSON.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        // Raw multibyte UTF-8 of every length, alone and mixed with escapes.
        #expect(try JSON.parse(bytes("\"é中😀\"")) == "é中😀")
        #expect(try JSON.parse(bytes("\"aé\\n中\\u00e9😀b\"")) == "aé\n中é😀b")
        #expect(try JSON.parse([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22]) == "😀")
        // Long strings exercise the eight-bytes-at-a-time scan, including a quote in every lane.
        for lane in 0..<8 {
            let prefix = String(repeating: "x", count: 16 + lane)
            let text = "[\"\(prefix)\\\"\(prefix)é\"]"
            #expect(try JSON.parse(text) == [.string(prefix + "\"" + prefix + "é")])
        }
        // Keys decode the same way.
        #expect(try JSON.parse(#"{"\u00e9":1}"#)["é"] == 1)
    }

    @Test func thousandElementArray() throws {
        let elements: [Value] = (0..<1000).map { i in
            switch i % 4 {
            case 0: .int(Int64(i))
            case 1: .double(Double(i) + 0.5)
            case 2: .string("item \(i)")
            default: ["i": .int(Int64(i))]
            }
        }
        let encoded = JSON.serialize(.array(elements))
        let parsed = try JSON.parse(encoded)
        #expect(parsed.arrayValue?.count == 1000)
        #expect(parsed == .array(elements))
        #expect(parsed.arrayValue?[999] == ["i": 999])

        let spaced = "[ " + (0..<1000).map(String.init).joined(separator: " ,\n ") + " ]"
        #expect(try JSON.parse(spaced) == .array((0..<1000).map { .int(Int64($0)) }))
    }

    @Test func bigIntegersVersusDoubles() throws {
        #expect(try JSON.parse("9223372036854775807") == .int(.max))
        #expect(try JSON.parse("-9223372036854775808") == .int(.min))
        #expect(try JSON.parse("999999999999999999") == .int(999_999_999_999_999_999))
        #expect(try JSON.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try JSON.parse("-9223372036854775809") == .double(-0x1p63)) // rounds to -2^63, yet stays a double
        #expect(try JSON.parse("18446744073709551616") == .double(18_446_744_073_709_551_616))
        #expect(try JSON.parse("100000000000000000000000") == .double(1e23))
        #expect(try JSON.parse(String(repeating: "9", count: 300)) == .double(Double(String(repeating: "9", count: 300))!))
        #expect(parseError(String(repeating: "9", count: 400))?.reason == .numberOutOfRange)
        #expect(try JSON.parse("1.0") == .double(1))
        #expect(try JSON.parse("1e0") == .double(1))
        #expect(try JSON.parse("10E-1") == .double(1))
        // .int and .double are distinct cases even when numerically equal.
        #expect(try JSON.parse("1") != .double(1))
    }

    @Test func doublesMatchTheStandardLibrary() throws {
        let texts = [
            "0.1", "0.2", "0.3", "1e22", "1e23", "9007199254740993", "9007199254740993.0",
            "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "5e-324", "2e-324", "1e-400",
            "1.7976931348623157e308", "123456789012345678901234567890.5", "0.000001", "3.141592653589793238462643383279",
            "-12.5e-3", "7.2057594037927933e16", "1" + String(repeating: "0", count: 308), "0." + String(repeating: "0", count: 300) + "1",
        ]
        for text in texts {
            let expected = try #require(Double(text))
            let parsed = try JSON.parse(text)
            #expect(parsed.doubleValue?.bitPattern == expected.bitPattern, "\(text)")
        }
    }

    @Test func duplicateKeysLastWinsAtFirstPosition() throws {
        let parsed = try JSON.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(parsed.objectValue?.keys == ["a", "b"])
        #expect(parsed["a"] == 3)
        #expect(JSON.string(parsed) == #"{"a":3,"b":2}"#)

        // Past the pairwise threshold the dictionary path must behave the same.
        let many = (0..<40).map { #""k\#($0 % 20)":\#($0)"# }.joined(separator: ",")
        let big = try JSON.parse("{" + many + "}")
        #expect(big.objectValue?.keys == (0..<20).map { "k\($0)" })
        #expect(big["k0"] == 20)
        #expect(big["k19"] == 39)
        let distinct = (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(try JSON.parse("{" + distinct + "}").objectValue?.count == 40)
    }

    @Test func fuzzNeverCrashesAndRoundTrips() throws {
        var rng = SplitMix64(seed: 0x5EED_0F15_0000_CAFE)
        let alphabet = bytes(#"{}[]:,"\ -+.eE0123456789truefalsnul u"#) + [0x09, 0x0A, 0x00, 0x1F, 0x80, 0xC3, 0xA9, 0xED, 0xF0, 0xFF]
        var accepted = 0

        // Whatever parse accepts must serialize to something it parses back identically.
        func checkAccepted(_ input: [UInt8]) throws {
            guard let value = try? JSON.parse(input) else { return }
            accepted += 1
            let encoded = JSON.serialize(value)
            #expect(try JSON.parse(encoded) == value)
            #expect(JSON.serialize(try JSON.parse(encoded)) == encoded)
        }

        for iteration in 0..<20_000 {
            switch iteration % 4 {
            case 0:
                // Random bytes from a JSON-flavoured alphabet, plus the odd fully random byte.
                let count = Int.random(in: 0...40, using: &rng)
                let input = (0..<count).map { _ in
                    Int.random(in: 0..<10, using: &rng) == 0 ? UInt8.random(in: 0...255, using: &rng) : alphabet.randomElement(using: &rng)!
                }
                try checkAccepted(input)
            case 1, 2:
                // Mutations of valid documents reach deep into the grammar before going wrong.
                var input = JSON.serialize(randomValue(&rng, depth: 0))
                for _ in 0..<Int.random(in: 1...3, using: &rng) where !input.isEmpty {
                    let at = Int.random(in: 0..<input.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: input[at] = alphabet.randomElement(using: &rng)!
                    case 1: input[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                    case 2: input.remove(at: at)
                    default: input.removeSubrange(at...)
                    }
                }
                try checkAccepted(input)
            default:
                let value = randomValue(&rng, depth: 0)
                let encoded = JSON.serialize(value)
                let decoded = try JSON.parse(encoded)
                #expect(decoded == value, "\(JSON.string(value))")
                #expect(JSON.string(value) == String(decoding: encoded, as: UTF8.self))
            }
        }
        // Guards against a harness that silently stops exercising the accept path.
        #expect(accepted > 1_000)
    }
}
