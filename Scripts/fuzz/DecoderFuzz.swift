// libFuzzer target: one input = one client text frame, through the same entry point the server uses.
// Built by Scripts/fuzz/run.sh, which compiles RoundtableCore + RoundtableWire into this binary with
// `-sanitize=fuzzer,address` (Package.swift has no fuzz product, on purpose).
//
// Properties checked beyond "no crash, no ASan report":
// - the outcome is a Request of a known type, or a RejectedFrame with a decoder error code;
// - a bad_json rejection never echoes a ref;
// - whatever JSON.parse accepts, JSON.serialize writes back to an equal value.

let decoderCodes: Set<String> = ["bad_json", "invalid_field", "too_large", "unknown_type"]

@_cdecl("LLVMFuzzerTestOneInput")
public func decoderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    do throws(RejectedFrame) {
        let r = try RequestDecoder.decode(raw)
        precondition(!r.type.isEmpty, "decoded a request without a type")
    } catch {
        precondition(decoderCodes.contains(error.error.code), "unexpected code \(error.error.code)")
        precondition(error.error.code != "bad_json" || error.ref == nil, "bad_json echoed a ref")
    }
    if let v = try? JSON.parse(raw, maxDepth: 32) {
        let again = try? JSON.parse(JSON.serialize(v), maxDepth: 32)
        precondition(again == v, "JSON round trip changed the value")
    }
    return 0
}
