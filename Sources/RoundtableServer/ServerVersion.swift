/// The version printed by `roundtable --version` and served at `/healthz`.
public enum RoundtableVersion {
    public static let string = "0.1.0"
}
