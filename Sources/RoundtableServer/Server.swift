import CLibEv
import CLibWebSockets
import Logging
import RoundtableCore
import RoundtableStore
import RoundtableWire

#if canImport(Glibc)
import Glibc
#endif

/// What other threads hand to the service thread.
enum InboxItem {
    case tick
    case durableReady
    case recovered(Coordinator)
    case recoveryFailed(String)
    case reloaded(Coordinator)
    case snapshotDone(ok: Bool, millis: Double, bytes: Int)
    case recoveryRetry
    case archiveWritten(Room, error: String?)
    case archiveLoaded(code: String, Result<(room: Room, voterKeys: [String: String]), ArchiveLoadError>)
    case stop
}

/// A Roundtable node: the libwebsockets context, its single service thread, and the coordinator it feeds.
///
/// Threading: everything below `// service thread` is touched only by the lws service thread (inside
/// callbacks or the loop). Other threads talk to it only through `inbox` plus `lws_cancel_service`,
/// the one lws call that is safe from another thread.
public final class RoundtableServer: @unchecked Sendable {
    public let config: Configuration
    let logger: Logger
    private let inbox = Locked<(items: [InboxItem], context: OpaquePointer?)>(([], nil))
    private let stopped = Locked<Bool>(false)
    private let started = Locked<Int?>(nil)
    private var thread: pthread_t?
    private let tickerStop = Locked<Bool>(false)
    /// Durability reports from the writer thread, coalesced until the service thread drains them.
    /// `inline`: the service thread is writing the journal itself (`writeJournalInline`) and drains right after,
    /// so reports made meanwhile must not post a wake-up.
    struct DurableReports {
        var okUpTo: UInt64 = 0
        var failedFrom: UInt64?
        var failedUpTo: UInt64 = 0
        var posted = false
        var inline = false
    }
    let durableReports = Locked(DurableReports())
    private var tickerThread: pthread_t?
    let journal: Persistence?
    private let recover: @Sendable () throws -> Coordinator

    // service thread
    var coordinator: Coordinator
    var connections: [ConnectionID: Connection] = [:]
    /// Connections whose queue went from empty to not empty in this pass: `flushWrites` writes them at its end.
    var flushPending: [Connection] = []
    /// This pass read part of a frame whose rest is still to come (a read that filled lws' 1 KiB buffer
    /// mid-frame): see `flushWrites`.
    var inputContinues = false
    var flushDeferred = false
    /// Admission, rate limits, keep-alive and join deadlines: decided by the machine, run by this driver.
    var machine: NodeMachine
    var lastDeadlineScan = 0.0
    var nextConnectionID: ConnectionID = 1
    var httpResponses: [OpaquePointer: HTTPResponse] = [:]
    var writeBuffer: UnsafeMutableRawPointer
    var writeBufferSize: Int
    let pre = Int(rt_lws_pre())
    /// Whether requests are served, and whether changes are refused because storage failed (the machine's phase).
    var ready: Bool { machine.isReady }
    var storageFailing: Bool { machine.storageFailing }
    var lastHousekeeping = 0.0
    /// Requests waiting for an archived room to be read back, by room code.
    var reopening: [String: [(connection: ConnectionID, ref: Value?, command: Command)]] = [:]
    /// See Server+Ticks.swift: whether the ticker should wake the loop every 50 ms.
    let fastTicks = Locked(true)
    var fastTicksPublished = true
    var hasTimedRooms = true
    var lastEagerTick = 0.0
    /// Times the writer thread's reports woke this loop (`.durableReady`): only under fsync always; when this
    /// thread writes the journal itself it stays 0 (`/metrics`, and the tests that hold us to it).
    var journalWakeups = 0
    let stats = Locked(ServerStats())

    // C memory lws keeps pointers to; freed after lws_context_destroy.
    var cStrings: [UnsafeMutablePointer<CChar>] = []
    var protocols: UnsafeMutablePointer<lws_protocols>?
    var retryPolicy: UnsafeMutablePointer<lws_retry_bo_t>?
    /// The libev loop lws runs on when `server.eventLoop` is libev (ours, so one pass can be run at a time);
    /// destroyed after the context.
    var evLoop: OpaquePointer?
    /// Connections still to be sent their 1001 while a libev node stops (see `beginStop`).
    var stopQueue: [ConnectionID] = []
    static let stopBatch = 256
    var foreignLoops: UnsafeMutablePointer<UnsafeMutableRawPointer?>?

