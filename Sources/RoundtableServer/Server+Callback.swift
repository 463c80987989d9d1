import CLibWebSockets
import Logging
import RoundtableCore
import RoundtableStore

#if canImport(Glibc)
import Glibc
#endif

/// The one lws protocol callback: plain HTTP and WebSocket on the same port (protocols[0] gets both).
/// Capture-less by necessity; it finds its server through the context user pointer.
func roundtableCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?, _ len: Int
) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let raw = lws_context_user(ctx) else {
        return lws_callback_http_dummy(wsi, reason, user, input, len)
    }
    let server = Unmanaged<RoundtableServer>.fromOpaque(raw).takeUnretainedValue()
    return server.callback(wsi, reason, user, input, len)
}

extension RoundtableServer {
    func callback(
        _ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
        _ input: UnsafeMutableRawPointer?, _ len: Int
    ) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            drainInbox()
            return 0

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            // An h1 upgrade on any path but /ws and /ws/{code} is answered 404, like the same path without it.
            if upgradeRequestIsForWebSocketPath(wsi) { return 0 }
            return lws_return_http_status(wsi, 404, "not found") != 0 ? -1 : 1

        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            // The path again: h2 WebSocket streams (RFC 8441) do not pass through CONFIRM_UPGRADE.
            return upgradeRequestIsForWebSocketPath(wsi) && originAllowed(wsi) ? 0 : 1

        case LWS_CALLBACK_ESTABLISHED:
            return established(wsi, user)

        case LWS_CALLBACK_RECEIVE:
            guard let c = connection(user) else { return -1 }
            return receive(c, wsi, input, len)

        case LWS_CALLBACK_RECEIVE_PONG:
            if let c = connection(user) { machine.heard(c.id, now: monotonicSeconds()) }
            return 0

        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let c = connection(user) else { return -1 }
            return writeable(c)

        case LWS_CALLBACK_CLOSED:
            if let c = connection(user) {
                // Cleared before `closed` drops the last strong reference.
                user?.storeBytes(of: nil, as: UnsafeRawPointer?.self)
                closed(c)
            }
            return 0

        case LWS_CALLBACK_HTTP:
            return http(wsi, input, len)

        case LWS_CALLBACK_HTTP_WRITEABLE:
            return httpWriteable(wsi)

        case LWS_CALLBACK_CLOSED_HTTP:
            httpResponses[wsi] = nil
            return 0

