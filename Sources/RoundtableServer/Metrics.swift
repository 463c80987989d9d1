import CLibWebSockets
import RoundtableCore
import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// A Prometheus-style histogram with fixed upper bounds, in seconds. Counts are kept per bucket and made
/// cumulative only when written out, so `observe` is one comparison walk and one increment.
public struct LatencyHistogram: Sendable {
    /// From half a millisecond (an ack that needed no disk) to five seconds (a disk in trouble).
    public static let defaultBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    public let bounds: [Double]
    /// `counts[i]` observations fell in `(bounds[i-1], bounds[i]]`; the last slot is above every bound.
    public private(set) var counts: [Int]
    public private(set) var sum = 0.0
    public private(set) var count = 0

    public init(bounds: [Double] = LatencyHistogram.defaultBounds) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ seconds: Double) {
        let v = max(0, seconds)
        var i = 0
        while i < bounds.count && v > bounds[i] { i += 1 }
        counts[i] += 1
        sum += v
        count += 1
    }
}

/// Bookkeeping behind the latency histograms. Everything here runs on the service thread, inside `stats`.
extension ServerStats {
    /// Past this many unreleased batches (a stalled disk) the oldest stop being timed, so memory stays bounded;
    /// the `pending_batches` gauge shows the stall anyway.
    static let maxAwaiting = 100_000

    /// A batch went to the journal writer at `at` (monotonic seconds).
    mutating func journalAppended(ticket: UInt64, at: Double) {
        if awaitingDurable.count >= Self.maxAwaiting { awaitingDurable.removeFirst(awaitingDurable.count / 2) }
        awaitingDurable.append((ticket, at))
    }

    /// A request received at `receivedAt` has its ack held until batch `ticket` is durable.
    mutating func ackHeld(ticket: UInt64, receivedAt: Double) {
        if awaitingAck.count >= Self.maxAwaiting { awaitingAck.removeFirst(awaitingAck.count / 2) }
        awaitingAck.append((ticket, receivedAt))
    }

    /// The writer reported every batch up to `ticket`: time them, and the acks they released.
    /// On a failure the failed batches' acks became errors, so only tickets before the first failed one
    /// (`firstFailed`, else `ticket` itself) are timed.
    mutating func released(upTo ticket: UInt64, ok: Bool, now: Double, firstFailed: UInt64? = nil) {
        let firstRefused = ok ? nil : (firstFailed ?? ticket)
        var n = 0
        while n < awaitingDurable.count && awaitingDurable[n].ticket <= ticket {
            if firstRefused.map({ awaitingDurable[n].ticket < $0 }) ?? true { durableLatency.observe(now - awaitingDurable[n].since) }
            n += 1
        }
        awaitingDurable.removeFirst(n)
        n = 0
        while n < awaitingAck.count && awaitingAck[n].ticket <= ticket {
            if firstRefused.map({ awaitingAck[n].ticket < $0 }) ?? true { ackLatency.observe(now - awaitingAck[n].since) }
            n += 1
        }
        awaitingAck.removeFirst(n)
    }

    /// An error reply is being queued; codes are the protocol's fixed set, so the label stays small.
    mutating func countError(_ code: String) {
        errorsByCode[code, default: 0] += 1
    }
}

/// Writes the Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, then `name{labels} value` lines.
struct PrometheusText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.number(value) + "\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        sample(name, labels, Double(value))
    }

    mutating func sample(_ name: String, _ value: Double) { sample(name, [], value) }
    mutating func sample(_ name: String, _ value: Int) { sample(name, [], Double(value)) }

    /// One metric with a single unlabeled sample.
    mutating func single(_ name: String, _ type: String, _ help: String, _ value: Double) {
        family(name, type, help)
        sample(name, value)
    }

    mutating func single(_ name: String, _ type: String, _ help: String, _ value: Int) {
        single(name, type, help, Double(value))
    }

    /// A labeled family; label values sorted so consecutive scrapes diff cleanly.
    mutating func labeled(_ name: String, _ type: String, _ help: String, label: String, _ values: [String: Int]) {
        family(name, type, help)
        for k in values.keys.sorted() { sample(name, [(label, k)], values[k]!) }
    }

    mutating func histogram(_ name: String, _ help: String, _ h: LatencyHistogram) {
        family(name, "histogram", help)
        var cumulative = 0
        for (i, bound) in h.bounds.enumerated() {
            cumulative += h.counts[i]
            sample(name + "_bucket", [("le", Self.number(bound))], cumulative)
        }
        sample(name + "_bucket", [("le", "+Inf")], h.count)
        sample(name + "_sum", h.sum)
        sample(name + "_count", h.count)
    }

    /// Integers without a fraction (counters read better), other values as Swift prints them
    /// ("0.0005", "1e-07"), which Prometheus' float parser accepts.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

