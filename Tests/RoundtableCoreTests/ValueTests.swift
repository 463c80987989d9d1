import Testing

@testable import RoundtableCore

@Suite struct ValueTests {
    @Test func objectKeepsOrderAndReplacesKeys() {
        var o = Value.Object([("type", "ack"), ("ref", 1)])
        o["ref"] = 2
        o["room"] = "ABC"
        #expect(o.keys == ["type", "ref", "room"])
        #expect(o["ref"] == 2)
        o["ref"] = nil
        #expect(o.keys == ["type", "room"])
    }

    @Test func sharedValueEqualsAndHashesAsWhatItWraps() {
        let plain: Value = ["id": 2, "name": "Ana", "expertise": ["data"]]
        let shared = Value.shared(SharedValue(plain))
        #expect(shared == plain && plain == shared)
        #expect(shared.hashValue == plain.hashValue)
        #expect(shared["name"] == "Ana" && shared.objectValue?.count == 3 && shared.unshared == plain)
        #expect(Value.array([shared]) == .array([plain]))
        #expect(shared != ["id": 3])
    }

    @Test func objectEqualityIgnoresOrder() {
        let a: Value = ["a": 1, "b": "x"]
        let b: Value = ["b": "x", "a": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["a": 1])
    }
}