        default:
            return lws_callback_http_dummy(wsi, reason, user, input, len)
        }
    }

    /// The connection a WebSocket callback is about, read from lws' per-session data: an unretained reference
    /// stored by `established` and cleared by `closed` (`connections` holds the strong one in between). A
    /// lookup by id in `connections` instead cost a hash per WRITEABLE and RECEIVE, i.e. per delivery.
    private func connection(_ user: UnsafeMutableRawPointer?) -> Connection? {
        guard let raw = user?.load(as: UnsafeRawPointer?.self) else { return nil }
        return Unmanaged<Connection>.fromOpaque(raw).takeUnretainedValue()
    }

    private func established(_ wsi: OpaquePointer, _ user: UnsafeMutableRawPointer?) -> Int32 {
        guard let user else { return -1 }
        var buf = [CChar](repeating: 0, count: 64)
        let address = lws_get_peer_simple(wsi, &buf, buf.count).map { String(cString: $0) } ?? "?"
        let id = nextConnectionID
        nextConnectionID += 1
        // A ws stream inside HTTP/2 is framed by its h2 parent: keep lws' own framing there.
        let h1 = lws_get_network_wsi(wsi) == wsi
        let fd = lws_get_socket_fd(wsi)
        let c = Connection(id: id, wsi: wsi, address: address, writesDirectly: h1, socket: h1 && lws_is_ssl(wsi) == 0 && fd >= 0 ? fd : nil)
        connections[id] = c
        user.storeBytes(of: UnsafeRawPointer(Unmanaged.passUnretained(c).toOpaque()), as: UnsafeRawPointer?.self)
        stats.withLock { $0.connectionsOpened += 1 }
        switch machine.connectionOpened(id, address: address, now: monotonicSeconds()) {
        case .accept: break
        case .refuse(let code, let reason, let limit):
            if limit { stats.withLock { $0.connectionsRefused += 1 } }
            scheduleClose(c, code: code, reason: reason)
        }
        return 0
    }

    private func receive(_ c: Connection, _ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        machine.heard(c.id, now: monotonicSeconds())
        if c.closing != nil {
            c.drainLeft = max(0, c.drainLeft - len)
            return 0 // drain quietly until the close goes out
        }
        if c.incoming.isEmpty { c.incomingIsBinary = lws_frame_is_binary(wsi) != 0 }
        if c.incoming.count + len > config.maxFrameBytes {
            // lws waits for whatever length a header claims; the limit is ours to enforce.
            logger.info("message too big", metadata: ["connection.id": "\(c.id)"])
            c.incoming = []
            // `writeable` first lets what already arrived be read (up to another maxFrameBytes), so the 1009
            // is not lost to a reset.
            scheduleClose(c, code: 1009, reason: "message larger than \(config.maxFrameBytes) bytes")
            return 0
        }
        if let input, len > 0 {
            c.incoming.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len))
        }
        // A frame that ended without FIN: the message goes on in another frame, and a ping may come first. (Not
        // a frame lws hands over in pieces, as it does when one spans two reads: a control frame cannot come
        // inside a frame, and routing those replies through WRITEABLE cost a POLLOUT round trip per ~10 votes.)
        if lws_remaining_packet_payload(wsi) > 0 {
            inputContinues = true
        } else if lws_is_final_fragment(wsi) == 0 {
            c.controlMayBeOwed = true
        }
        guard Self.messageEnded(wsi) else { return 0 }
        let message = c.incoming
        c.incoming = []
        c.incoming.reserveCapacity(0)
        if c.incomingIsBinary {
            reply(c, error: DomainError("binary_unsupported", "send requests as JSON in text frames"), ref: nil)
            return 0
        }
        message.withUnsafeBytes { received(c, $0) }
        return 0
    }

    /// Bytes the kernel holds for this socket that nobody has read yet.
    static func unreadBytes(_ wsi: OpaquePointer) -> Int32 {
        var n: Int32 = 0
        let fd = lws_get_socket_fd(lws_get_network_wsi(wsi))
        return fd >= 0 && ioctl(fd, UInt(FIONREAD), &n) == 0 ? n : 0
    }

    static func messageEnded(_ wsi: OpaquePointer) -> Bool {
        lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0
    }

    func closeNow(_ wsi: OpaquePointer, code: UInt16, reason: String) -> Int32 {
        var r = Array(reason.utf8.prefix(120))
        r.withUnsafeMutableBufferPointer { lws_close_reason(wsi, lws_close_status(UInt32(code)), $0.baseAddress, $0.count) }
        return -1
    }

    /// One write per WRITEABLE, as lws requires, re-armed while more is queued. That one write carries
    /// every queued message that fits in `coalesceBytes`, each as its own complete text frame framed
    /// here; on a ws connection lws passes LWS_WRITE_HTTP bytes through untouched (`lws_issue_raw`,
    /// which also buffers a partial send). One frame per WRITEABLE instead cost a poll round trip, a
    /// callback and a send syscall per message: with acks queued back to back that was most of the
    /// kernel time in the vote-storm profile (BENCHMARKS.md).
    private func writeable(_ c: Connection) -> Int32 {
        if c.pingDue && c.closing == nil {
            c.pingDue = false
            // Not empty: lws 4.1.6 gives no RECEIVE_PONG callback for a pong without payload.
            (writeBuffer + pre).storeBytes(of: 0x6B, as: UInt8.self)
            if lws_write(c.wsi, (writeBuffer + pre).assumingMemoryBound(to: UInt8.self), 1, LWS_WRITE_PING) < 0 { return -1 }
            if c.hasQueued { lws_callback_on_writable(c.wsi) }
            return 0
        }
        if c.hasQueued {
            if !writeQueued(c) { return -1 }
            if c.hasQueued || c.closing != nil { lws_callback_on_writable(c.wsi) }
            return 0
        }
        if let closing = c.closing {
            if c.drainLeft > 0 && Self.unreadBytes(c.wsi) > 0 {
                // Each deferral spends budget too, so a peer that keeps sending is closed after all.
                c.drainLeft = max(0, c.drainLeft - 1024)
                lws_callback_on_writable(c.wsi)
                return 0
            }
            return closeNow(c.wsi, code: closing.code, reason: closing.reason)
        }
        return 0
    }

    /// One write of as many queued frames as fit in `coalesceBytes`; false when the connection is broken.
    private func writeQueued(_ c: Connection) -> Bool {
        if let fd = c.socket { return sendQueued(c, fd) }
        let raw = c.writesDirectly
        let used = batchQueued(c, framed: raw)
        let written = lws_write(c.wsi, (writeBuffer + pre).assumingMemoryBound(to: UInt8.self), used, raw ? LWS_WRITE_HTTP : LWS_WRITE_TEXT)
        return written >= used
    }

    /// Moves queued messages into the write buffer (after `pre`) and returns the byte count. `framed`: as many as
    /// fit in `coalesceBytes`, each as its own text frame framed here; otherwise one message, for lws to frame.
    private func batchQueued(_ c: Connection, framed: Bool) -> Int {
        var used = 0
        while let next = c.peek() {
            let n = next.bytes.count
            let header = framed ? Self.frameHeaderSize(n) : 0
            if used > 0 && (!framed || used + header + n > Self.coalesceBytes) { break }
            reserveWriteBuffer(used + header + n)
            let out = writeBuffer + pre + used
            if framed { Self.writeFrameHeader(out, payloadCount: n) }
            next.bytes.withUnsafeBytes { (out + header).copyMemory(from: $0.baseAddress!, byteCount: n) }
            used += header + n
            c.dropFirst()
        }
        return used
    }

    /// `writeQueued` on a plain socket: one `send` of the kept tail, or else of as many queued frames as fit in
    /// `coalesceBytes`; what the socket does not take is kept (`Connection.unsent`) for the next WRITEABLE.
    private func sendQueued(_ c: Connection, _ fd: Int32) -> Bool {
        if c.hasUnsent {
            let n = c.withUnsent { Self.sendSome(fd, $0) }
            if n < 0 { return false }
            c.sentUnsent(n)
            return true
        }
        let used = batchQueued(c, framed: true)
        let batch = UnsafeRawBufferPointer(start: writeBuffer + pre, count: used)
        let n = Self.sendSome(fd, batch)
        if n < 0 { return false }
        if n < used {
            c.keepUnsent(UnsafeRawBufferPointer(rebasing: batch[n...]))
            stats.withLock { $0.partialSends += 1 }
        }
        return true
    }

    /// Bytes the socket took now (0 when it is full), or -1 when the connection is broken.
    private static func sendSome(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        while true {
            let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: return -1
            }
        }
    }

    /// Writes what this pass queued, straight to each socket, once the pass is over: what a broadcast or an
    /// ack costs is then one `send` per connection, as in the kernel floor, instead of a request for POLLOUT
    /// (two `epoll_ctl` on libev), an event and a callback each, a whole loop pass later (issue 20). Frames
    /// queued in the same pass still share one send. lws keeps whatever the socket does not take
    /// (`lws_issue_raw` buffers the rest and asks for POLLOUT itself); while it holds some, for pings and
    /// closes, and after a message that came in several frames (a ping between them is answered first, as
    /// before), the WRITEABLE callback stays in charge so nothing overtakes.
    func flushWrites(_ ctx: OpaquePointer) {
        let continues = inputContinues
        inputContinues = false
        guard !flushPending.isEmpty else { return }
        if continues && !flushDeferred && !machine.isStopping {
            // A read ended inside a frame: that sender's next messages are already arriving. One more pass puts
            // their frames into the same sends (a 200-member broadcast at 16 in flight: -30 % CPU per delivery,
            // and sooner last deliveries, BENCHMARKS.md). Never two passes in a row, and the cancel makes that
            // pass come at once even when the rest of the frame is still in flight.
            flushDeferred = true
            lws_cancel_service(ctx)
            return
        }
        flushDeferred = false
        let pending = flushPending
        flushPending.removeAll(keepingCapacity: true)
        for c in pending where !c.gone && c.hasQueued {
            if c.pingDue || c.closing != nil || c.controlMayBeOwed || lws_partial_buffered(c.wsi) != 0 {
                c.controlMayBeOwed = false
                lws_callback_on_writable(c.wsi)
                continue
            }
            if !writeQueued(c) {
                // Outside a callback there is no -1 to return: have lws close it on its next pass.
                c.closing = (1011, "write failed")
                machine.closeScheduled(c.id)
                lws_set_timeout(c.wsi, PENDING_TIMEOUT_CLOSE_SEND, rt_lws_to_kill_async())
                continue
            }
            if c.hasQueued { lws_callback_on_writable(c.wsi) }
        }
    }

    static let coalesceBytes = 32 * 1024
    /// The most one send() may carry (lws' `tx_packet_size`): any coalesced write, and large frames in few sends.
    static let txPacketBytes = 256 * 1024

    /// Grows the shared write buffer, keeping what is already framed in it.
    private func reserveWriteBuffer(_ needed: Int) {
        guard needed > writeBufferSize else { return }
        let size = max(needed, writeBufferSize * 2)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: size + pre, alignment: 16)
        grown.copyMemory(from: writeBuffer, byteCount: writeBufferSize + pre)
        writeBuffer.deallocate()
        writeBuffer = grown
        writeBufferSize = size
    }

    /// RFC 6455 server frame header (FIN, text, unmasked): 2, 4 or 10 bytes.
    static func frameHeaderSize(_ n: Int) -> Int { n < 126 ? 2 : n <= 0xFFFF ? 4 : 10 }

    static func writeFrameHeader(_ p: UnsafeMutableRawPointer, payloadCount n: Int) {
        p.storeBytes(of: 0x81, as: UInt8.self)
        if n < 126 {
            p.storeBytes(of: UInt8(n), toByteOffset: 1, as: UInt8.self)
        } else if n <= 0xFFFF {
            p.storeBytes(of: 126, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt16(n).bigEndian, toByteOffset: 2, as: UInt16.self)
        } else {
            p.storeBytes(of: 127, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt64(n).bigEndian, toByteOffset: 2, as: UInt64.self)
        }
    }

    private func closed(_ c: Connection) {
        c.gone = true
        connections[c.id] = nil
        machine.connectionClosed(c.id, address: c.address)
        let effects = coordinator.disconnected(c.id, at: wallClockMillis())
        if !effects.isEmpty { run(effects) }
    }

    /// Browsers send Origin; other clients usually do not. With an allow-list set, a browser from elsewhere is refused.
    private func originAllowed(_ wsi: OpaquePointer) -> Bool {
        guard !config.allowedOrigins.isEmpty else { return true }
        let n = Int(lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN))
        guard n > 0 else { return true }
        var buf = [CChar](repeating: 0, count: n + 1)
        guard lws_hdr_copy(wsi, &buf, Int32(buf.count), WSI_TOKEN_ORIGIN) >= 0 else { return false }
        let origin = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let ok = config.allowedOrigins.contains(origin)
        if !ok { logger.notice("refused origin", metadata: ["origin": "\(origin)"]) }
        return ok
    }
}