extension RoundtableServer {
    /// `GET /metrics`. Runs on the service thread, so connections, the coordinator and the journal state are
    /// read in place; the counters come from one copy of `stats`.
    func serveMetrics(_ wsi: OpaquePointer) -> Int32 {
        guard metricsAllowed(wsi) else { return notFound(wsi) }
        return respond(wsi, 200, "text/plain; version=0.0.4; charset=utf-8", Array(metricsText().utf8))
    }

    /// Who may read the metrics. lws hands over the path after its own normalisation (`//metrics`,
    /// `/./metrics`, `/%6detrics` all arrive as `/metrics`), so the route cannot be kept internal by its
    /// spelling: it is kept internal by who asks. With `server.metricsToken`, the bearer token decides.
    /// Without it, only a direct loopback peer: a request relayed by a proxy (which adds a forwarding
    /// header, as the shipped nginx and HAProxy configurations do) is refused even though it comes from
    /// loopback. Refusals are 404, like any route that does not exist.
    func metricsAllowed(_ wsi: OpaquePointer) -> Bool {
        if let token = config.metricsToken {
            guard let given = bearerToken(wsi) else { return false }
            let hasher = SHA256Hasher()
            return constantTimeEquals(hasher.digest(given), hasher.digest(token))
        }
        var buf = [CChar](repeating: 0, count: 64)
        let peer = lws_get_peer_simple(wsi, &buf, buf.count).map { String(cString: $0) } ?? ""
        guard Self.isLoopback(peer) else { return false }
        for token in [WSI_TOKEN_X_FORWARDED_FOR, WSI_TOKEN_HTTP_X_REAL_IP] where lws_hdr_total_length(wsi, token) > 0 {
            return false
        }
        // RFC 7239 `Forwarded` is no lws token: lws keeps it as a custom header (name lower-cased, with its colon).
        return lws_hdr_custom_length(wsi, "forwarded:", 10) < 0
    }

