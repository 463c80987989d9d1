import RoundtableCore

/// The node's storage side, as a value: the phase (recovering, ready, storage failing, reloading), the
/// durability gate (effects held until their journal ticket is durable, then released in order; a failed
/// batch's acks turned into `storage_unavailable`) and snapshot scheduling.
///
/// The driver does the I/O the actions name: appending to the journal (it hands back the ticket),
/// writing a snapshot on its own thread, reloading the coordinator from disk.
extension NodeMachine {
    enum Phase: Equatable {
        /// Building the coordinator from the data folder: requests get `not_ready`, `/readyz` 503.
        case recovering
        case ready
        /// A journal write failed: changes get `storage_unavailable` until the state is reloaded from disk.
        case storageFailing(since: Double)
        /// Reloading from disk after a storage failure (still refusing changes).
        case reloading(failingSince: Double)
    }

    /// What a snapshot writes: rooms are values, so this copy costs O(rooms) and later writes copy only
    /// what they touch.
    struct Snapshot {
        var rooms: [String: Room]
        var archived: [String: Coordinator.ArchivedRoom]
        var lsn: UInt64
        var communities = Communities()
    }

    /// Whether requests are served (recovery is done).
    var isReady: Bool { phase != .recovering }

    /// Whether changes are refused because storage failed (until the reload from disk is done).
    var storageFailing: Bool {
        switch phase {
        case .storageFailing, .reloading: true
        case .recovering, .ready: false
        }
    }

    var isReloading: Bool {
        if case .reloading = phase { return true }
        return false
    }

    /// Journal batches whose effects are held.
    var pendingBatches: Int { pending.count }

    // MARK: Phases

    mutating func recovered() {
        precondition(phase == .recovering, "recovered twice")
        phase = .ready
    }

    /// The periodic check: a failed storage with nothing held any more is reloaded from disk (memory may
    /// hold changes the disk refused; the disk is the truth). True when the driver should start the reload.
    mutating func reloadDue(now: Double, journaling: Bool) -> Bool {
        guard journaling, case .storageFailing(let since) = phase, pending.isEmpty, now - since >= 1 else { return false }
        phase = .reloading(failingSince: since)
        return true
    }

    /// The reload is done: the coordinator is what the disk holds, changes are accepted again.
    mutating func reloaded() {
        guard case .reloading = phase else { preconditionFailure("reloaded while \(phase)") }
        phase = .ready
    }

    /// The reload failed; the next check retries it.
    mutating func reloadFailed() {
        guard case .reloading(let since) = phase else { return }
        phase = .storageFailing(since: since)
    }

    // MARK: The durability gate

    enum SubmitAction {
        /// Nothing waits: run them now.
        case execute([Effect])
        /// Append these to the journal and hand the ticket to `appended`.
        case append([JournalEntry])
        /// Held behind the batch before them, to keep output in order.
        case held
    }

    /// The coordinator produced effects. `journaling`: a data folder takes journal entries.
    mutating func submit(_ effects: [Effect], journaling: Bool) -> SubmitAction {
        var entries: [JournalEntry] = []
        for case .journal(let e) in effects { entries.append(e) }
        if !entries.isEmpty && journaling {
            // The writer expects a re-send from the failed LSN; nothing new goes to it until the reload.
            if storageFailing { return .execute(Self.undurable(effects)) }
            return .append(entries)
        }
        if pending.isEmpty { return .execute(effects) }
        pending.append((lastTicket, effects))
        return .held
    }

    /// The entries of `effects` went to the journal as `ticket`: hold the effects until it is durable.
    mutating func appended(_ effects: [Effect], entries: Int, ticket: UInt64) {
        lastTicket = ticket
        entriesSinceSnapshot += entries
        pending.append((ticket, effects))
    }

    /// The ticket of the batch `submit` held last, if any is held.
    var lastHeldTicket: UInt64? { pending.last?.ticket }

    enum StorageAction {
        /// Run these effects (released in order).
        case execute([Effect])
        /// Write this snapshot off the service thread; report with `snapshotDone`.
        case writeSnapshot(Snapshot)
        /// The first failure: changes are refused from now on (the driver logs it).
        case storageFailed
    }

    /// Every ticket up to `ticket` is durable. Ignored when it is not news.
    mutating func durable(upTo ticket: UInt64) -> [StorageAction] {
        guard ticket > durableTicket else { return [] }
        durableTicket = ticket
        var actions: [StorageAction] = []
        if let held = pendingSnapshot, held.ticket <= ticket {
            pendingSnapshot = nil
            snapshotInFlight = true
            actions.append(.writeSnapshot(held.snapshot))
        }
        while let next = pending.first, next.ticket <= ticket {
            actions.append(.execute(pending.popFirst()!.effects))
        }
        return actions
    }

    /// Tickets `firstFailed...ticket` failed: those batches are refused (their acks become
    /// `storage_unavailable`, their errors go out as they are); batches before them are released.
    mutating func failed(upTo ticket: UInt64, firstFailed: UInt64, now: Double) -> [StorageAction] {
        var actions: [StorageAction] = []
        if let held = pendingSnapshot, held.ticket >= firstFailed { pendingSnapshot = nil }
        if !storageFailing {
            phase = .storageFailing(since: now)
            actions.append(.storageFailed)
        }
        while let next = pending.first, next.ticket <= ticket {
            let batch = pending.popFirst()!
            actions.append(.execute(batch.ticket < firstFailed ? batch.effects : Self.undurable(batch.effects)))
        }
        return actions
    }

    /// A batch whose journal write failed: nothing in it is acknowledged or broadcast. Acks become
    /// `storage_unavailable`; refusals changed nothing and are delivered as they are.
    static func undurable(_ effects: [Effect]) -> [Effect] {
        var out: [Effect] = []
        for case .reply(let reply, let ref, let to) in effects {
            switch reply {
            case .ack: out.append(.reply(.error(.storageRefused), ref: ref, to: to))
            case .error: out.append(.reply(reply, ref: ref, to: to))
            }
        }
        return out
    }

    // MARK: Snapshots

    /// The periodic check: whether a snapshot is due now (then the driver copies the state and calls
    /// `snapshotTaken`).
    mutating func snapshotDue(now: Double, journaling: Bool) -> Bool {
        guard journaling, !snapshotInFlight, pendingSnapshot == nil, !storageFailing, entriesSinceSnapshot > 0 else { return false }
        guard entriesSinceSnapshot >= settings.snapshotEveryEvents || now - lastSnapshotAt >= settings.snapshotEverySeconds else {
            return false
        }
        entriesSinceSnapshot = 0
        lastSnapshotAt = now
        return true
    }

    /// The state was copied: write it now if everything it holds is durable, else once it is.
    mutating func snapshotTaken(_ snapshot: Snapshot) -> Snapshot? {
        guard lastTicket <= durableTicket else {
            pendingSnapshot = (snapshot, lastTicket)
            return nil
        }
        snapshotInFlight = true
        return snapshot
    }

    mutating func snapshotDone() {
        snapshotInFlight = false
    }
}