    /// - Parameters:
    ///   - recover: builds the coordinator from the data folder; runs on its own thread while `/readyz` says 503.
    public init(
        config: Configuration, logger: Logger, journal: Persistence? = nil,
        recover: @escaping @Sendable () throws -> Coordinator
    ) {
        self.config = config
        self.logger = logger
        self.journal = journal
        self.recover = recover
        self.coordinator = Coordinator(limits: config.limits, entropy: SystemEntropy(), hasher: SHA256Hasher())
        coordinator.calls = config.calls
        coordinator.turnMinter = config.turnMinter
        self.machine = NodeMachine(settings: .init(config), now: monotonicSeconds())
        self.writeBufferSize = 64 * 1024
        self.writeBuffer = UnsafeMutableRawPointer.allocate(byteCount: writeBufferSize + Int(rt_lws_pre()), alignment: 16)
    }

    deinit { writeBuffer.deallocate() }

    /// The port actually listened on (useful with port 0). Valid after `start()` returns.
    public var port: Int { started.withLock { $0 } ?? 0 }

    /// The event loop lws runs on: "poll", or "libev (BACKEND)" with libev's kernel interface (epoll on Linux).
    public internal(set) var eventLoopName = "poll"

    /// Creates the context, starts the service thread and recovery, and returns once listening.
    public func start() throws {
        installLWSLogging(logger)
        let ctx = try makeContext()
        inbox.withLock { $0.context = ctx }
        let vhostPort = Int(lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default")))
        started.withLock { $0 = vhostPort }
        logger.info(
            "listening",
            metadata: [
                "host": "\(config.host)", "port": "\(vhostPort)", "tls": "\(config.tlsCertificate != nil)", "eventLoop": "\(eventLoopName)",
            ])

        // The writer reports every ticket; coalesce them so the loop is woken once per group commit, not per batch.
        // Reports made while the service thread writes inline are drained by it right after: no wake-up.
        let durable = self.durableReports
        journal?.setDurableHandler { [weak self] ticket, ok in
            let wake = durable.withLock { d -> Bool in
                if ok {
                    d.okUpTo = max(d.okUpTo, ticket)
                } else {
                    d.failedFrom = min(d.failedFrom ?? ticket, ticket)
                    d.failedUpTo = max(d.failedUpTo, ticket)
                }
                if d.inline { return false }
                defer { d.posted = true }
                return !d.posted
            }
            if wake { self?.post(.durableReady) }
        }
        thread = spawnThread { [self] in serviceLoop(ctx) }
        tickerThread = spawnThread { [self] in tickerLoop() }
        let recover = self.recover
        spawnDetachedThread { [weak self] in
            do {
                let c = try recover()
                self?.post(.recovered(c))
            } catch {
                self?.post(.recoveryFailed("\(error)"))
            }
        }
    }

    /// Asks the server to stop (from any thread): close 1001 to every client, flush, destroy the context.
    public func stop() { post(.stop) }

    /// The rooms as they are now. Only valid once `wait()` has returned (the service thread owns them before).
    public var finalRooms: [String: Room] { coordinator.snapshotRooms }

    /// The index of archived rooms, with the same caveat: a final snapshot must carry it or they are lost.
    public var finalArchived: [String: Coordinator.ArchivedRoom] { coordinator.archived }

    /// The communities, with the same caveat.
    public var finalCommunities: Communities { coordinator.communities }

    /// Why recovery refused to serve, when it did (same caveat): `roundtable serve` then exits non-zero.
    public private(set) var recoveryFailure: String?

    /// Blocks until the service thread has finished.
    public func wait() {
        if let thread { pthread_join(thread, nil) }
        tickerStop.withLock { $0 = true }
        if let tickerThread { pthread_join(tickerThread, nil) }
        thread = nil
        tickerThread = nil
    }

    /// Hands an item to the service thread. Holding the lock across `lws_cancel_service` keeps the
    /// context alive while it is called (destroy takes the same lock first).
    func post(_ item: InboxItem) {
        inbox.withLock { state in
            state.items.append(item)
            if let ctx = state.context { lws_cancel_service(ctx) }
        }
    }

    private func serviceLoop(_ ctx: OpaquePointer) {
        while !stopped.withLock({ $0 }) {
            if let evLoop {
                // One libev pass: waits for at least one event (a cancel or lws' own timer wakes it), dispatches
                // everything ready, returns; what lws_service does for the poll loop.
                _ = rt_ev_run_once(evLoop)
            } else if lws_service(ctx, 0) < 0 {
                break
            }
            afterServicePass()
            if !stopQueue.isEmpty { closeNextBatch() }
            flushWrites(ctx)
            if machine.stopComplete(now: monotonicSeconds()) {
                stopped.withLock { $0 = true }
            }
        }
        inbox.withLock { $0.context = nil }
        lws_context_destroy(ctx)
        // The loop is foreign to lws: its watchers are stopped by the destroy above, the loop is ours to free.
        if let evLoop { rt_ev_loop_destroy(evLoop) }
        evLoop = nil
        freeCMemory()
        logger.info("stopped")
    }

    private func tickerLoop() {
        var lastPosted = 0.0
        let slowTickSeconds = self.slowTickSeconds
        while !tickerStop.withLock({ $0 }) && !stopped.withLock({ $0 }) {
            usleep(Self.fastTickMicros)
            let now = monotonicSeconds()
            if fastTicks.withLock({ $0 }) || now - lastPosted >= slowTickSeconds {
                lastPosted = now
                post(.tick)
            }
        }
    }

    /// Runs on the service thread when woken by `lws_cancel_service`; several posts may collapse into one wake.
    func drainInbox() {
        let items = inbox.withLock { state -> [InboxItem] in
            let items = state.items
            state.items.removeAll(keepingCapacity: true)
            return items
        }
        for item in items {
            switch item {
            case .tick: housekeeping()
            case .durableReady:
                journalWakeups += 1
                drainDurableReports()
            case .recovered(var c):
                c.calls = config.calls
                c.turnMinter = config.turnMinter
                c.fragmentEncoder = JSONFragmentEncoder()
                coordinator = c
                machine.recovered()
                hasTimedRooms = true // until the next tick has looked
                stats.withLock { $0.recoverySeconds = monotonicSeconds() - $0.startedAt }
                logger.info("recovered", metadata: ["rooms": "\(c.rooms.count)"])
            case .recoveryFailed(let why):
                recoveryFailure = why
                logger.critical("recovery failed; refusing to serve", metadata: ["error": "\(why)"])
                beginStop()
            case .reloaded(var c):
                // State back to exactly what is on disk; live connections keep their seats.
                c.adoptSessions(from: coordinator)
                // Clients may have seen nothing wrong, but resend results computed from the disk's truth.
                c.markAllResultsDirty()
                coordinator = c
                hasTimedRooms = true
                machine.reloaded()
                logger.notice("state reloaded from the data folder; accepting changes again")
            case .snapshotDone(let ok, let millis, let bytes):
                machine.snapshotDone()
                stats.withLock {
                    $0.snapshots += ok ? 1 : 0
                    $0.snapshotFailures += ok ? 0 : 1
                    $0.lastSnapshotMillis = millis
                    $0.lastSnapshotBytes = bytes
                }
            case .recoveryRetry: machine.reloadFailed()
            case .archiveWritten(let room, let error): archiveWritten(room, error: error)
            case .archiveLoaded(let code, let result): archiveLoaded(code, result)
            case .stop: beginStop()
            }
        }
    }

    private func beginStop() {
        guard machine.stop(now: monotonicSeconds()) else { return }
        logger.info("stopping", metadata: ["connections": "\(connections.count)"])
        if evLoop != nil {
            // On libev, 9,000 closes at once spent 80 % of the stop in lws' sorted timer list (one close-ack
            // timeout inserted per close, each insert walking the pending ones) and overran the grace period:
            // a few hundred in flight at a time keeps every insert short.
            stopQueue = Array(connections.keys)
            closeNextBatch()
        } else {
            for c in connections.values { scheduleClose(c, code: 1001, reason: "server shutting down") }
        }
        if connections.isEmpty { stopped.withLock { $0 = true } }
    }

    /// Closes queued connections (libev stop) while fewer than `stopBatch` closes are in flight.
    func closeNextBatch() {
        guard !stopQueue.isEmpty else { return }
        // Every open connection is either still queued or closing (the stopping node admits nobody).
        var room = Self.stopBatch - max(0, connections.count - stopQueue.count)
        while room > 0, let id = stopQueue.popLast() {
            guard let c = connections[id] else { continue }
            scheduleClose(c, code: 1001, reason: "server shutting down")
            room -= 1
        }
    }

    private func housekeeping() {
        let now = monotonicSeconds()
        // While storage fails, memory may hold refused changes: derived results would leak them.
        if !storageFailing {
            let effects = coordinator.tick(at: wallClockMillis())
            if !effects.isEmpty { run(effects) }
        }
        hasTimedRooms = coordinator.hasTimedRooms
        if now - lastDeadlineScan >= machine.scanInterval {
            lastDeadlineScan = now
            scanDeadlines(now: now)
        }
        guard now - lastHousekeeping >= 1 else { return }
        lastHousekeeping = now
        maybeSnapshot(now: now)
        archiveIdleRooms()
        if machine.reloadDue(now: now, journaling: journal != nil), let journal {
            // Memory may hold changes the disk refused; the disk is the truth, so reload from it.
            let limits = config.limits
            spawnDetachedThread { [weak self] in
                do {
                    let c = try journal.recover(limits: limits)
                    self?.post(.reloaded(c))
                } catch {
                    self?.logger.error("reload after a storage failure failed; will retry", metadata: ["error": "\(error)"])
                    self?.post(.tick)
                    usleep(1_000_000)
                    self?.post(.recoveryRetry)
                }
            }
        }
    }

    /// Keep-alive and join deadlines, as the machine decides them.
    private func scanDeadlines(now: Double) {
        for action in machine.scanDeadlines(now: now, isBound: { coordinator.binding(of: $0) != nil }) {
            switch action {
            case .ping(let id):
                guard let c = connections[id] else { continue }
                c.pingDue = true
                lws_callback_on_writable(c.wsi)
            case .drop(let id, let quiet):
                guard let c = connections[id] else { continue }
                logger.info("keep-alive: no traffic, dropping", metadata: ["connection.id": "\(id)", "quiet.s": "\(Int(quiet))"])
                stats.withLock { $0.keepAliveDropped += 1 }
                // A dead peer will not read a close frame: drop the socket on lws' next pass.
                c.closing = (1001, "keep-alive timeout")
                lws_set_timeout(c.wsi, PENDING_TIMEOUT_CLOSE_SEND, rt_lws_to_kill_async())
            case .close(let id, let code, let reason):
                if let c = connections[id] { scheduleClose(c, code: code, reason: reason) }
            }
        }
    }

    // MARK: Effects

    /// Runs the coordinator's effects, holding everything behind a journal append until it is durable.
    func run(_ effects: [Effect]) {
        switch machine.submit(effects, journaling: journal != nil) {
        case .execute(let now): execute(now)
        case .held: break
        case .append(let entries):
            let ticket = journal!.append(entries)
            machine.appended(effects, entries: entries.count, ticket: ticket)
            let appendedAt = monotonicSeconds()
            stats.withLock {
                $0.journalEntries += entries.count
                $0.journalAppended(ticket: ticket, at: appendedAt)
            }
        }
    }

    func drainDurableReports() {
        let d = durableReports.withLock { d -> DurableReports in
            let taken = d
            d.posted = false
            d.failedFrom = nil
            return taken
        }
        guard let failedFrom = d.failedFrom else {
            released(upTo: d.okUpTo, ok: true)
            return
        }
        // Tickets complete in order: successes before the first failure, the failed range, then any later successes.
        if failedFrom > 1 { released(upTo: min(d.okUpTo, failedFrom - 1), ok: true) }
        released(upTo: d.failedUpTo, ok: false, firstFailed: failedFrom)
        if d.okUpTo > d.failedUpTo { released(upTo: d.okUpTo, ok: true) }
    }

    private func released(upTo ticket: UInt64, ok: Bool, firstFailed: UInt64 = 0) {
        let releasedAt = monotonicSeconds()
        stats.withLock { $0.released(upTo: ticket, ok: ok, now: releasedAt, firstFailed: ok ? nil : firstFailed) }
        let actions: [NodeMachine.StorageAction]
        if ok {
            guard ticket > machine.durableTicket else { return }
            journal?.durable(ticket)
            actions = machine.durable(upTo: ticket)
        } else {
            journal?.failed(firstFailed)
            actions = machine.failed(upTo: ticket, firstFailed: firstFailed, now: releasedAt)
        }
        for action in actions {
            switch action {
            case .execute(let effects): execute(effects)
            case .writeSnapshot(let snapshot): writeSnapshot(snapshot)
            case .storageFailed:
                logger.error("storage failed: changes get storage_unavailable until the data folder is writable again")
            }
        }
    }

    private func maybeSnapshot(now: Double) {
        guard let journal, machine.snapshotDue(now: now, journaling: true) else { return }
        let snapshot = NodeMachine.Snapshot(
            rooms: coordinator.snapshotRooms, archived: coordinator.archived, lsn: journal.lastLSN, communities: coordinator.communities)
        if let now = machine.snapshotTaken(snapshot) { writeSnapshot(now) }
    }

    /// Encodes and writes off the service thread; the state it holds is durable already.
    private func writeSnapshot(_ snapshot: NodeMachine.Snapshot) {
        guard let journal else { return }
        let (rooms, archived, lsn, communities) = (snapshot.rooms, snapshot.archived, snapshot.lsn, snapshot.communities)
        let logger = self.logger
        spawnDetachedThread { [weak self] in
            let t0 = monotonicSeconds()
            do {
                let bytes = try journal.writeSnapshot(rooms, archived: archived, communities: communities, lsn: lsn)
                let ms = (monotonicSeconds() - t0) * 1000
                logger.info("snapshot written", metadata: ["lsn": "\(lsn)", "bytes": "\(bytes)", "ms": "\(Int(ms))"])
                self?.post(.snapshotDone(ok: true, millis: ms, bytes: bytes))
            } catch {
                logger.error("snapshot failed", metadata: ["error": "\(error)"])
                self?.post(.snapshotDone(ok: false, millis: 0, bytes: 0))
            }
        }
    }

    private func execute(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .journal: continue
            case .broadcast(let event, let to):
                guard !to.isEmpty else { continue }
                let bytes = SharedBytes(MessageEncoder.encode(event))
                send(bytes, to: to)
            case .send(let notice, let ref, let to):
                send(SharedBytes(MessageEncoder.encode(notice, ref: ref)), to: to)
            case .reply(let reply, let ref, let to):
                if case .error(let e) = reply { stats.withLock { $0.countError(e.code) } }
                send(SharedBytes(MessageEncoder.encode(reply, ref: ref)), to: [to])
            case .close(let id, let code, let reason):
                if let c = connections[id] { scheduleClose(c, code: code, reason: reason) }
            case .secret(let name, let value):
                do {
                    try journal?.storeKey(name, value)
                } catch {
                    // The poll stays usable in memory; after a restart a missing key is replaced and, if the
                    // poll has ballots by then, members can vote again (Persistence.loadKeys warns).
                    logger.error(
                        "could not store an anonymous poll's voter key; if the server restarts before the poll closes, members who voted can vote again",
                        metadata: ["key": "\(name)", "error": "\(error)"])
                }
            case .loadArchive(let code, let seq, let command, let ref, let from):
                loadArchive(code, seq: seq, then: (from, ref, command))
            case .discardArchive(let code, let seq):
                do {
                    try journal?.discardArchive(code, seq: seq)
                } catch {
                    // Harmless: recovery deletes archive files that no archive entry names.
                    logger.warning("could not delete a reopened room's archive file", metadata: ["room": "\(code)", "error": "\(error)"])
                }
            }
        }
    }

    /// Counted once per message rather than per recipient: a broadcast to 5,000 would take the lock 5,000 times.
    func send(_ bytes: SharedBytes, to ids: [ConnectionID]) {
        var queued = 0
        for id in ids where enqueue(bytes, to: id) { queued += 1 }
        if queued > 0 { stats.withLock { $0.messagesOut += queued } }
    }

    private func enqueue(_ bytes: SharedBytes, to id: ConnectionID) -> Bool {
        guard let c = connections[id], c.closing == nil else { return false }
        let wasIdle = !c.hasQueued
        guard c.enqueue(bytes, limit: config.sendQueueBytes) else {
            logger.warning(
                "slow reader closed: send queue full",
                metadata: ["connection.id": "\(id)", "queued.bytes": "\(c.queuedBytes)"])
            stats.withLock { $0.slowReadersClosed += 1 }
            c.closing = (1008, "send queue full")
            machine.closeScheduled(id)
            lws_set_timeout(c.wsi, PENDING_TIMEOUT_CLOSE_SEND, rt_lws_to_kill_async())
            return false
        }
        if wasIdle {
            // Written at the end of this pass (`flushWrites`), not in a WRITEABLE callback of the next one.
            if c.writesDirectly { flushPending.append(c) } else { lws_callback_on_writable(c.wsi) }
        }
        return true
    }

    func scheduleClose(_ c: Connection, code: UInt16, reason: String) {
        guard c.closing == nil else { return }
        c.closing = (code, reason)
        machine.closeScheduled(c.id)
        // What the client already sent is read (and dropped) before the close goes out, within this budget:
        // closing with unread input makes the kernel reset the connection and the close frame is lost.
        c.drainLeft = config.maxFrameBytes
        lws_callback_on_writable(c.wsi)
    }

    // MARK: Requests

    /// One complete text message from a client.
    func received(_ c: Connection, _ bytes: UnsafeRawBufferPointer) {
        let now = monotonicSeconds()
        switch machine.messageReceived(c.id, now: now) {
        case .process: break
        case .rateLimited(let error):
            stats.withLock {
                $0.messagesIn += 1
                $0.rateLimited += 1
            }
            reply(c, error: error, ref: nil)
            return
        case .close(let code, let reason):
            stats.withLock {
                $0.messagesIn += 1
                $0.rateLimited += 1
            }
            scheduleClose(c, code: code, reason: reason)
            return
        }
        let request: Request
        do {
            request = try RequestDecoder.decode(bytes)
        } catch {
            stats.withLock {
                $0.messagesIn += 1
                $0.requestsByType["invalid", default: 0] += 1
            }
            reply(c, error: error.error, ref: error.ref)
            return
        }
        // Decoded types are the protocol's fixed set, so this label cannot grow without bound.
        stats.withLock {
            $0.messagesIn += 1
            $0.requestsByType[request.type, default: 0] += 1
        }
        guard ready else {
            reply(c, error: DomainError("not_ready", "the server is still recovering; retry in a moment"), ref: request.ref)
            return
        }
        if storageFailing {
            reply(c, error: .storageUnavailable, ref: request.ref)
            return
        }
        if case .createRoom(let create) = request.command, let refusal = creationRefusal(create.createToken, from: c.address) {
            reply(c, error: refusal, ref: request.ref)
            return
        }
        // A community is created under the same policy as a room.
        if case .createCommunity(_, let token) = request.command, let refusal = creationRefusal(token, from: c.address) {
            reply(c, error: refusal, ref: request.ref)
            return
        }
        handle(request.command, ref: request.ref, from: c, receivedAt: now)
    }

    /// Applies one decoded request and runs its effects (also for requests that waited for an archived room).
    func handle(_ command: Command, ref: Value?, from c: Connection, receivedAt now: Double) {
        let effects = coordinator.handle(command, ref: ref, from: c.id, at: wallClockMillis())
        noteTimedWork(command)
        // A connection that leaves its room gets a fresh join deadline rather than an instant timeout.
        machine.bindingChanged(c.id, joined: coordinator.binding(of: c.id) != nil, now: monotonicSeconds())
        let heldBefore = machine.pendingBatches
        run(effects)
        // Ack latency: an ack that went out now is timed now; one held behind a journal write is timed
        // when `released` lets its batch go (`pending` grew by exactly that batch).
        if effects.contains(where: { if case .reply(.ack, _, _) = $0 { true } else { false } }) {
            if machine.pendingBatches > heldBefore, let held = machine.lastHeldTicket {
                stats.withLock { $0.ackHeld(ticket: held, receivedAt: now) }
            } else {
                let latency = monotonicSeconds() - now
                stats.withLock { $0.ackLatency.observe(latency) }
            }
        }
    }

    func reply(_ c: Connection, error: DomainError, ref: Value?) {
        run([.reply(.error(error), ref: ref, to: c.id)])
    }

    /// Rooms are created freely from loopback; with `rooms.createToken` set, only with that token.
    func creationRefusal(_ createToken: String?, from address: String) -> DomainError? {
        if let token = config.roomCreateToken {
            let given = createToken.map { SHA256Hasher().digest($0) } ?? ""
            return constantTimeEquals(given, SHA256Hasher().digest(token))
                ? nil : DomainError("not_allowed", "creating a room needs the server's createToken")
        }
        return isLoopback(address) ? nil : DomainError("not_allowed", "rooms can be created from this machine only, unless rooms.createToken is set")
    }

    func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }
}
