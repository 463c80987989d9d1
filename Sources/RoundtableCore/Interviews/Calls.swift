/// Peer-to-peer calls between interview partners (WebRTC). The server only relays call setup
/// (`call.signal`) between the current partners of one pair or trio and hands out ICE servers with
/// short-lived TURN credentials (`call.ice`). No media crosses it; nothing here is journaled, buffered
/// for resume or logged. docs/PROTOCOL.md ("Calls") is the contract.

/// The `calls` section of the configuration, as far as the domain needs it.
public struct CallSettings: Sendable, Hashable {
    /// `stun:` / `stuns:` URLs handed to partners as ICE servers.
    public var stunUrls: [String] = []
    /// `turn:` / `turns:` URLs; handed out only with a credential (needs a TURN secret on the server).
    public var turnUrls: [String] = []
    /// How long a minted TURN credential stays valid.
    public var credentialTtlSeconds = 3_600
    /// Largest signal (SDP plus candidate strings, in UTF-8 bytes).
    public var maxSignalBytes = 16_384
    /// Sustained signals per second per member (token bucket), and the bucket's size.
    public var signalsPerSecond = 10
    public var signalBurst = 30

    public init() {}
}

/// Computes TURN REST API passwords: base64(HMAC-SHA1(shared secret, username)), as coturn checks
/// them with `use-auth-secret`. The server injects one built on OpenSSL; the secret stays inside it.
public protocol TurnCredentialMinter: Sendable {
    func password(for username: String) -> String
}

public enum CallSignalKind: String, Sendable, Hashable, CaseIterable {
    /// SDP offer (also an ICE restart offer).
    case offer
    /// SDP answer.
    case answer
    /// One trickled ICE candidate (an empty `candidate` string marks the end of candidates).
    case candidate
    /// The sender left the call with this partner.
    case hangup
    /// The sender is ready to call: the partner who offers (the lower member id) should send an offer.
    case ready
}

/// One call-setup message, reduced to the fields WebRTC needs: nothing else is relayed.
public struct CallSignal: Sendable, Hashable {
    public var kind: CallSignalKind
    public var sdp: String?
    public var candidate: String?
    public var sdpMid: String?
    public var sdpMLineIndex: Int?
    public var usernameFragment: String?
    /// Which peer connection the signal belongs to (the offerer picks it; answers and candidates repeat it), so a
    /// signal of a replaced connection is told apart from the current one's. Relayed as is, never interpreted here.
    public var session: Int64?
    /// The largest `session`: JavaScript's largest exact integer, so a browser can pick one at random.
    public static let maxSession: Int64 = 9_007_199_254_740_991

    public init(
        kind: CallSignalKind, sdp: String? = nil, candidate: String? = nil, sdpMid: String? = nil, sdpMLineIndex: Int? = nil,
        usernameFragment: String? = nil, session: Int64? = nil
    ) {
        self.kind = kind
        self.sdp = sdp
        self.candidate = candidate
        self.sdpMid = sdpMid
        self.sdpMLineIndex = sdpMLineIndex
        self.usernameFragment = usernameFragment
        self.session = session
    }

    /// What counts against `maxSignalBytes`: every string the signal carries, in UTF-8 bytes.
    public var byteCount: Int {
        [sdp, candidate, sdpMid, usernameFragment].reduce(0) { $0 + ($1?.utf8.count ?? 0) }
    }

    var value: Value {
        var o: Value.Object = ["kind": .string(kind.rawValue)]
        if let sdp { o["sdp"] = .string(sdp) }
        if let session { o["session"] = .int(session) }
        if let candidate {
            var c: Value.Object = ["candidate": .string(candidate)]
            if let sdpMid { c["sdpMid"] = .string(sdpMid) }
            if let sdpMLineIndex { c["sdpMLineIndex"] = Value(sdpMLineIndex) }
            if let usernameFragment { c["usernameFragment"] = .string(usernameFragment) }
            o["candidate"] = .object(c)
        }
        return .object(o)
    }
}

/// A call in progress (someone signaled) for one pair of one round; it ends when that pair changes.
struct CallRecord: Hashable {
    var round: Int
    var pair: Int
    var members: Set<MemberID>
}

/// Per-member token bucket for `call.signal` (whole tokens in thousandths, time from the injected clock).
struct SignalBucket: Hashable {
    var milliTokens: Int64
    var last: Millis
}

extension RoomOp {
    /// Ops that can change who is paired with whom, and the reason a call ends because of them.
    var callEndReason: String? {
        switch self {
        case .interview(.round): "new-round"
        case .interview(.phase(let p, _)): p == .done ? "round-over" : nil
        case .interview(.ended): "interviews-ended"
        case .interview(.pairSet): "pairs-changed"
        case .departed(_, let removed): removed ? "member-removed" : "member-left"
        case .closed: "room-closed"
        default: nil
        }
    }
}