    /// 127.0.0.0/8, ::1, and IPv4-mapped loopback as lws prints it.
    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    func metricsText() -> String {
        let s = stats.withLock { $0 }
        var members = 0
        var online = 0
        for room in coordinator.rooms.values {
            members += room.currentMemberCount
            online += room.online.count
        }
        var p = PrometheusText()
        p.family("roundtable_build_info", "gauge", "Version of the running server (value is always 1).")
        p.sample("roundtable_build_info", [("version", RoundtableVersion.string)], 1)
        p.single("roundtable_ready", "gauge", "1 once recovery has finished and requests are served.", ready ? 1 : 0)
        p.single("roundtable_storage_failing", "gauge", "1 while the journal refuses writes (changes get storage_unavailable).", storageFailing ? 1 : 0)

        p.single("roundtable_connections_open", "gauge", "WebSocket connections open now.", connections.count)
        p.single("roundtable_connections_opened_total", "counter", "WebSocket connections accepted since start.", s.connectionsOpened)
        p.single("roundtable_connections_refused_total", "counter", "Connections closed at once for a connection limit (1013 or 1008).", s.connectionsRefused)
        p.single("roundtable_rooms", "gauge", "Rooms held in memory.", coordinator.rooms.count)
        p.single("roundtable_rooms_archived", "gauge", "Rooms archived to the data folder (out of memory) until reopened.", coordinator.archived.count)
        p.single("roundtable_rooms_archived_total", "counter", "Rooms archived since start.", s.roomsArchived)
        p.single("roundtable_rooms_reopened_total", "counter", "Archived rooms brought back by their facilitator since start.", s.roomsReopened)
        p.single("roundtable_archive_failures_total", "counter", "Archive files that could not be written or read.", s.archiveFailures)
        p.single("roundtable_members", "gauge", "Members of all rooms who have not left.", members)
        p.single("roundtable_members_online", "gauge", "Members with at least one open connection.", online)

        p.single("roundtable_messages_received_total", "counter", "Text messages received from clients, rate-limited ones included.", s.messagesIn)
        p.single("roundtable_messages_sent_total", "counter", "Messages queued to clients (one per recipient).", s.messagesOut)
        p.labeled(
            "roundtable_requests_total", "counter", "Requests by type; \"invalid\" for frames that did not decode.",
            label: "type", s.requestsByType)
        p.labeled("roundtable_errors_total", "counter", "Error replies queued, by protocol error code.", label: "code", s.errorsByCode)
        p.single("roundtable_rate_limited_total", "counter", "Messages refused for exceeding the per-connection rate.", s.rateLimited)
        p.single("roundtable_slow_readers_closed_total", "counter", "Connections closed because their send queue was full.", s.slowReadersClosed)
        p.single(
            "roundtable_partial_sends_total", "counter", "Writes a client's socket did not take whole (the rest waited for the client to read).",
            s.partialSends)
        p.single("roundtable_keepalive_dropped_total", "counter", "Connections dropped after pingTimeoutSeconds without traffic.", s.keepAliveDropped)
        p.histogram(
            "roundtable_ack_latency_seconds",
            "Time from receiving a request to queuing its ack, journal durability included.", s.ackLatency)

        p.single("roundtable_journal_entries_total", "counter", "Journal entries appended since start.", s.journalEntries)
        p.histogram(
            "roundtable_journal_durable_latency_seconds",
            "Time from handing a batch to the journal to the service thread learning it is durable (write, and fsync per storage.fsync).",
            s.durableLatency)
        p.single(
            "roundtable_journal_writer_wakeups_total", "counter",
            "Times the journal writer thread's report woke the service loop (storage.fsync always; 0 when the service thread writes the journal itself).",
            journalWakeups)
        p.single("roundtable_journal_pending_batches", "gauge", "Batches whose effects wait for durability.", machine.pendingBatches)
        if let journal {
            let disk = Self.folderUsage(journal.directory.journalPath)
            p.single("roundtable_journal_segments", "gauge", "Journal segment files on disk.", disk.files)
            p.single("roundtable_journal_bytes", "gauge", "Bytes of journal segments on disk (shrinks when a snapshot prunes segments).", disk.bytes)
        }
        p.single("roundtable_snapshots_total", "counter", "Snapshots written since start.", s.snapshots)
        p.single("roundtable_snapshot_failures_total", "counter", "Snapshot writes that failed.", s.snapshotFailures)
        p.single("roundtable_snapshot_last_duration_seconds", "gauge", "Duration of the last snapshot write.", s.lastSnapshotMillis / 1000)
        p.single("roundtable_snapshot_last_bytes", "gauge", "Size of the last snapshot's payload.", s.lastSnapshotBytes)
        if let r = s.recoverySeconds {
            p.single("roundtable_recovery_seconds", "gauge", "Time from start to the end of recovery (snapshot load and journal replay).", r)
        }

        p.single("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.", Double(s.startedAtWallMillis) / 1000)
        if let rss = Self.residentBytes() {
            p.single("process_resident_memory_bytes", "gauge", "Resident memory size (from /proc/self/statm).", rss)
        }
        // Less one: the listing itself holds a descriptor on /proc/self/fd while it counts.
        p.single("process_open_fds", "gauge", "Open file descriptors.", max(0, Self.folderUsage("/proc/self/fd", sizes: false).files - 1))
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            p.single("process_max_fds", "gauge", "Limit on open file descriptors (LimitNOFILE).", Double(limit.rlim_cur))
        }
        return p.text
    }

    /// Resident set size: statm's second field is in pages.
    static func residentBytes() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return nil }
        let fields = String(decoding: buf[0..<n], as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Regular files (or any entries, without sizes) in a folder and their total size. A few readdir and
    /// stat calls per scrape: the journal has a handful of segments.
    static func folderUsage(_ path: String, sizes: Bool = true) -> (files: Int, bytes: Int) {
        guard let dir = opendir(path) else { return (0, 0) }
        defer { closedir(dir) }
        var files = 0
        var bytes = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            guard sizes else {
                files += 1
                continue
            }
            var st = stat()
            if stat(path + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                files += 1
                bytes += Int(st.st_size)
            }
        }
        return (files, bytes)
    }
}
