import CLibWebSockets
import RoundtableCore

/// One WebSocket connection. Owned by the lws service thread; never touched from another.
final class Connection {
    let id: ConnectionID
    let wsi: OpaquePointer
    let address: String
    /// When the connection opened, or last left a room: the join timeout counts from here.
    var openedAt: Double
    var joined = false
    /// When anything (a data frame or a pong) last arrived: our keep-alive pings and hangs up from this.
    var lastHeard: Double
    /// A keep-alive ping is waiting for the next WRITEABLE; `pinged` stops a second one until the peer is heard again.
    var pingDue = false
    var pinged = false

    /// Reassembly of a message split over several RECEIVE callbacks.
    var incoming: [UInt8] = []
    var incomingIsBinary = false

    private var queue = HeadQueue<SharedBytes>(compactAfter: 64, keepCapacityUpTo: 64)
    private(set) var queuedBytes = 0
    /// Set once a close is scheduled: nothing more is queued, the next WRITEABLE sends the close.
    var closing: (code: UInt16, reason: String)?
    /// Bytes the client may still have sent that are read and dropped before a scheduled close goes out.
    var drainLeft = 0

    // Token bucket for messages per second.
    var tokens: Double
    var lastRefill: Double
    var strikes = 0
    var lastStrike = 0.0

    init(id: ConnectionID, wsi: OpaquePointer, address: String, now: Double, burst: Double) {
        self.id = id
        self.wsi = wsi
        self.address = address
        self.openedAt = now
        self.lastHeard = now
        self.tokens = burst
        self.lastRefill = now
    }

    var hasQueued: Bool { !queue.isEmpty }

    /// Adds a message; returns false when the queue would exceed `limit` bytes (a slow reader).
    func enqueue(_ message: SharedBytes, limit: Int) -> Bool {
        if queuedBytes + message.bytes.count > limit { return false }
        queue.append(message)
        queuedBytes += message.bytes.count
        return true
    }

    func peek() -> SharedBytes? { queue.first }

    /// Removes the message `peek` returned.
    func dropFirst() {
        if let sent = queue.popFirst() { queuedBytes -= sent.bytes.count }
    }

    /// Takes one token; false when the connection is over its rate.
    func admit(now: Double, rate: Double, burst: Double) -> Bool {
        tokens = min(burst, tokens + (now - lastRefill) * rate)
        lastRefill = now
        if tokens >= 1 {
            tokens -= 1
            return true
        }
        return false
    }
}
