import Logging

/// One segment as the reader found it, for recovery logs and the `inspect` command.
public struct SegmentInfo: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Every byte after the header is a valid record, or zeros after the last one (a pre-sized segment).
        case clean
        /// Not read: all its records are at or below the requested LSN.
        case skipped
        /// The last segment ended in a torn or damaged record; during recovery the file was cut at `offset`.
        case tornTail(offset: Int, reason: String)
        /// The last segment held no records (a crash right after it was created); recovery deleted it.
        case removedEmpty(reason: String)
        /// Damage recovery refuses to repair (only reported by `inspect`; `scan` throws instead).
        case damaged(offset: Int, reason: String)
    }

    public var path: String
    public var firstLSN: UInt64
    /// Nil when the segment holds no readable records (or was skipped).
    public var lastLSN: UInt64?
    public var records: Int
    /// File size when found, before any truncation.
    public var bytes: Int
    public var state: State
}

/// The outcome of recovery scanning.
public struct JournalScan: Sendable {
    /// Records with LSN greater than the requested one, in LSN order, without gaps.
    public var records: [JournalRecord]
    /// Segments oldest first.
    public var segments: [SegmentInfo]
    /// The highest LSN the journal holds, nil if it holds none.
    public var lastLSN: UInt64?
    /// What the next appended record must carry: one past the journal's end or past the snapshot, whichever is later.
    public var nextLSN: UInt64
}

/// Reads the journal back at startup, repairing a torn tail and refusing anything worse.
public enum JournalReader {
    /// Returns the records after `lsn` across all segments.
    ///
    /// A torn or damaged tail of the last segment is cut off (the file is truncated at the last good record and
    /// the cut logged): that is what a crash mid-write leaves behind, and those records were never reported
    /// durable under `.always`. Anything else throws: damage inside an earlier segment, damage in the last
    /// segment with intact records after it (not a torn write, unless `repair` is set), LSN gaps or overlaps.
    ///
    /// - Parameters:
    ///   - directory: the data directory (the journal lives in its `journal/` folder).
    ///   - lsn: records up to and including this LSN are covered by the snapshot and not returned.
    ///   - repair: also cut the last segment at damage that has intact records after it (dropping them).
    public static func scan(
        directory: String, after lsn: UInt64, repair: Bool = false, logger: Logger
    ) throws(StoreError) -> JournalScan {
        try run(directory: directory, after: lsn, mode: .recover(repair: repair), logger: logger)
    }

    /// Describes every segment without changing any file; damage is reported in `SegmentInfo.state`.
    public static func inspect(directory: String, logger: Logger) throws(StoreError) -> [SegmentInfo] {
        try run(directory: directory, after: 0, mode: .inspect, logger: logger).segments
    }

    private enum Mode {
        case recover(repair: Bool)
        case inspect
    }

