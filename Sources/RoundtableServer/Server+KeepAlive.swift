import CLibWebSockets

/// Keep-alive, done by the server rather than by libwebsockets.
///
/// lws 4.1.6 keeps its per-connection validity timers (`retry_and_idle_policy`) in one sorted linked
/// list and inserts by walking it from the head; every new connection and every pong puts its timer
/// at the tail, so each insert walks all connections — O(connections) per join, which made joins
/// crawl past a few thousand members (BENCHMARKS.md, "Profiles of the misses"). With the policy's
/// hangup at 0 lws schedules nothing, and this once-a-second scan does the same job in O(connections)
/// per second instead.
///
/// Meaning of the settings (unchanged from the lws policy and docs/PROTOCOL.md): a connection quiet
/// for `pingIntervalSeconds` gets a WebSocket ping; one that has sent nothing at all (no frame, no
/// pong) for `pingTimeoutSeconds` is dropped. 0 turns either off.
extension RoundtableServer {
    func keepAlive(now: Double) {
        let interval = Double(config.pingIntervalSeconds)
        let timeout = Double(config.pingTimeoutSeconds)
        guard interval > 0 || timeout > 0 else { return }
        for c in connections.values where c.closing == nil {
            let quiet = now - c.lastHeard
            if timeout > 0 && quiet >= timeout {
                logger.info("keep-alive: no traffic, dropping", metadata: ["connection.id": "\(c.id)", "quiet.s": "\(Int(quiet))"])
                stats.withLock { $0.keepAliveDropped += 1 }
                // A dead peer will not read a close frame: drop the socket on lws' next pass.
                c.closing = (1001, "keep-alive timeout")
                lws_set_timeout(c.wsi, PENDING_TIMEOUT_CLOSE_SEND, rt_lws_to_kill_async())
            } else if interval > 0 && quiet >= interval && !c.pinged {
                c.pinged = true
                c.pingDue = true
                lws_callback_on_writable(c.wsi)
            }
        }
    }

    /// Called for every frame from the peer, pongs included.
    @inline(__always) func heard(_ c: Connection, now: Double) {
        c.lastHeard = now
        c.pinged = false
    }
}