extension Coordinator {
    /// The caller's pair in the running round, or why there is none.
    func callPair(_ room: Room, _ m: Member) throws(DomainError) -> InterviewPair {
        guard room.interviews.active, room.interviews.phase != .done else {
            throw DomainError("interviews_inactive", "no interview round is running; calls end with the round")
        }
        guard let p = room.interviews.pair(of: m.id) else {
            throw DomainError("not_partner", "you have no interview partner in this round")
        }
        return p
    }

    /// Members of a pair who are still in the room.
    func currentMembers(of p: InterviewPair, in room: Room) -> Set<MemberID> {
        Set(p.members.filter { room.members[$0].map { !$0.departed } ?? false })
    }

    mutating func callSignal(to: MemberID, _ signal: CallSignal, ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError)
        -> [Effect]
    {
        let (room, m) = try caller(c)
        let p = try callPair(room, m)
        guard to != m.id, p.members.contains(to), let target = room.members[to], !target.departed else {
            throw DomainError("not_partner", "member \(to) is not your interview partner in this round")
        }
        guard let conns = runtime[room.code]?.connections[to], !conns.isEmpty else {
            throw DomainError("partner_offline", "member \(to) has no open connection")
        }
        if signal.byteCount > calls.maxSignalBytes {
            throw DomainError("signal_too_large", "a signal may carry at most \(calls.maxSignalBytes) bytes (maxSignalBytes)")
        }
        try takeSignalToken(room.code, m.id, at: at)
        let members = currentMembers(of: p, in: room)
        let record = CallRecord(round: room.interviews.round, pair: p.id, members: members)
        if runtime[room.code]?.calls[p.id] != record { runtime[room.code]?.calls[p.id] = record }
        let body: Value.Object = [
            "from": Value(m.id), "round": Value(room.interviews.round), "pair": Value(p.id), "signal": signal.value,
        ]
        return [.send(Notice(type: "call.signal", body: body), ref: nil, to: conns), .reply(.ok, ref: ref, to: c)]
    }

    /// Token bucket per member: `signalsPerSecond` sustained, `signalBurst` at once.
    mutating func takeSignalToken(_ code: String, _ m: MemberID, at: Millis) throws(DomainError) {
        let cap = Int64(max(1, calls.signalBurst)) * 1000
        var b = runtime[code]?.signalBuckets[m] ?? SignalBucket(milliTokens: cap, last: at)
        let elapsed = max(0, at - b.last)
        b.milliTokens = min(cap, b.milliTokens + elapsed * Int64(max(1, calls.signalsPerSecond)))
        b.last = at
        guard b.milliTokens >= 1000 else {
            runtime[code]?.signalBuckets[m] = b
            throw DomainError("rate_limited", "more than \(calls.signalsPerSecond) call signals per second (signalsPerSecond); this one was dropped")
        }
        b.milliTokens -= 1000
        runtime[code]?.signalBuckets[m] = b
    }

    /// ICE servers for the caller's call: STUN URLs, and TURN URLs with a fresh credential.
    mutating func callIce(ref: Value?, from c: ConnectionID, at: Millis) throws(DomainError) -> [Effect] {
        let (room, m) = try caller(c)
        _ = try callPair(room, m)
        var servers: [Value] = []
        if !calls.stunUrls.isEmpty { servers.append(["urls": Value(calls.stunUrls)]) }
        var body: Value.Object = [:]
        if let minter = turnMinter, !calls.turnUrls.isEmpty {
            let expires = at / 1000 + Int64(calls.credentialTtlSeconds)
            // Non-identifying: a random id, never the member id or name (coturn logs usernames).
            let username = "\(expires):\(randomSecret(byteCount: 8, from: &entropy))"
            servers.append(["urls": Value(calls.turnUrls), "username": .string(username), "credential": .string(minter.password(for: username))])
            body["expiresAt"] = .int(expires * 1000)
        }
        body["iceServers"] = .array(servers)
        return [.reply(.ack(body), ref: ref, to: c)]
    }

    /// After an op that may change pairs: every call whose pair is no longer the same (round over, new
    /// round, rematch, a member gone) ends, and its members are told to hang up (`call.ended`).
    mutating func endStaleCalls(_ code: String, reason: String) -> [Effect] {
        guard let room = rooms[code], let calls = runtime[code]?.calls, !calls.isEmpty else { return [] }
        let iv = room.interviews
        var effects: [Effect] = []
        for (id, record) in calls.sorted(by: { $0.key < $1.key }) {
            let pair = iv.pairs.first { $0.id == id }
            let same = iv.active && iv.phase != .done && iv.round == record.round && pair.map { currentMembers(of: $0, in: room) == record.members } == true
            if same { continue }
            runtime[code]?.calls[id] = nil
            let to = record.members.sorted().flatMap { runtime[code]?.connections[$0] ?? [] }
            if !to.isEmpty {
                effects.append(
                    .send(
                        Notice(type: "call.ended", body: ["round": Value(record.round), "pair": Value(record.pair), "reason": .string(reason)]), ref: nil,
                        to: to))
            }
        }
        return effects
    }
}