    private static func run(directory: String, after: UInt64, mode: Mode, logger: Logger) throws(StoreError) -> JournalScan {
        let journal = FileSystem.join(directory, Segment.directoryName)
        let segments = try Segment.list(journal)
        let recovering: Bool
        let repair: Bool
        switch mode {
        case let .recover(r): (recovering, repair) = (true, r)
        case .inspect: (recovering, repair) = (false, false)
        }
        var records: [JournalRecord] = []
        var infos: [SegmentInfo] = []
        var lastLSN: UInt64?

        for (index, seg) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if let last = lastLSN, seg.firstLSN <= last {
                let problem = "segment starts at LSN \(seg.firstLSN) but the previous one already reached \(last)"
                if recovering { throw .corruptJournal(file: seg.path, offset: 0, reason: problem) }
                infos.append(
                    SegmentInfo(
                        path: seg.path, firstLSN: seg.firstLSN, lastLSN: nil, records: 0,
                        bytes: FileSystem.fileSize(seg.path) ?? 0, state: .damaged(offset: 0, reason: problem)))
                continue
            }
            // Names are first LSNs and segments are contiguous, so the next name bounds this one's records.
            if recovering && !isLast && segments[index + 1].firstLSN <= after + 1 {
                infos.append(
                    SegmentInfo(
                        path: seg.path, firstLSN: seg.firstLSN, lastLSN: nil, records: 0,
                        bytes: FileSystem.fileSize(seg.path) ?? 0, state: .skipped))
                lastLSN = segments[index + 1].firstLSN - 1
                continue
            }

            let bytes = try FileSystem.readAll(seg.path)
            var info = SegmentInfo(
                path: seg.path, firstLSN: seg.firstLSN, lastLSN: nil, records: 0,
                bytes: bytes.count, state: .clean)
            if let problem = Segment.headerProblem(bytes, expectedFirstLSN: seg.firstLSN) {
                // A crash between creating a segment and writing its header leaves a short or zero-filled file.
                let unwritten = bytes.count < Segment.headerSize || bytes.allSatisfy { $0 == 0 }
                if isLast && unwritten {
                    info.state = .removedEmpty(reason: problem)
                    if recovering {
                        logger.warning(
                            "journal: removing last segment with no complete header",
                            metadata: [
                                "file": "\(seg.path)", "bytes": "\(bytes.count)",
                            ])
                        try removeSegment(seg.path, journal: journal)
                    }
                    infos.append(info)
                    continue
                }
                if recovering { throw .corruptJournal(file: seg.path, offset: 0, reason: problem) }
                info.state = .damaged(offset: 0, reason: problem)
                infos.append(info)
                continue
            }

            var offset = Segment.headerSize
            var previous: UInt64?
            var damage: (offset: Int, reason: String, repairable: Bool)?
            var zeroTail: Int?
            bytes.withUnsafeBytes { buf in
                while damage == nil {
                    switch RecordCodec.decode(buf, at: offset) {
                    case let .record(r, next):
                        let want = previous.map { $0 + 1 } ?? seg.firstLSN
                        if r.lsn != want {
                            damage = (offset, "record has LSN \(r.lsn) where \(want) was expected", false)
                            return
                        }
                        previous = r.lsn
                        info.records += 1
                        if recovering && r.lsn > after { records.append(r) }
                        offset = next
                    case .end:
                        return
                    // Only zeros from here to the end: the unwritten tail of a pre-sized segment (the writer fills
                    // new segments with zeros under fsync always), so the end of its records, not damage.
                    case .incomplete where RecordCodec.isZeroFill(buf, from: offset),
                        .corrupt where RecordCodec.isZeroFill(buf, from: offset):
                        zeroTail = offset
                        return
                    case .incomplete:
                        damage = (offset, "record cut short (torn write)", true)
                    case let .corrupt(reason):
                        damage = (offset, reason, true)
                    }
                }
            }
            info.lastLSN = previous

            if let damage {
                var reason = damage.reason
                let intact = isLast ? intactRecord(in: bytes, after: damage.offset, lsnsFrom: previous.map { $0 + 1 } ?? seg.firstLSN) : nil
                if let intact { reason += "; intact records follow at offset \(intact), so this is not a torn tail" }
                // A well-formed record with the wrong LSN is a spliced or misnamed file, never a torn write.
                let tail = isLast && damage.repairable && (intact == nil || repair)
                if !tail {
                    if recovering { throw .corruptJournal(file: seg.path, offset: damage.offset, reason: reason) }
                    info.state = .damaged(offset: damage.offset, reason: reason)
                } else {
                    info.state = .tornTail(offset: damage.offset, reason: reason)
                    if recovering {
                        logger.warning(
                            "journal: cutting damaged tail of last segment",
                            metadata: [
                                "file": "\(seg.path)", "offset": "\(damage.offset)",
                                "droppedBytes": "\(bytes.count - damage.offset)", "reason": "\(reason)",
                            ])
                        if info.records == 0 {
                            try removeSegment(seg.path, journal: journal)
                        } else {
                            try FileSystem.truncate(seg.path, to: damage.offset)
                        }
                    }
                }
            } else if isLast && info.records == 0 {
                // The writer names its new segment by the next LSN; an empty leftover could carry that very name.
                info.state = .removedEmpty(reason: "segment holds no records")
                if recovering { try removeSegment(seg.path, journal: journal) }
            } else if isLast && recovering, let zeroTail {
                // The writer never appends to a segment it did not write in this run (it starts a new one), so
                // the unused zeros of the last one are only disk space: give them back.
                logger.info(
                    "journal: trimming the unused zero-filled tail of the last segment",
                    metadata: ["file": "\(seg.path)", "offset": "\(zeroTail)", "bytes": "\(bytes.count - zeroTail)"])
                try FileSystem.truncate(seg.path, to: zeroTail)
            }
            if let previous { lastLSN = previous }
            infos.append(info)
        }

        if recovering { try checkContinuity(records, after: after, segments: infos) }
        return JournalScan(records: records, segments: infos, lastLSN: lastLSN, nextLSN: max(lastLSN ?? 0, after) + 1)
    }

    /// Records past the snapshot must start right after it and never skip an LSN; earlier gaps are harmless
    /// (the snapshot covers them).
    private static func checkContinuity(_ records: [JournalRecord], after: UInt64, segments: [SegmentInfo]) throws(StoreError) {
        var expected = after + 1
        for r in records {
            if r.lsn != expected {
                let file = segments.last { $0.firstLSN <= r.lsn }?.path ?? "journal"
                throw .journalGap(file: file, expected: expected, found: r.lsn)
            }
            expected += 1
        }
    }

    /// Offset of the first intact record after `start` whose LSN could plausibly follow, if any.
    static func intactRecord(in bytes: [UInt8], after start: Int, lsnsFrom low: UInt64) -> Int? {
        let minRecord = RecordCodec.headerSize + RecordCodec.minBodySize
        guard bytes.count - start > minRecord else { return nil }
        let lsns = low...(low + UInt64(bytes.count / minRecord) + 1)
        return bytes.withUnsafeBytes { buf in
            var o = start + 1
            while o + minRecord <= buf.count {
                if RecordCodec.looksLikeRecord(buf, at: o, lsns: lsns) { return o }
                o += 1
            }
            return nil
        }
    }

    private static func removeSegment(_ path: String, journal: String) throws(StoreError) {
        try FileSystem.remove(path)
        try FileSystem.syncDirectory(journal)
    }
}
