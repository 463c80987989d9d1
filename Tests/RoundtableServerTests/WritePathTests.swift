import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// Frames on a plain socket are sent with send() by the server itself (issue 20). What the socket does not take
// is kept and sent, in order and whole, when the client reads again.
@Suite struct WritePathTests {
    @Test func aReaderThatPausesGetsEveryFrameWholeAndInOrder() throws {
        let server = try TestServer.start {
            $0.maxFrameBytes = 4096
            $0.sendQueueBytes = 32 << 20
            $0.limits.maxTextLength = 3_000
            $0.messagesPerSecond = 100_000
            $0.messageBurst = 100_000
        }
        defer { server.stop() }
        let room = try server.createRoom()
        // A 4 KiB receive buffer: once this member stops reading, the server's sends to it soon go partial.
        let paused = try server.client(receiveBuffer: 4096)
        let joined = try paused.ack(["type": "room.join", "room": .string(room.code), "name": "Paula", "organization": "Org"])
        let firstSeq = try paused.event("room.state").int("seq") + 1
        #expect(try joined.int("member") > 0)
        let partialBefore = try #require(try server.metric("roundtable_partial_sends_total"))

        // Events of ~3 KB while Paula reads nothing, until the kernel's buffers (up to 4 MiB of send buffer on
        // Linux) are full and the server has had to keep a tail; then 40 more, queued behind it.
        let bio = String(repeating: "p", count: 2_900)
        var updates = 0
        var extra = 40
        while extra > 0 && updates < 4_000 {
            for i in updates..<(updates + 20) { try room.fac.send(["type": "member.update", "bio": .string("\(bio)\(i)"), "ref": .int(Int64(i))]) }
            for _ in 0..<20 { _ = try room.fac.waitFor(timeout: 10) { $0.type == "ack" } }
            updates += 20
            if try #require(try server.metric("roundtable_partial_sends_total")) > partialBefore { extra -= 20 }
        }
        #expect(extra <= 0, "the sends to the paused reader never went partial after \(updates) updates: the kept tail was not tested")

        // Paula reads again: every update, whole and in order, then she is still served.
        var bios: [String] = []
        var seqs: [Int] = []
        while bios.count < updates {
            let e = try paused.nextEvent(timeout: 10)
            guard e.type == "member.updated" else { continue }
            seqs.append(try e.int("seq"))
            bios.append(e["member"]?["bio"]?.stringValue ?? "")
        }
        #expect(bios == (0..<updates).map { "\(bio)\($0)" })
        #expect(seqs == Array(firstSeq..<(firstSeq + updates)))
        _ = try paused.ack(["type": "member.update", "bio": "back"])
        try server.assertServing("paused reader")
    }
}

extension WritePathTests {
    /// A read that ends inside a frame lets the server hold that pass's writes for one more pass (to coalesce
    /// them with the sender's next messages). A frame whose rest never comes must not hold anyone's replies.
    @Test func aFrameHeldHalfWayDoesNotHoldOthersReplies() throws {
        let server = try TestServer.start {
            $0.maxFrameBytes = 8192
            $0.limits.maxTextLength = 6_000
        }
        defer { server.stop() }
        let room = try server.createRoom()
        let held = try server.join(room.code, name: "Hal")
        let other = try server.join(room.code, name: "Oda")
        let text = JSON.string(["type": "member.update", "bio": .string(String(repeating: "h", count: 5_000)), "ref": 99])
        let frame = WSTestClient.frame(opcode: WSTestClient.Opcode.text, payload: Array(text.utf8))
        // Hal sends 3 KiB of a 5 KiB frame, and the rest only after Oda's twenty requests were all answered.
        try held.client.ws.sendRaw(Array(frame.prefix(3_000)))
        for i in 0..<20 {
            let reply = try other.client.request(["type": "member.update", "bio": .string("oda \(i)")], timeout: 5)
            #expect(reply["type"] == "ack", "\(reply)")
        }
        try held.client.ws.sendRaw(Array(frame.dropFirst(3_000)))
        #expect(try held.client.reply(to: 99)["type"] == "ack")
        try server.assertServing("held frame")
    }
}
