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

    init(id: ConnectionID, wsi: OpaquePointer, address: String, writesDirectly: Bool) {
        self.id = id
        self.wsi = wsi
        self.address = address
        self.writesDirectly = writesDirectly
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
}
