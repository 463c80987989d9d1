import Foundation
import RoundtableCore
import RoundtableWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Bad and hostile input against the real server: every case gets its documented answer, and the
// server keeps serving everybody else afterwards (`assertServing` runs a whole normal scenario on
// fresh connections, and bystanders already connected keep receiving).

@Suite(.serialized) struct HostileInputTests {

    // MARK: Bad requests (documented error replies)

    @Test func malformedAndNonObjectJSONGetBadJSONAndTheConnectionLives() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.client()
        for text in [
            "{\"type\":", "not json", "{\"type\":\"room.create\",}", "{'type':'x'}", "[1,2]", "\"room.create\"", "42", "null", "true", "", " ", "{} {}",
            "\u{FEFF}{}",
        ] {
            try c.sendText(text)
            let e = try c.next()
            #expect(e.type == "error", "\(text)")
            #expect(e["code"] == "bad_json", "\(text) -> \(JSON.string(e))")
            #expect(e["ref"] == nil, "\(text)")
        }
        // The same connection still works.
        _ = try c.ack(["type": "room.create", "title": "T", "name": "F"])
        try server.assertServing("malformed JSON")
    }

    @Test func typeAndRefProblems() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.client()
        let unknown = try c.request(["type": "room.explode", "ref": 7])
        #expect(unknown["code"] == "unknown_type")
        #expect(unknown["ref"] == 7)
        #expect(try c.errorCode(["type": "", "ref": 8]) == "unknown_type")
        #expect(try c.errorCode(["ref": 9]) == "invalid_field") // no type
        #expect(try c.errorCode(["type": 5, "ref": 10]) == "invalid_field")
        #expect(try c.errorCode(["type": ["room.create"], "ref": 11]) == "invalid_field")
        // A ref that is not a short string or an integer is not echoed.
        for badRef: Value in [["x": 1], [1], .string(String(repeating: "r", count: 65)), 1.5, true] {
            try c.send(["type": "room.create", "title": "T", "name": "F", "ref": badRef])
            let e = try c.next()
            #expect(e["code"] == "invalid_field", "ref \(JSON.string(badRef))")
            #expect(e["ref"] == nil)
        }
        // A 64-character string ref is fine.
        let longRef = Value.string(String(repeating: "r", count: 64))
        let ok = try c.request(["type": "room.create", "title": "T", "name": "F", "ref": longRef])
        #expect(ok["type"] == "ack")
        #expect(ok["ref"] == longRef)
        try server.assertServing("type/ref problems")
    }

    @Test func missingAndMistypedFieldsInEveryRequestType() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let outsider = try server.client()

        // room.create (from a connection that has not joined)
        let creates: [Value] = [
            ["type": "room.create", "name": "F"],
            ["type": "room.create", "title": 5, "name": "F"],
            ["type": "room.create", "title": "T"],
            ["type": "room.create", "title": "T", "name": ["F"]],
            ["type": "room.create", "title": "T", "name": "F", "organization": 1],
            ["type": "room.create", "title": "   ", "name": "F"],
            ["type": "room.create", "title": "T", "name": ""],
            ["type": "room.create", "title": "T", "name": "F", "settings": "loud"],
            ["type": "room.create", "title": "T", "name": "F", "settings": ["showNeedOrganization": "yes"]],
            ["type": "room.create", "title": "T", "name": "F", "createToken": 1],
        ]
        for r in creates { #expect(try outsider.errorCode(r) == "invalid_field", "\(JSON.string(r))") }

        // room.join
        let code = Value.string(room.code)
        let joins: [Value] = [
            ["type": "room.join", "name": "A"],
            ["type": "room.join", "room": 12_345_678, "name": "A"],
            ["type": "room.join", "room": code, "name": "A", "role": "king"],
            ["type": "room.join", "room": code, "name": "A", "role": 1],
            ["type": "room.join", "room": code, "name": "A", "role": "facilitator"],
            ["type": "room.join", "room": code, "name": "A", "since": -1],
            ["type": "room.join", "room": code, "name": "A", "since": "3"],
            ["type": "room.join", "room": code, "name": "A", "since": 1.5],
            ["type": "room.join", "room": code, "token": 5],
            ["type": "room.join", "room": code, "name": "A", "facilitatorKey": true],
            ["type": "room.join", "room": code, "name": 5],
            ["type": "room.join", "room": code, "name": "A", "organization": ["x"]],
            ["type": "room.join", "room": code],
            ["type": "room.join", "room": code, "name": "  "],
        ]
        for r in joins { #expect(try outsider.errorCode(r) == "invalid_field", "\(JSON.string(r))") }

        // member.update and member.remove (as the facilitator, who is joined)
        let updates: [Value] = [
            ["type": "member.update", "name": 5],
            ["type": "member.update", "name": ""],
            ["type": "member.update", "organization": false],
            ["type": "member.update", "expertise": "water"],
            ["type": "member.update", "expertise": [1, 2]],
            ["type": "member.update", "expertise": [["water"]]],
            ["type": "member.update", "bio": ["x": 1]],
        ]
        for r in updates { #expect(try room.fac.errorCode(r) == "invalid_field", "\(JSON.string(r))") }
        let removes: [Value] = [
            ["type": "member.remove"],
            ["type": "member.remove", "member": "2"],
            ["type": "member.remove", "member": 0],
            ["type": "member.remove", "member": -3],
            ["type": "member.remove", "member": 2.5],
            ["type": "member.remove", "member": 99_999_999_999],
            ["type": "member.remove", "member": [2]],
        ]
        for r in removes { #expect(try room.fac.errorCode(r) == "invalid_field", "\(JSON.string(r))") }
        // Null means absent for optional fields: an update with only nulls changes nothing but is fine.
        _ = try room.fac.ack(["type": "member.update", "name": nil, "bio": nil])
        // room.leave and room.rotateKey take no fields; extra ones are ignored.
        _ = try room.fac.ack(["type": "room.rotateKey", "extra": [1, 2, 3]])
        // No error above changed the room: nobody saw an event for them except the rotation and update.
        let events = try room.fac.drain(for: 0.3).filter { $0.seq != nil }
        #expect(events.compactMap(\.type).sorted() == ["member.updated", "room.keyRotated"])
        try server.assertServing("bad fields")
        withExtendedLifetime(outsider) {}
    }

    @Test func stringsAndListsOverTheirLimitsAreTooLarge() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.client()
        let limits = server.config.limits
        func s(_ n: Int) -> Value { .string(String(repeating: "é", count: n)) }
        #expect(try c.errorCode(["type": "room.create", "title": s(limits.maxTitleLength + 1), "name": "F"]) == "too_large")
        #expect(try c.errorCode(["type": "room.create", "title": "T", "name": s(limits.maxNameLength + 1)]) == "too_large")
        #expect(try c.errorCode(["type": "room.create", "title": "T", "name": "F", "organization": s(limits.maxNameLength + 1)]) == "too_large")
        // Exactly at the limit is accepted (counted in characters, not bytes).
        let created = try c.ack(["type": "room.create", "title": s(limits.maxTitleLength), "name": s(limits.maxNameLength)])
        let code = try created.string("room")
        let j = try server.client()
        #expect(try j.errorCode(["type": "room.join", "room": .string(code), "name": s(limits.maxNameLength + 1)]) == "too_large")
        #expect(try c.errorCode(["type": "member.update", "bio": s(limits.maxTextLength + 1)]) == "too_large")
        #expect(try c.errorCode(["type": "member.update", "name": s(limits.maxNameLength + 1)]) == "too_large")
        let tooMany = Value.array((0...limits.maxTags).map { .string("tag\($0)") })
        #expect(try c.errorCode(["type": "member.update", "expertise": tooMany]) == "too_large")
        #expect(try c.errorCode(["type": "member.update", "expertise": [s(limits.maxTagLength + 1)]]) == "too_large")
        // The room code is capped by the decoder's own limits, not by crashing the lookup.
        #expect(try j.errorCode(["type": "room.join", "room": s(5_000), "name": "A"]) == "room_not_found")
        try server.assertServing("too large")
    }

    @Test func thousandElementArraysInFields() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let thousand = Value.array((0..<1_000).map { .string("t\($0)") })
        let thousandAndOne = Value.array((0...1_000).map { .string("t\($0)") })
        // 1,000 passes the decoder, then the room's maxTags refuses it; 1,001 stops at the decoder.
        #expect(try room.fac.errorCode(["type": "member.update", "expertise": thousand]) == "too_large")
        #expect(try room.fac.errorCode(["type": "member.update", "expertise": thousandAndOne]) == "too_large")
        #expect(try room.fac.errorCode(["type": "member.remove", "member": .array((0..<1_000).map { .int(Int64($0)) })]) == "invalid_field")
        #expect(try room.fac.errorCode(["type": "room.join", "room": .array((0..<1_000).map { _ in "X" }), "name": "A"]) == "invalid_field")
        // Unknown fields may be big arrays too; they are ignored.
        _ = try room.fac.ack(["type": "member.update", "bio": "ok", "junk": .array((0..<1_000).map { .int(Int64($0)) })])
        // 1,000 duplicates of one tag fold into the limit after deduplication? No: the count is checked first.
        #expect(try room.fac.errorCode(["type": "member.update", "expertise": .array(Array(repeating: "x", count: 1_000))]) == "too_large")
        try server.assertServing("big arrays")
    }

    @Test func deeplyNestedJSONIsBadJSON() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.client()
        for depth in [9, 100, 10_000, 30_000] {
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            try c.sendText("{\"type\":\"member.update\",\"bio\":\(nested)}")
            #expect(try c.next()["code"] == "bad_json", "depth \(depth)")
            let objects = max(9, depth / 5)
            try c.sendText(String(repeating: "{\"a\":", count: objects) + "1" + String(repeating: "}", count: objects))
            #expect(try c.next()["code"] == "bad_json", "object depth \(objects)")
        }
        // Unclosed nesting, too.
        try c.sendText(String(repeating: "[", count: 60_000))
        #expect(try c.next()["code"] == "bad_json")
        // Depth within the limit is only a field-type problem.
        #expect(try c.errorCode(["type": "room.create", "title": [[[["deep"]]]], "name": "F"]) == "invalid_field")
        try server.assertServing("deep nesting")
    }

    @Test func binaryFramesGetBinaryUnsupported() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.client()
        try c.ws.sendBinary(Array("{\"type\":\"room.create\",\"title\":\"T\",\"name\":\"F\"}".utf8))
        let e = try c.next()
        #expect(e["code"] == "binary_unsupported")
        try c.ws.sendBinary([0xFF, 0x00, 0xFE])
        #expect(try c.next()["code"] == "binary_unsupported")
        // A fragmented binary message is one message, one error.
        try c.ws.sendFrame(opcode: WSTestClient.Opcode.binary, payload: [1, 2], fin: false)
        try c.ws.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: [3, 4], fin: true)
        #expect(try c.next()["code"] == "binary_unsupported")
        // Still open: a text request works.
        _ = try c.ack(["type": "room.create", "title": "T", "name": "F"])
        #expect(try c.drain(for: 0.3).filter { $0.type == "error" }.isEmpty)
        try server.assertServing("binary")
    }

    @Test func messagesOverMaxFrameBytesClose1009() throws {
        let server = try TestServer.start {
            $0.maxFrameBytes = 4096; $0.sendQueueBytes = 65_536
        }
        defer { server.stop() }
        let bystander = try server.createRoom()

        // One frame.
        let c1 = try server.client()
        try c1.sendText("{\"type\":\"room.create\",\"title\":\"" + String(repeating: "x", count: 5_000) + "\",\"name\":\"F\"}")
        #expect(try c1.expectClose() == 1009)
        // A message split into fragments that are each small but add up to too much.
        // In one write, so the client is never still sending when the server closes (a TCP reset would then
        // drop the close frame: a race of the test's making). Masked with the all-zero key.
        let c2 = try server.raw()
        func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool) -> [UInt8] {
            let first: UInt8 = (fin ? 0x80 : 0) | opcode
            let length: [UInt8] = payload.count < 126 ? [0x80 | UInt8(payload.count)] : [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
            return [first] + length + [0, 0, 0, 0] + payload
        }
        let chunk = Array(String(repeating: "y", count: 1_500).utf8)
        var fragments = frame(WSTestClient.Opcode.text, Array("{\"type\":\"x\",\"pad\":\"".utf8), fin: false)
        for _ in 0..<3 { fragments += frame(WSTestClient.Opcode.continuation, chunk, fin: false) }
        fragments += frame(WSTestClient.Opcode.continuation, Array("\"}".utf8), fin: true)
        try c2.sendRaw(fragments)
        #expect(try c2.expectClose() == 1009)
        // Just under the limit is fine.
        let c3 = try server.client()
        let e = try c3.request(["type": "room.create", "title": "T", "name": "F", "pad": .string(String(repeating: "z", count: 3_900))])
        #expect(e["type"] == "ack")

        _ = try bystander.fac.ack(["type": "member.update", "bio": "still here"])
        try server.assertServing("over maxFrameBytes")
    }

    @Test func requestsBeforeJoiningAreNotJoined() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let c = try server.client()
        for type in ["room.leave", "member.update", "room.rotateKey"] {
            #expect(try c.errorCode(["type": .string(type)]) == "not_joined", "\(type)")
        }
        #expect(try c.errorCode(["type": "member.remove", "member": 1]) == "not_joined")
        #expect(try c.errorCode(["type": "member.update", "bio": "x"]) == "not_joined")
        try server.assertServing("not joined")
    }

    @Test func wrongRoomCodeAndWrongCredentials() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let other = try server.createRoom(title: "Other")
        let c = try server.client()
        for bad in ["ZZZZZZZZ", "", "../../", String(room.code.dropLast()), room.code + "0", "\u{0}\u{1}"] {
            #expect(try c.errorCode(["type": "room.join", "room": .string(bad), "name": "A"]) == "room_not_found", "\(bad)")
        }
        #expect(try c.errorCode(["type": "room.join", "room": .string(room.code), "name": "A", "facilitatorKey": "nope"]) == "bad_credentials")
        #expect(
            try c.errorCode([
                "type": "room.join", "room": .string(room.code), "name": "A", "role": "facilitator",
                "facilitatorKey": .string(other.facilitatorKey),
            ]) == "bad_credentials")
        #expect(try c.errorCode(["type": "room.join", "room": .string(room.code), "token": "nope"]) == "bad_credentials")
        #expect(try c.errorCode(["type": "room.join", "room": .string(room.code), "token": .string(other.token)]) == "bad_credentials")
        #expect(try c.errorCode(["type": "room.join", "room": .string(room.code), "token": .string(room.facilitatorKey)]) == "bad_credentials")
        // None of that joined anything: the connection can still join properly.
        _ = try c.ack(["type": "room.join", "room": .string(room.code), "name": "A"])
        #expect(try c.errorCode(["type": "room.join", "room": .string(other.code), "name": "A"]) == "already_joined")
        #expect(try c.errorCode(["type": "room.create", "title": "T", "name": "F"]) == "already_joined")
        withExtendedLifetime(other.fac) {}
        try server.assertServing("credentials")
    }

    @Test func membersAndObserversCannotSendFacilitatorRequests() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        let obi = try server.join(room.code, name: "Obi", role: "observer")
        for c in [ann.client, obi.client] {
            #expect(try c.errorCode(["type": "member.remove", "member": 1]) == "not_facilitator")
            #expect(try c.errorCode(["type": "room.rotateKey"]) == "not_facilitator")
        }
        // Nothing happened: the facilitator is still in, the key still works.
        let cofac = try server.client()
        _ = try cofac.ack([
            "type": "room.join", "room": .string(room.code), "name": "Co", "role": "facilitator",
            "facilitatorKey": .string(room.facilitatorKey),
        ])
        #expect(try room.fac.drain(for: 0.3).filter { $0.type == "member.left" || $0.type == "room.keyRotated" }.isEmpty)
        try server.assertServing("not facilitator")
    }

    @Test func silentConnectionIsClosedAfterTheJoinTimeout() throws {
        let server = try TestServer.start { $0.joinTimeoutSeconds = 0.5 }
        defer { server.stop() }
        let room = try server.createRoom()
        let silent = try server.raw(timeout: 6)
        let start = ContinuousClock.now
        #expect(try silent.expectClose(timeout: 6) == 1008)
        let took = ContinuousClock.now - start
        #expect(took >= .milliseconds(450) && took < .seconds(3), "closed after \(took)")
        // A connection that did join within the timeout stays.
        _ = try room.fac.ack(["type": "member.update", "bio": "still joined"])
        // A connection that only sent garbage (but never joined) is closed too.
        let chatty = try server.client(timeout: 6)
        try chatty.sendText("{}")
        #expect(try chatty.expectClose(timeout: 6) == 1008)
        _ = try room.fac.ack(["type": "member.update", "bio": "still joined after two timeouts"])
        try server.assertServing("join timeout")
    }

    @Test func clientDisconnectingMidFrame() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        _ = try room.fac.event("member.joined")

        // Half a header (the 16-bit length is cut), then gone.
        let a = try server.raw()
        try a.sendRaw([0x81, 0xFE, 0x01])
        a.close()
        // A full header announcing 100 bytes, 10 of them sent, then gone.
        let b = try server.raw()
        try b.sendRaw([0x81, 0x80 | 100, 1, 2, 3, 4] + Array(repeating: 0x41, count: 10))
        b.close()
        // A joined member whose next request is cut: the member goes offline like any disconnect.
        try ann.client.ws.sendRaw([0x81, 0x80 | 60, 9, 9, 9, 9, 0x30])
        ann.client.close()
        let offline = try room.fac.nextEvent()
        #expect(offline.type == "member.presence")
        #expect(offline["online"] == false)
        // Handshake cut in the middle.
        let sock = try TestTCPSocket(host: "127.0.0.1", port: server.port, deadline: TestDeadline(seconds: 5))
        try sock.write(Array("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websock".utf8), deadline: TestDeadline(seconds: 5))
        sock.close()

        _ = try room.fac.ack(["type": "member.update", "bio": "unbothered"])
        try server.assertServing("mid-frame disconnects")
    }

    // MARK: Hostile frames (RFC 6455)

    @Test func invalidUTF8TextCloses1007() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let bystander = try server.createRoom()
        let cases: [[UInt8]] = [
            [0xC3, 0x28], // bad continuation byte
            [0xED, 0xA0, 0x80], // UTF-16 surrogate
            [0xC0, 0xAF], // overlong "/"
            [0xF4, 0x90, 0x80, 0x80], // above U+10FFFF
            Array("{\"type\":\"room.create\",\"title\":\"".utf8) + [0xFF] + Array("\",\"name\":\"F\"}".utf8),
        ]
        for bytes in cases {
            let c = try server.raw()
            try c.sendFrame(opcode: WSTestClient.Opcode.text, payload: bytes)
            #expect(try c.expectClose() == 1007, "\(bytes)")
        }
        // Invalid UTF-8 split across fragments (each fragment alone could pass a naive check).
        let c = try server.raw()
        try c.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("{\"a\":\"".utf8) + [0xE2, 0x82], fin: false)
        try? c.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: [0x28] + Array("\"}".utf8), fin: true)
        #expect(try c.expectClose() == 1007)
        // Valid multi-byte UTF-8 split across fragments is fine.
        let ok = try server.client()
        try ok.ws.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("{\"type\":\"room.create\",\"title\":\"".utf8) + [0xE2, 0x82], fin: false)
        try ok.ws.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: [0xAC] + Array("\",\"name\":\"F\",\"ref\":1}".utf8), fin: true)
        let ack = try ok.reply(to: 1)
        #expect(ack["type"] == "ack")
        _ = try bystander.fac.ack(["type": "member.update", "bio": "fine"])
        try server.assertServing("invalid UTF-8")
    }

    @Test func reservedOpcodesClose1002() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        for opcode: UInt8 in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            let c = try server.raw()
            try c.sendFrame(opcode: opcode, payload: Array("{}".utf8))
            #expect(try c.expectClose() == 1002, "opcode \(opcode)")
        }
        try server.assertServing("reserved opcodes")
    }

    @Test func rsvBitsWithoutAnExtensionClose1002() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        for rsv: UInt8 in [1, 2, 4, 7] {
            let c = try server.raw()
            try c.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("{\"type\":\"x\"}".utf8), rsv: rsv)
            #expect(try c.expectClose() == 1002, "rsv \(rsv)")
        }
        // On a control frame too.
        let p = try server.raw()
        try p.sendFrame(opcode: WSTestClient.Opcode.ping, payload: [1], rsv: 4)
        #expect(try p.expectClose() == 1002)
        try server.assertServing("RSV bits")
    }

    @Test func fragmentedAndOversizedControlFramesClose1002() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        // Ping with FIN=0.
        let a = try server.raw()
        try a.sendFrame(opcode: WSTestClient.Opcode.ping, payload: [1, 2], fin: false)
        #expect(try a.expectClose() == 1002)
        // Close with FIN=0.
        let b = try server.raw()
        try b.sendFrame(opcode: WSTestClient.Opcode.close, payload: [0x03, 0xE8], fin: false)
        #expect(try b.expectClose() == 1002)
        // Control frame payload over 125 bytes. lws 4.1.6 fails this connection by dropping TCP
        // without a close frame (RFC 6455 7.1.7 allows that; a 1002 would be nicer). Either way it must end.
        let c = try server.raw()
        try c.sendFrame(opcode: WSTestClient.Opcode.ping, payload: Array(repeating: 0x61, count: 126))
        let code = try c.expectClose()
        #expect(code == nil || code == 1002, "closed with \(code.map(String.init) ?? "nil")")
        #expect(c.isClosedByPeer)
        // A 125-byte ping is legal and answered with the same payload.
        let d = try server.raw()
        let payload = Array(repeating: UInt8(0x62), count: 125)
        try d.sendPing(payload)
        #expect(try d.receive() == .pong(payload))
        try server.assertServing("control frames")
    }

    @Test func continuationWithoutAStartCloses1002() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let a = try server.raw()
        try a.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: Array("{}".utf8), fin: true)
        #expect(try a.expectClose() == 1002)
        let b = try server.raw()
        try b.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: Array("{".utf8), fin: false)
        #expect(try b.expectClose() == 1002)
        // A ping between the fragments of a message is legal: answered, and the message still arrives.
        let ok = try server.client()
        try ok.ws.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("{\"type\":\"room.create\",".utf8), fin: false)
        try ok.ws.sendPing([9])
        try ok.ws.sendFrame(opcode: WSTestClient.Opcode.continuation, payload: Array("\"title\":\"T\",\"name\":\"F\",\"ref\":5}".utf8), fin: true)
        #expect(try ok.ws.receive() == .pong([9]))
        #expect(try ok.reply(to: 5)["type"] == "ack")
        // The same three frames in one write, so the server reads them in one pass: the pong still comes first.
        let together = try server.client()
        typealias Op = WSTestClient.Opcode
        try together.ws.sendRaw(
            WSTestClient.frame(opcode: Op.text, payload: Array("{\"type\":\"room.create\",".utf8), fin: false)
                + WSTestClient.frame(opcode: Op.ping, payload: [7])
                + WSTestClient.frame(opcode: Op.continuation, payload: Array("\"title\":\"T\",\"name\":\"F\",\"ref\":6}".utf8)))
        #expect(try together.ws.receive() == .pong([7]))
        #expect(try together.reply(to: 6)["type"] == "ack")
        // A new text frame while a fragmented message is in progress.
        let c = try server.raw()
        try c.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("{".utf8), fin: false)
        try? c.sendFrame(opcode: WSTestClient.Opcode.text, payload: Array("{}".utf8), fin: true)
        #expect(try c.expectClose() == 1002)
        try server.assertServing("continuation")
    }

    @Test func unmaskedClientFrames() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        // RFC 6455 5.1 says a server MUST close on an unmasked client frame (1002). lws 4.1.6 does
        // not check the MASK bit on the server side: it accepts the frame and delivers the payload as
        // is. That is lws' behaviour, not ours (our callback never sees the mask bit); this test pins it
        // down so a change (an lws upgrade that starts refusing) is noticed. Harmless for us: masking
        // protects proxies from browser-crafted bytes, and the request is validated like any other.
        let c = try server.client()
        try c.ws.sendFrame(
            opcode: WSTestClient.Opcode.text, payload: Array("{\"type\":\"room.create\",\"title\":\"T\",\"name\":\"F\",\"ref\":1}".utf8),
            masked: false)
        #expect(try c.reply(to: 1)["type"] == "ack")
        try c.ws.sendFrame(opcode: WSTestClient.Opcode.ping, payload: [1, 2, 3], masked: false)
        var answer = try c.ws.receive()
        while case .text = answer { answer = try c.ws.receive() } // room.state came first
        #expect(answer == .pong([1, 2, 3]))
        try server.assertServing("unmasked")
    }

    @Test func hugeDeclaredLengthsAreRefused() throws {
        let server = try TestServer.start { $0.joinTimeoutSeconds = 0.5 }
        defer { server.stop() }
        let key: [UInt8] = [0x0A, 0x0B, 0x0C, 0x0D]
        func header(_ length: UInt64) -> [UInt8] {
            var h: [UInt8] = [0x81, 0x80 | 127]
            for shift in stride(from: 56, through: 0, by: -8) { h.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
            return h + key
        }
        // Valid (masked "a"s) so only the length can be the problem.
        let payload = (0..<(server.config.maxFrameBytes + 4_096)).map { UInt8(ascii: "a") ^ key[$0 & 3] }

        // 2^62: legal as a number, absurd as a message. Refused as soon as maxFrameBytes arrived.
        let a = try server.raw()
        try a.sendRaw(header(1 << 62))
        try? a.sendRaw(payload)
        #expect(try a.expectClose() == 1009)

        // 2^62 announced and then nothing: nothing is reserved, and the join timeout still applies.
        let b = try server.raw(timeout: 6)
        try b.sendRaw(header(1 << 62))
        #expect(try b.expectClose(timeout: 6) == 1008)

        // 2^63 and above (most significant bit set) is invalid framing: lws drops the TCP connection
        // in its parser without a close frame (lws' behaviour, not ours).
        let c = try server.raw()
        try c.sendRaw(header(1 << 63))
        let codeC = try c.expectClose()
        #expect(codeC == nil || codeC == 1002, "2^63 closed with \(codeC.map(String.init) ?? "no close frame")")
        #expect(c.isClosedByPeer)

        // A 16-bit length of 65535 (over a 4 KiB limit) is caught the same way.
        let small = try TestServer.start {
            $0.maxFrameBytes = 4_096; $0.sendQueueBytes = 65_536
        }
        defer { small.stop() }
        let d = try small.raw()
        try d.sendRaw([0x81, 0x80 | 126, 0xFF, 0xFF] + key)
        try? d.sendRaw(Array(payload.prefix(8_192)))
        #expect(try d.expectClose() == 1009)
        try server.assertServing("huge lengths")
        try small.assertServing("huge lengths")
    }

    @Test func hundredMegabyteFrameIsCutEarlyWithoutBuffering() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let bystander = try server.createRoom()
        let before = residentBytes()

        let c = try server.raw(timeout: 10)
        let total: UInt64 = 100 << 20
        // Header: FIN+text, 64-bit length, mask key; then the payload streamed in masked chunks.
        let key: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        var header: [UInt8] = [0x81, 0x80 | 127]
        for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: total >> UInt64(shift))) }
        header += key
        try c.sendRaw(header)
        let chunkSize = 64 * 1024
        let chunk = (0..<chunkSize).map { UInt8(ascii: "a") ^ key[$0 & 3] }
        var sent = 0
        var code: UInt16?
        var closed = false
        streaming: while UInt64(sent) < total {
            do {
                try c.sendRaw(chunk)
                sent += chunkSize
            } catch {
                break streaming
            }
            // Non-blocking look for the close frame.
            do {
                if case .close(let cc, _) = try c.receive(timeout: 0) {
                    code = cc
                    closed = true
                    break streaming
                }
            } catch WSTestError.timeout {
                continue
            } catch {
                break streaming
            }
        }
        if !closed { code = try c.expectClose(timeout: 5) }
        #expect(code == 1009)
        #expect(sent < 16 << 20, "sent \(sent) bytes before the server gave up")
        let grown = residentBytes() - before
        #expect(grown < 48 << 20, "process grew by \(grown >> 20) MB while a 100 MB frame was refused")

        _ = try bystander.fac.ack(["type": "member.update", "bio": "still fine"])
        try server.assertServing("100 MB frame")
    }

    @Test func pingFloodIsSurvived() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let c = room.fac
        for i in 0..<1_000 { try c.ws.sendPing([UInt8(i & 0xFF), UInt8(i >> 8)]) }
        // lws answers pings itself (one pong pending at a time: a burst gets fewer pongs): count what comes back.
        var pongs = 0
        receiving: while pongs < 1_000 {
            do {
                switch try c.ws.receive(timeout: 1) {
                case .pong: pongs += 1
                case .close(let code, _):
                    Issue.record("closed with \(code.map(String.init) ?? "nil") after a ping flood")
                    return
                default: continue
                }
            } catch WSTestError.timeout {
                break receiving
            }
        }
        // Pings are not requests: they are not rate-limited and the connection stays usable.
        let reply = try c.request(["type": "member.update", "bio": "after the flood"], timeout: 10)
        #expect(reply["type"] == "ack")
        #expect(pongs >= 1)
        try server.assertServing("ping flood")
    }

    @Test func rateLimitFloodGetsRateLimitedThen1008() throws {
        let server = try TestServer.start {
            $0.messagesPerSecond = 5
            $0.messageBurst = 5
            $0.rateLimitStrikes = 3
        }
        defer { server.stop() }
        let bystander = try server.createRoom()
        let flood = try server.client()
        // All 20 in one write: sent one by one, a client descheduled mid-loop could still be sending after the
        // server's close, and TCP then resets the connection and drops the close frame (a race of the test's
        // own making, not the behaviour under test).
        var burst: [UInt8] = []
        for i in 0..<20 {
            let payload = Array(JSON.string(["type": "nope", "ref": .int(Int64(i))]).utf8)
            burst += [0x81, 0x80 | UInt8(payload.count), 0, 0, 0, 0] + payload // masked with the all-zero key
        }
        try flood.ws.sendRaw(burst)
        var codes: [String] = []
        var closeCode: UInt16?
        while true {
            do {
                let m = try flood.next()
                codes.append(m["code"]?.stringValue ?? "?")
            } catch WSTestError.closed(let code, _) {
                closeCode = code
                break
            }
        }
        #expect(Array(codes.prefix(5)) == Array(repeating: "unknown_type", count: 5))
        #expect(Array(codes.dropFirst(5)) == Array(repeating: "rate_limited", count: 3))
        #expect(closeCode == 1008)
        // The limit is per connection.
        for _ in 0..<3 { _ = try bystander.fac.ack(["type": "member.update", "bio": "calm"]) }
        try server.assertServing("rate limit")
    }

    @Test func connectionsPerAddressOverTheLimitClose1008() throws {
        let server = try TestServer.start {
            $0.maxConnectionsPerAddress = 200; $0.joinTimeoutSeconds = 60
        }
        defer { server.stop() }
        var clients: [WSTestClient] = []
        for _ in 0..<200 { clients.append(try server.raw()) }
        var extra: [WSTestClient] = []
        for _ in 0..<100 { extra.append(try server.raw()) }
        for c in extra { #expect(try c.expectClose() == 1008) }
        // The first 200 are all still open: each answers a ping.
        for c in clients { try c.sendPing([7]) }
        var alive = 0
        for c in clients { if case .pong = try c.receive(timeout: 5) { alive += 1 } }
        #expect(alive == 200)
        // Over the limit, so assertServing would be refused too; freeing slots lets new ones in.
        for c in clients.prefix(5) { c.close() }
        usleep(300_000)
        try server.assertServing("per-address limit")
        withExtendedLifetime(clients) {}
    }

    @Test func connectionsOverTheServerLimitClose1013() throws {
        let server = try TestServer.start { $0.maxConnections = 5 }
        defer { server.stop() }
        var clients: [WSTestClient] = []
        for _ in 0..<5 { clients.append(try server.raw()) }
        let sixth = try server.raw()
        #expect(try sixth.expectClose() == 1013)
        for c in clients.prefix(3) { c.close() }
        usleep(300_000)
        try server.assertServing("connection limit")
        withExtendedLifetime(clients) {}
    }

    @Test func slowlorisHandshakeDoesNotStallOthers() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let request = Array(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                .utf8)
        let slow = try (0..<10).map { _ in try TestTCPSocket(host: "127.0.0.1", port: server.port, deadline: TestDeadline(seconds: 5)) }
        let start = ContinuousClock.now
        var worst = Duration.zero
        for (i, byte) in request.enumerated() {
            for s in slow { try s.write([byte], deadline: TestDeadline(seconds: 5)) }
            usleep(15_000)
            if i % 20 == 0 {
                // Everybody else is served promptly meanwhile.
                let t0 = ContinuousClock.now
                _ = try room.fac.ack(["type": "member.update", "bio": .string("tick \(i)")], timeout: 2)
                worst = max(worst, ContinuousClock.now - t0)
                #expect(try HTTPTestClient.get(port: server.port, path: "/healthz", timeout: 2).status == 200)
            }
        }
        #expect(ContinuousClock.now - start > .milliseconds(1_500))
        #expect(worst < .milliseconds(500), "a request took \(worst) during the slowloris")
        // The slow handshakes complete (or are dropped); the server does not hang on them.
        for s in slow {
            if let head = try? HTTPTestResponseReader.readHead(s, deadline: TestDeadline(seconds: 5)) {
                #expect(head.status == 101)
            }
            s.close()
        }
        try server.assertServing("slowloris")
    }

    @Test func slowReaderIsDroppedAndOthersGetEverything() throws {
        let server = try TestServer.start {
            $0.maxFrameBytes = 4096
            $0.sendQueueBytes = 65_536
            $0.limits.maxTextLength = 3_000
            $0.messagesPerSecond = 100_000
            $0.messageBurst = 100_000
        }
        defer { server.stop() }
        let room = try server.createRoom()
        let fast = try server.join(room.code, name: "Fast")
        let slow = try server.join(room.code, name: "Slow")
        _ = try fast.client.waitFor { $0.type == "member.joined" && $0["member"]?["name"] == "Slow" }
        _ = try room.fac.waitFor { $0.type == "member.joined" && $0["member"]?["name"] == "Slow" }
        let firstSeq = try slow.state.int("seq") + 1

        // From here the slow member never reads. Each update is a ~3 KB event to all three. Small
        // batches: a queue of 64 KiB holds ~20 such events, and a burst larger than that would
        // overflow even a reader that keeps up (messages are queued before the next write).
        let bio = String(repeating: "b", count: 2_900)
        var facSeqs: [Int] = []
        var fastSeqs: [Int] = []
        var droppedAt: Int?
        var sent = 0
        let batch = 8
        let deadline = TestDeadline(seconds: 60)
        while droppedAt == nil && sent < 40_000 && deadline.remainingSeconds > 0 {
            for i in 0..<batch { try room.fac.send(["type": "member.update", "bio": .string(bio + "\(sent)-\(i)"), "ref": .int(Int64(i))]) }
            for _ in 0..<batch { _ = try room.fac.waitFor(timeout: 10) { $0.type == "ack" } }
            sent += batch
            for m in try room.fac.drainNow() {
                if let s = m.seq, s >= firstSeq { facSeqs.append(s) }
                if m.type == "member.presence" && m["member"] == .int(Int64(slow.id)) && m["online"] == false { droppedAt = m.seq }
                #expect(m.type != "error", "\(m)")
            }
            // The fast member keeps up.
            while fastSeqs.count < facSeqs.count { fastSeqs.append(try fast.client.nextEvent(timeout: 10).seq!) }
        }
        #expect(droppedAt != nil, "the slow reader was never dropped after \(sent) broadcasts")
        // Everyone else received every event, gap-free, up to and including the slow reader's departure.
        fastSeqs += try fast.client.drain(for: 0.3).compactMap(\.seq)
        #expect(fastSeqs == Array(firstSeq..<(firstSeq + fastSeqs.count)))
        #expect(facSeqs == Array(firstSeq..<(firstSeq + facSeqs.count)))
        #expect(facSeqs.count >= sent)
        // The slow reader's socket ends: some data, then EOF without a close frame (docs/PROTOCOL.md:
        // "dropped without a close frame; clients see an abnormal closure (1006)"), never everything.
        var received = 0
        var ended = false
        do {
            receiving: while true {
                switch try slow.client.ws.receive(timeout: 5) {
                case .text: received += 1
                case .close(let code, _):
                    Issue.record("slow reader got close \(code.map(String.init) ?? "nil"); documented: no close frame")
                    break receiving
                default: continue
                }
            }
        } catch WSTestError.connectionClosed {
            ended = true
        }
        #expect(ended)
        #expect(received < fastSeqs.count)
        // Both healthy clients still work.
        _ = try fast.client.ack(["type": "member.update", "bio": "fine"])
        _ = try room.fac.ack(["type": "member.update", "bio": "fine"])
        try server.assertServing("slow reader")
    }

    @Test func shutdownDoesNotWaitForAClientThatNeverAnswersClose() throws {
        let server = try TestServer.start()
        let room = try server.createRoom()
        let stubborn = try server.raw()
        stubborn.autoReplyToClose = false
        let silent = try server.raw() // never reads at all
        let t0 = ContinuousClock.now
        server.stop()
        let took = ContinuousClock.now - t0
        #expect(took < .seconds(5), "stop took \(took)")
        // What was sent before the end: a 1001 for each, then the connection is gone.
        #expect(try stubborn.expectClose() == 1001)
        #expect(try room.fac.expectClose() == 1001)
        #expect(try silent.expectClose() == 1001)
        #expect(throws: (any Error).self) { _ = try HTTPTestClient.get(port: server.port, path: "/healthz", timeout: 1) }
    }

    @Test func normalScenarioStillPassesAfterAbuse() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        // A mix of abuse on one server, then the full normal scenario.
        let bad = try server.raw()
        try bad.sendFrame(opcode: 0x3, payload: [])
        _ = try bad.expectClose()
        let junk = try server.client()
        try junk.sendText("{{{{")
        _ = try junk.error("bad_json")
        try junk.ws.sendBinary([1])
        _ = try junk.error("binary_unsupported")
        let utf = try server.raw()
        try utf.sendFrame(opcode: WSTestClient.Opcode.text, payload: [0xFF])
        _ = try utf.expectClose()
        try server.assertServing("mixed abuse")
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        _ = try room.fac.event("member.joined")
        _ = try room.fac.ack(["type": "member.remove", "member": .int(Int64(ann.id))])
        #expect(try ann.client.expectClose() == 4001)
    }
}
