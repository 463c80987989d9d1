import CLibEv
import CLibWebSockets

#if canImport(Glibc)
import Glibc
#endif

/// The libwebsockets context, the C memory it points into, and the threads the server starts.
extension RoundtableServer {
    func freeCMemory() {
        for s in cStrings { free(s) }
        cStrings.removeAll()
        protocols?.deallocate()
        protocols = nil
        retryPolicy?.deallocate()
        retryPolicy = nil
        foreignLoops?.deallocate()
        foreignLoops = nil
    }

    func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        cStrings.append(p)
        return p
    }

    // MARK: Context

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    func makeContext() throws -> OpaquePointer {
        let protos = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protos.initialize(repeating: lws_protocols(), count: 2)
        protos[0].name = UnsafePointer(cString("roundtable"))
        protos[0].callback = roundtableCallback
        protos[0].per_session_data_size = MemoryLayout<UnsafeRawPointer?>.size
        // Per-connection reassembly buffer lws mallocs at the upgrade, and the most lws reads per pass. 16 KiB
        // cost ~4.8 KiB of resident memory per idle member (11.0 vs 6.3 KiB/member at 5,050 members);
        // longer messages simply arrive in more RECEIVE callbacks (reassembled in `receive`). lws allocates
        // size + LWS_PRE + 4: 1,004 makes that exactly 1 KiB, a size class of its own for jemalloc (1,024 gave
        // 1,044 bytes, rounded up to 1,280).
        protos[0].rx_buffer_size = 1024 - rt_lws_pre() - 4
        // Without it lws caps every send() at rx_buffer_size + LWS_PRE + 4, i.e. 1 KiB (`lws_issue_raw`), and
        // buffers the rest for later POLLOUT passes: a 10 KiB room.state took ten passes, a coalesced write of
        // sixteen results three. One send may now carry a whole coalesced write (`coalesceBytes`) or a large
        // frame; what the socket does not take is still buffered by lws.
        protos[0].tx_packet_size = Self.txPacketBytes
        protocols = protos

        // All zero: lws schedules no validity timers (without a policy it would use its own 300/310 s ones,
        // each insert O(connections)); keep-alive is ours, see Server+KeepAlive.swift.
        let retry = UnsafeMutablePointer<lws_retry_bo_t>.allocate(capacity: 1)
        retry.initialize(to: lws_retry_bo_t())
        retryPolicy = retry

        var info = lws_context_creation_info()
        info.port = Int32(config.port)
        info.iface = UnsafePointer(cString(config.host))
        info.protocols = UnsafePointer(protos)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.fd_limit_per_thread = fdLimitPerThread()
        info.retry_and_idle_policy = UnsafePointer(retry)
        info.timeout_secs = 20
        info.vhost_name = UnsafePointer(cString("default"))
        var options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8) | UInt64(LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE)
        if let cert = config.tlsCertificate, let key = config.tlsPrivateKey {
            options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            info.ssl_cert_filepath = UnsafePointer(cString(cert))
            info.ssl_private_key_filepath = UnsafePointer(cString(key))
            // TLS 1.2 or newer only.
            info.ssl_options_set = rt_tls12_minimum_options()
        }
        if config.eventLoop == "libev" {
            try useLibev(&info, &options)
        }
        info.options = options
        guard let ctx = lws_create_context(&info) else {
            if let evLoop { rt_ev_loop_destroy(evLoop) }
            evLoop = nil
            freeCMemory()
            // With libev, lws also fails here when the plugin cannot be loaded (its dependencies, e.g. libev4).
            let libev = config.eventLoop == "libev" ? ", or the libev plugin did not load" : ""
            throw StartError(
                description:
                    "could not start on \(config.host):\(config.port) (port in use, no permission, or unreadable TLS files\(libev); see the log above)"
            )
        }
        return ctx
    }

    /// Where lws 4.1.6 looks for its libev plugin: it scans LWS_INSTALL_LIBDIR for a file whose base name is
    /// exactly `evlib_ev`, and without it only logs "failed to load evlib_ev" before lws_create_context fails.
    public static var libevPluginPath: String { LWS_INSTALL_LIBDIR + "/libwebsockets-evlib_ev.so" }

    /// A loop of our own handed to lws as a foreign loop: with a loop it created itself, lws_service would
    /// run ev_run until the context is destroyed, and the work after each pass (`afterServicePass`) would never run.
    private func useLibev(_ info: inout lws_context_creation_info, _ options: inout UInt64) throws {
        guard access(Self.libevPluginPath, R_OK) == 0 else {
            freeCMemory()
            throw StartError(
                description:
                    "server.eventLoop is libev but \(Self.libevPluginPath) is missing: install libwebsockets-evlib-ev (Scripts/deps.sh), or use poll"
            )
        }
        guard let loop = rt_ev_loop_new() else {
            freeCMemory()
            throw StartError(description: "server.eventLoop is libev but libev could not create a loop")
        }
        evLoop = loop
        let backend = rt_ev_backend(loop)
        eventLoopName = "libev (" + (Int(backend) == EVBACKEND_EPOLL ? "epoll" : Int(backend) == EVBACKEND_POLL ? "poll" : "backend \(backend)") + ")"
        let loops = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        loops.initialize(to: UnsafeMutableRawPointer(loop))
        foreignLoops = loops
        info.foreign_loops = loops
        options |= UInt64(LWS_SERVER_OPTION_LIBEV)
    }

    /// lws looks a socket up by indexing a table by fd only when that table covers every fd the process
    /// may open (RLIMIT_NOFILE); a smaller `fd_limit_per_thread` switches it to a linear scan of the table
    /// on every event (`wsi_from_fd`), O(connections) per read or write. So never ask for less than the
    /// soft limit; the tables are allocated lazily, so untouched entries cost no resident memory.
    private func fdLimitPerThread() -> UInt32 {
        var rl = rlimit()
        let wanted = config.maxConnections + 64
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_cur < 10_000_000 else { // also excludes RLIM_INFINITY
            return UInt32(wanted)
        }
        return UInt32(max(wanted, Int(rl.rlim_cur)))
    }

    /// A fire-and-forget thread (recovery, snapshot, reload): detached, so nothing has to join it.
    func spawnDetachedThread(_ body: @escaping () -> Void) {
        let tid = spawnThread(body)
        pthread_detach(tid)
    }

    func spawnThread(_ body: @escaping () -> Void) -> pthread_t {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { arg in
                let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return tid
    }
}
