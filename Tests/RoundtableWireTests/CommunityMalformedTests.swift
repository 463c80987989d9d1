import RoundtableWire
import Testing

@testable import RoundtableCore

/// Every field of the community requests given a value of the wrong JSON type (or out of range): the frame is
/// refused with `invalid_field`, never accepted with a guessed value and never a crash.
@Suite struct CommunityMalformedTests {
    static let f = #""community":"C7Q2M9XK4T","facilitatorKey":"k""#
    static let m = #""community":"C7Q2M9XK4T","communityKey":"m""#

    /// Each template has one `@`: the field under test. `optional`: null (absent) is a valid value there.
    static let templates: [(text: String, optional: Bool, isString: Bool)] = [
        (#"{"type":"community.create","name":@}"#, false, true),
        (#"{"type":"community.create","name":"N","createToken":@}"#, true, true),
        (#"{"type":"community.import","community":@,"facilitatorKey":"k","csv":"name\nA"}"#, false, true),
        (#"{"type":"community.import","community":"C1","facilitatorKey":@,"csv":"name\nA"}"#, false, true),
        (#"{"type":"community.import",\#(f),"csv":@}"#, false, true),
        (#"{"type":"community.import",\#(f),"members":@}"#, false, false),
        (#"{"type":"community.import",\#(f),"members":[@]}"#, false, false),
        (#"{"type":"community.import",\#(f),"members":[{"name":@}]}"#, false, true),
        (#"{"type":"community.import",\#(f),"members":[{"name":"A","organization":@}]}"#, true, true),
        (#"{"type":"community.import",\#(f),"members":[{"name":"A","group":@}]}"#, true, true),
        (#"{"type":"community.import",\#(f),"members":[{"name":"A","expertise":@}]}"#, true, false),
        (#"{"type":"community.import",\#(f),"members":[{"name":"A","expertise":[@]}]}"#, false, true),
        (#"{"type":"community.export","community":"C1","facilitatorKey":@}"#, false, true),
        (#"{"type":"community.reissueKey",\#(f),"member":@}"#, false, false),
        (#"{"type":"community.needStatus",\#(f),"need":@,"status":"open"}"#, false, false),
        (#"{"type":"community.needStatus",\#(f),"need":1,"status":@}"#, false, false),
        (#"{"type":"community.needStatus",\#(f),"need":1,"status":"open","owner":@}"#, true, false),
        (#"{"type":"community.profile","community":"C1","communityKey":@}"#, false, true),
        (#"{"type":"community.profile",\#(m),"name":@}"#, true, true),
        (#"{"type":"community.profile",\#(m),"organization":@}"#, true, true),
        (#"{"type":"community.profile",\#(m),"bio":@}"#, true, true),
        (#"{"type":"community.profile",\#(m),"expertise":@}"#, true, false),
        (#"{"type":"community.profile",\#(m),"expertise":[@]}"#, false, true),
        (#"{"type":"community.profile",\#(m),"listed":@}"#, true, false),
        (#"{"type":"community.directory",\#(m),"tag":@}"#, true, true),
        (#"{"type":"community.directory",\#(m),"need":@}"#, true, false),
        (#"{"type":"community.directory",\#(m),"limit":@}"#, true, false),
        (#"{"type":"community.directory",\#(m),"offset":@}"#, true, false),
        (#"{"type":"community.groups",\#(f),"groups":@}"#, false, false),
        (#"{"type":"community.groups",\#(f),"groups":[@]}"#, false, false),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":@}]}"#, false, true),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":"G","group":@}]}"#, true, false),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":"G","description":@}]}"#, true, true),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":"G","focus":@}]}"#, true, false),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":"G","focus":[@]}]}"#, false, false),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":"G","members":@}]}"#, true, false),
        (#"{"type":"community.groups",\#(f),"groups":[{"name":"G","members":[@]}]}"#, false, false),
        (#"{"type":"community.view","community":@,"communityKey":"m"}"#, false, true),
        (#"{"type":"community.view","community":"C1","facilitatorKey":@}"#, false, true),
        (#"{"type":"room.create","title":"T","name":"F","community":@,"facilitatorKey":"k"}"#, false, true),
        (#"{"type":"room.create","title":"T","name":"F","community":"C1","facilitatorKey":@}"#, false, true),
        (#"{"type":"room.join","room":"E7Z98H5K","communityKey":@}"#, true, true),
    ]

    /// Values no field above takes: wrong types, fractions, negatives, huge integers, nesting.
    static let wrong = [
        "1.5", "-1", "0", "1e300", "-1e300", "99999999999999999999", "9007199254740993", "true", "{}", #"{"a":[1]}"#, "[[]]", #"[{"x":null}]"#,
    ]
    static let wrongStrings = [#""x""#, #""""#, #""1""#]

    @Test func everyFieldRefusesWrongTypes() {
        for t in Self.templates {
            var values = Self.wrong + (t.isString ? [] : Self.wrongStrings)
            if !t.optional { values.append("null") }
            for v in values {
                // 0 is a valid offset and true a valid `listed`: the only values here some field takes.
                if (v == "0" && t.text.contains("offset")) || (v == "true" && t.text.contains("listed")) { continue }
                let text = t.text.split(separator: "@", omittingEmptySubsequences: false).joined(separator: v)
                guard case .failure(let e) = CommunityWireTests.decode(text) else {
                    Issue.record("accepted: \(text)")
                    continue
                }
                #expect(e.code == "invalid_field", "\(text): \(e.code) \(e.message)")
            }
        }
    }
}
