/// The wire protocol's version, sent in every `room.state` and `hello`.
public enum ProtocolVersion {
    public static let current = 1
}
