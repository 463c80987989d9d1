import CLibWebSockets
import RoundtableCore

/// One WebSocket connection as the driver sees it: its lws handle, reassembly buffer, send queue and
/// scheduled close. What the node decides about it (deadlines, rate) is `NodeMachine.ConnectionState`.
/// Owned by the lws service thread; never touched from another.
final class Connection {
    let id: ConnectionID
    let wsi: OpaquePointer
    let address: String
    /// A keep-alive ping (decided by `NodeMachine`) is waiting for the next WRITEABLE.
    var pingDue = false
    /// An h1 WebSocket (not a stream inside HTTP/2): its frames are framed here and may be written at the end
    /// of a service pass instead of in a WRITEABLE callback.
    let writesDirectly: Bool
    /// The plain TCP socket of an h1 connection without TLS: its frames are sent with `send()` itself, not through
    /// `lws_write` (issue 20: lws' checks and buffer bookkeeping were ~4 % of a 5,000-member fan-out). Nil
    /// under TLS or HTTP/2, where lws must do the writing.
    let socket: Int32?
    /// The tail of a frame batch the socket did not take: sent before anything else, when it is writable again.
    private(set) var unsent: [UInt8] = []
    /// Set by the CLOSED callback: `wsi` is freed, nothing may touch it.
    var gone = false
    /// A message arrived in several frames, so a ping may have come between them: lws owes its pong, which
    /// it sends on the next POLLOUT. The reply then goes through WRITEABLE too, behind that pong.
    var controlMayBeOwed = false

    /// Reassembly of a message split over several RECEIVE callbacks.
    var incoming: [UInt8] = []
    var incomingIsBinary = false

    private var queue = HeadQueue<SharedBytes>(compactAfter: 64, keepCapacityUpTo: 64)
    private(set) var queuedBytes = 0
    /// Set once a close is scheduled: nothing more is queued, the next WRITEABLE sends the close.
    var closing: (code: UInt16, reason: String)?
    /// Bytes the client may still have sent that are read and dropped before a scheduled close goes out.
    var drainLeft = 0

    init(id: ConnectionID, wsi: OpaquePointer, address: String, writesDirectly: Bool, socket: Int32?) {
        self.id = id
        self.wsi = wsi
        self.address = address
        self.writesDirectly = writesDirectly
        self.socket = socket
    }

    var hasQueued: Bool { !queue.isEmpty || !unsent.isEmpty }
    var hasUnsent: Bool { !unsent.isEmpty }

    /// Keeps what a `send` left of a batch; it counts against the send queue's limit until it is gone.
    func keepUnsent(_ rest: UnsafeRawBufferPointer) {
        unsent.append(contentsOf: rest)
        queuedBytes += rest.count
    }

    func withUnsent<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { unsent.withUnsafeBytes(body) }

    /// `count` bytes of the kept tail went out.
    func sentUnsent(_ count: Int) {
        unsent.removeFirst(count)
        queuedBytes -= count
        if unsent.isEmpty { unsent = [] }
    }

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
}
