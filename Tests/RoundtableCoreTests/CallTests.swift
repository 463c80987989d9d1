import Testing

@testable import RoundtableCore

/// A readable stand-in for the server's HMAC minter: shows which username was signed.
struct EchoMinter: TurnCredentialMinter {
    func password(for username: String) -> String { "pw(" + username + ")" }
}

private func offer(_ sdp: String = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n") -> CallSignal { CallSignal(kind: .offer, sdp: sdp) }

extension Harness {
    /// A room with members on connections 2… (member id = connection id) and round 1 running.
    mutating func callRoom(_ n: Int, calls: CallSettings = CallSettings()) -> String {
        coordinator.calls = calls
        let code = ivRoom((0..<n).map { "Org \($0)" })
        _ = ivStart(ivSettings(partner: 600))
        inbox = [:]
        return code
    }

    func pairs(_ code: String) -> [InterviewPair] { ivRoomState(code).interviews.pairs }

    func partner(of m: MemberID, _ code: String) -> MemberID {
        pairs(code).first { $0.members.contains(m) }!.members.first { $0 != m }!
    }

    func nonPartner(of m: MemberID, _ code: String) -> MemberID {
        pairs(code).first { !$0.members.contains(m) }!.members[0]
    }

    mutating func signal(_ from: MemberID, to: MemberID, _ s: CallSignal = offer()) -> Value.Object {
        send(ConnectionID(from), .callSignal(to: to, s))
    }
}

@Suite("Calls: signaling between interview partners")
struct CallSignalingTests {
    @Test func partnersReceiveEachOthersSignalsAndNothingIsStored() {
        var h = Harness()
        let code = h.callRoom(2)
        let journaled = h.journal.count
        let seq = h.ivRoomState(code).seq
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        #expect(h.signal(2, to: 3, offer(sdp))["type"] == "ack")
        let got = h.ivGot(3, "call.signal")
        #expect(got.count == 1)
        #expect(got[0]["from"] == Value(2) && got[0]["round"] == Value(1) && got[0]["pair"] == Value(1))
        #expect(got[0]["signal"]?["kind"] == "offer" && got[0]["signal"]?["sdp"] == .string(sdp))
        #expect(h.ivGot(2, "call.signal").isEmpty, "the sender does not get its own signal")
        let cand = CallSignal(kind: .candidate, candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0)
        #expect(h.signal(3, to: 2, cand)["type"] == "ack")
        let back = h.ivGot(2, "call.signal")
        #expect(back.count == 1 && back[0]["signal"]?["candidate"]?["sdpMid"] == "0" && back[0]["signal"]?["candidate"]?["sdpMLineIndex"] == Value(0))
        #expect(h.journal.count == journaled, "signals are never journaled")
        #expect(h.ivRoomState(code).seq == seq, "signals take no seq, so they are never in the resume buffer")
    }

    @Test func sessionIsRelayedWithEveryKind() {
        var h = Harness()
        _ = h.callRoom(2)
        let big = CallSignal.maxSession
        let signals = [
            CallSignal(kind: .offer, sdp: "v=0\r\n", session: 7), CallSignal(kind: .answer, sdp: "v=0\r\n", session: big),
            CallSignal(kind: .candidate, candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", session: 0),
            CallSignal(kind: .ready, session: 8), CallSignal(kind: .hangup),
        ]
        for s in signals { #expect(h.signal(2, to: 3, s)["type"] == "ack") }
        let got = h.ivGot(3, "call.signal").map { $0["signal"]?["session"] }
        #expect(got == [Value(7), .int(big), Value(0), Value(8), nil], "a replaced connection's signals are told apart by it")
    }

    @Test func onlyCurrentPartnersMaySignal() {
        var h = Harness()
        let code = h.callRoom(4)
        let a = 2
        let stranger = h.nonPartner(of: a, code)
        #expect(h.signal(a, to: stranger)["code"] == "not_partner")
        #expect(h.ivGot(ConnectionID(stranger), "call.signal").isEmpty)
        #expect(h.signal(a, to: a)["code"] == "not_partner", "not to yourself")
        #expect(h.signal(a, to: 99)["code"] == "not_partner", "not to an unknown id")
        #expect(h.signal(1, to: a)["code"] == "not_partner", "the facilitator is in no pair")
        #expect(h.signal(a, to: h.partner(of: a, code))["type"] == "ack")
    }

    @Test func everyoneInATrioReachesBothPartners() {
        var h = Harness()
        let code = h.callRoom(3)
        let trio = h.pairs(code)[0].members
        #expect(trio.count == 3)
        for from in trio {
            for to in trio where to != from { #expect(h.signal(from, to: to)["type"] == "ack") }
        }
        for m in trio { #expect(h.ivGot(ConnectionID(m), "call.signal").count == 2) }
    }

    @Test func anOfflinePartnerCannotBeSignaled() {
        var h = Harness()
        _ = h.callRoom(2)
        h.disconnect(3)
        #expect(h.signal(2, to: 3)["code"] == "partner_offline")
    }

    @Test func signalSizeIsBoundedByMaxSignalBytes() {
        var calls = CallSettings()
        calls.maxSignalBytes = 1024
        var h = Harness()
        _ = h.callRoom(2, calls: calls)
        #expect(h.signal(2, to: 3, offer(String(repeating: "a", count: 1024)))["type"] == "ack", "exactly the limit passes")
        let big = h.signal(2, to: 3, offer(String(repeating: "é", count: 513))) // 1026 bytes
        #expect(big["code"] == "signal_too_large")
        let cand = CallSignal(kind: .candidate, candidate: String(repeating: "c", count: 1000), sdpMid: String(repeating: "m", count: 25))
        #expect(h.signal(2, to: 3, cand)["code"] == "signal_too_large", "every string counts")
        #expect(h.ivGot(3, "call.signal").count == 1)
    }

    @Test func signalRateIsLimitedPerMember() {
        var calls = CallSettings()
        calls.signalsPerSecond = 5
        calls.signalBurst = 8
        var h = Harness()
        _ = h.callRoom(2, calls: calls)
        // `send` moves the clock 10 ms per request: 8 from the bucket, then it is empty.
        var codes: [String] = []
        for _ in 0..<10 { codes.append(h.signal(2, to: 3)["code"]?.stringValue ?? "ok") }
        #expect(codes.prefix(8).allSatisfy { $0 == "ok" })
        #expect(codes.suffix(2).allSatisfy { $0 == "rate_limited" })
        #expect(h.ivGot(3, "call.signal").count == 8)
        #expect(h.signal(3, to: 2)["type"] == "ack", "the partner has their own bucket")
        h.now += 1_000 // one second: five more
        codes = (0..<6).map { _ in h.signal(2, to: 3)["code"]?.stringValue ?? "ok" }
        #expect(codes == ["ok", "ok", "ok", "ok", "ok", "rate_limited"])
    }
}

@Suite("Calls: a call ends when the pairing changes")
struct CallEndingTests {
    func ended(_ h: Harness, _ m: MemberID) -> [Value.Object] { h.ivGot(ConnectionID(m), "call.ended") }

    @Test func aNewRoundEndsTheCall() {
        var h = Harness()
        let code = h.callRoom(2)
        _ = h.signal(2, to: 3)
        #expect(h.send(1, .nextInterviewRound)["type"] == "ack")
        for m in [2, 3] {
            #expect(ended(h, m).map { $0["reason"] } == ["new-round"])
            #expect(ended(h, m)[0]["round"] == Value(1) && ended(h, m)[0]["pair"] == Value(1))
        }
        // The new round's partners may call again; signals carry the new round.
        h.inbox = [:]
        #expect(h.signal(2, to: 3)["type"] == "ack")
        #expect(h.ivGot(3, "call.signal")[0]["round"] == Value(2))
        #expect(h.pairs(code).count == 1)
    }

    @Test func pairsThatNeverSignaledGetNoCallEnded() {
        var h = Harness()
        _ = h.callRoom(4)
        #expect(h.send(1, .nextInterviewRound)["type"] == "ack")
        for m in 2...5 { #expect(ended(h, m).isEmpty) }
    }

    @Test func theEndOfTheSessionEndsTheCallAndRefusesSignals() {
        var h = Harness()
        _ = h.callRoom(2)
        _ = h.signal(2, to: 3)
        #expect(h.send(1, .endInterviews)["type"] == "ack")
        #expect(ended(h, 2).map { $0["reason"] } == ["interviews-ended"] && ended(h, 3).count == 1)
        #expect(h.signal(2, to: 3)["code"] == "interviews_inactive")
        #expect(h.send(2, .callIce)["code"] == "interviews_inactive")
    }

    @Test func theRoundRunningOutEndsTheCall() {
        var h = Harness()
        let code = h.callRoom(2)
        _ = h.signal(2, to: 3)
        var t = h.now
        while h.ivRoomState(code).interviews.phase != .done {
            t = max(t, h.ivRoomState(code).interviews.phaseEndsAt)
            h.ivTick(t)
        }
        #expect(ended(h, 2).map { $0["reason"] } == ["round-over"])
        #expect(h.signal(2, to: 3)["code"] == "interviews_inactive", "signaling after the round ended is refused")
    }

    @Test func aRematchEndsTheOldCallOnly() {
        var h = Harness()
        let code = h.callRoom(4)
        let a = 2, b = h.partner(of: 2, code)
        let c = h.nonPartner(of: a, code), d = h.partner(of: c, code)
        _ = h.signal(a, to: b)
        _ = h.signal(c, to: d)
        #expect(h.send(ConnectionID(a), .rematch)["type"] == "ack")
        #expect(h.send(ConnectionID(c), .rematch)["type"] == "ack") // a and c are paired now
        #expect(h.partner(of: a, code) == c)
        for m in [a, b, c, d] { #expect(ended(h, m).map { $0["reason"] } == ["pairs-changed"], "member \(m)") }
        #expect(h.signal(a, to: b)["code"] == "not_partner", "the old partner is out of reach")
        #expect(h.signal(a, to: c)["type"] == "ack")
    }

    @Test func removingOrLosingAMemberEndsTheirCall() {
        var h = Harness()
        let code = h.callRoom(3) // one trio
        let trio = h.pairs(code)[0].members
        _ = h.signal(trio[0], to: trio[1])
        #expect(h.send(1, .removeMember(trio[2]))["type"] == "ack")
        #expect(ended(h, trio[0]).map { $0["reason"] } == ["member-removed"] && ended(h, trio[1]).count == 1)
        #expect(h.signal(trio[0], to: trio[2])["code"] == "not_partner")
        // The two left may call again; then one leaves the room.
        #expect(h.signal(trio[0], to: trio[1])["type"] == "ack")
        #expect(h.send(ConnectionID(trio[1]), .leave)["type"] == "ack")
        #expect(ended(h, trio[0]).map { $0["reason"] } == ["member-removed", "member-left"])
    }
}

@Suite("Calls: ICE servers and TURN credentials")
struct CallIceTests {
    func settings() -> CallSettings {
        var s = CallSettings()
        s.stunUrls = ["stun:turn.example.org:3478"]
        s.turnUrls = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]
        s.credentialTtlSeconds = 600
        return s
    }

    @Test func pairedMembersGetShortLivedTurnCredentials() {
        var h = Harness()
        h.coordinator.turnMinter = EchoMinter()
        _ = h.callRoom(2, calls: settings())
        let ack = h.send(2, .callIce)
        #expect(ack["type"] == "ack")
        let servers = ack["iceServers"]?.arrayValue ?? []
        #expect(servers.count == 2)
        #expect(servers[0]["urls"] == Value(["stun:turn.example.org:3478"]) && servers[0]["username"] == nil)
        let user = servers[1]["username"]?.stringValue ?? ""
        let parts = user.split(separator: ":")
        #expect(parts.count == 2 && Int64(parts[0]) == h.now / 1000 + 600, "expiry = now + credentialTtlSeconds")
        #expect(parts[1].count == 16 && parts[1].allSatisfy(\.isHexDigit), "a random id: neither the member id nor the name")
        #expect(servers[1]["credential"] == .string("pw(" + user + ")"))
        #expect(ack["expiresAt"] == .int((h.now / 1000 + 600) * 1000))
        let again = h.send(3, .callIce)["iceServers"]?.arrayValue?[1]["username"]?.stringValue
        #expect(again != nil && again != user, "each request gets its own credential")
    }

    @Test func onlyPairedMembersGetCredentials() {
        var h = Harness()
        h.coordinator.turnMinter = EchoMinter()
        let code = h.callRoom(2, calls: settings())
        #expect(h.send(1, .callIce)["code"] == "not_partner", "the facilitator is not paired")
        h.join(9, code, "Late") // waits for a partner
        #expect(h.send(9, .callIce)["code"] == "not_partner")
    }

    @Test func withoutASecretOnlyStunIsHandedOut() {
        var h = Harness()
        _ = h.callRoom(2, calls: settings())
        let ack = h.send(2, .callIce)
        #expect(ack["iceServers"]?.arrayValue?.count == 1 && ack["expiresAt"] == nil)
    }
}
