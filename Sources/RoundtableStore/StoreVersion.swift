/// Format versions of the files in the data folder.
public enum StoreFormat {
    public static let journalVersion: UInt32 = 1
    public static let snapshotVersion: UInt32 = 1
}
