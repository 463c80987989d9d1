import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// Issue "foundation": rooms and membership against the real server over real sockets.
// Each test starts its own server on an ephemeral port with a fresh data folder.

@Suite(.serialized) struct RoomsIntegrationTests {

    @Test func createAndJoinDeliverStateAndEvents() throws {
        let server = try TestServer.start()
        defer { server.stop() }

        let fac = try server.client()
        let created = try fac.ack(["type": "room.create", "title": "Water forum", "name": "Fay", "organization": "City"])
        let code = try created.string("room")
        #expect(code.count == 8)
        #expect(created["member"] == 1)
        #expect(created["role"] == "facilitator")
        #expect(try !created.string("facilitatorKey").isEmpty)
        #expect(try !created.string("token").isEmpty)
        let facState = try fac.event("room.state")
        #expect(facState["title"] == "Water forum")
        #expect(facState["room"] == .string(code))
        #expect(facState["you"]?["role"] == "facilitator")
        #expect(facState["members"]?.arrayValue?.count == 1)
        let seqAfterCreate = try facState.int("seq")
        #expect(seqAfterCreate == 2) // room.created + member.joined

        let ann = try server.client()
        let joined = try ann.ack(["type": "room.join", "room": .string(code), "name": "Ann", "organization": "NGO"])
        #expect(joined["member"] == 2)
        #expect(joined["role"] == "member")
        #expect(try !joined.string("token").isEmpty)
        #expect(joined["facilitatorKey"] == nil)
        let annState = try ann.event("room.state")
        #expect(annState.seq == seqAfterCreate + 1)
        let members = annState["members"]?.arrayValue ?? []
        #expect(members.count == 2)
        #expect(members.allSatisfy { $0["online"] == true })
        #expect(annState["you"]?["name"] == "Ann")

        let seen = try fac.nextEvent()
        #expect(seen.type == "member.joined")
        #expect(seen.seq == seqAfterCreate + 1)
        #expect(seen["room"] == .string(code))
        #expect(seen["member"]?["name"] == "Ann")
        #expect(seen["member"]?["organization"] == "NGO")
        #expect(seen["at"]?.stringValue?.hasSuffix("Z") == true)

        // Codes are case-insensitive (Crockford): a lowercase code joins the same room.
        let obs = try server.client()
        let asObserver = try obs.ack(["type": "room.join", "room": .string(code.lowercased()), "name": "Obi", "role": "observer"])
        #expect(asObserver["role"] == "observer")
        #expect(asObserver["room"] == .string(code))
        let third = try fac.nextEvent()
        #expect(third.type == "member.joined")
        #expect(third.seq == seqAfterCreate + 2)
        #expect(try ann.nextEvent().seq == seqAfterCreate + 2)

        // The facilitator key joins a second facilitator.
        let cofac = try server.client()
        let co = try cofac.ack([
            "type": "room.join", "room": .string(code), "name": "Cody", "role": "facilitator",
            "facilitatorKey": .string(try created.string("facilitatorKey")),
        ])
        #expect(co["role"] == "facilitator")
        withExtendedLifetime((fac, ann, obs, cofac)) {}
    }

    @Test func leaveBroadcastsAndRetiresTheToken() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        _ = try room.fac.event("member.joined")

        let left = try ann.client.ack(["type": "room.leave"])
        #expect(left["room"] == .string(room.code))
        let event = try room.fac.nextEvent()
        #expect(event.type == "member.left")
        #expect(event["member"] == .int(Int64(ann.id)))
        #expect(event["reason"] == "left")
        // No presence event follows a leave: the member is gone, not offline.
        #expect(try room.fac.drain(for: 0.3).filter { $0.type == "member.presence" }.isEmpty)

        // The connection is out of the room...
        #expect(try ann.client.errorCode(["type": "member.update", "bio": "x"]) == "not_joined")
        // ...and the token no longer resumes anywhere.
        let again = try server.client()
        #expect(try again.errorCode(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)]) == "bad_credentials")
        // The same connection may join again as a new member.
        let rejoined = try ann.client.ack(["type": "room.join", "room": .string(room.code), "name": "Ann again"])
        #expect(rejoined["member"] == 3)
        let state = try ann.client.event("room.state")
        #expect(state["members"]?.arrayValue?.count == 2)
        withExtendedLifetime(again) {}
    }

    @Test func resumeWithSinceReplaysMissedEventsGapFree() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        _ = try room.fac.event("member.joined")
        let lastSeen = try ann.state.int("seq")

        ann.client.close()
        let offline = try room.fac.nextEvent()
        #expect(offline.type == "member.presence")
        #expect(offline["member"] == .int(Int64(ann.id)))
        #expect(offline["online"] == false)
        _ = try room.fac.ack(["type": "member.update", "bio": "while Ann was away"])
        let updated = try room.fac.nextEvent()
        #expect(updated.type == "member.updated")

        let back = try server.client()
        let resumed = try back.ack([
            "type": "room.join", "room": .string(room.code), "token": .string(ann.token), "since": .int(Int64(lastSeen)),
        ])
        #expect(resumed["resumed"] == "events")
        #expect(resumed["member"] == .int(Int64(ann.id)))
        // Missed: presence offline, member.updated; then her own presence online. Gap-free, no room.state.
        var got: [Value] = []
        for _ in 0..<3 { got.append(try back.nextEvent()) }
        #expect(got.map(\.seq) == [lastSeen + 1, lastSeen + 2, lastSeen + 3])
        #expect(got.map(\.type) == ["member.presence", "member.updated", "member.presence"])
        #expect(got[2]["online"] == true)
        #expect(try back.drain(for: 0.3).filter { $0.type == "room.state" }.isEmpty)
        // The others see her come back.
        let online = try room.fac.nextEvent()
        #expect(online.type == "member.presence")
        #expect(online["online"] == true)
        #expect(online.seq == lastSeen + 3)
    }

    @Test func resumeWithoutSinceOrBeyondTheBufferSendsState() throws {
        let server = try TestServer.start { $0.limits.resumeBufferEvents = 4 }
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        let lastSeen = try ann.state.int("seq")
        ann.client.close()

        // Without since: state.
        let a = try server.client()
        let r1 = try a.ack(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)])
        #expect(r1["resumed"] == "state")
        let s1 = try a.event("room.state")
        #expect(s1["you"]?["id"] == .int(Int64(ann.id)))
        a.close()

        // More events than the buffer keeps: since is too old, so state again.
        for i in 0..<6 { _ = try room.fac.ack(["type": "member.update", "bio": .string("edit \(i)")]) }
        let b = try server.client()
        let r2 = try b.ack([
            "type": "room.join", "room": .string(room.code), "token": .string(ann.token), "since": .int(Int64(lastSeen)),
        ])
        #expect(r2["resumed"] == "state")
        let s2 = try b.event("room.state")
        #expect(try s2.int("seq") > lastSeen + 6)
        #expect(s2["members"]?.arrayValue?.first { $0["id"] == 1 }?["bio"] == "edit 5")

        // A since from the future cannot be served from the buffer either.
        b.close()
        let c = try server.client()
        let r3 = try c.ack([
            "type": "room.join", "room": .string(room.code), "token": .string(ann.token), "since": 1_000_000,
        ])
        #expect(r3["resumed"] == "state")
        _ = try c.event("room.state")
        withExtendedLifetime((room.fac, c)) {}
    }

    @Test func presenceIsSharedByTwoTabsOfOneMember() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let tab1 = try server.join(room.code, name: "Ann")
        let joined = try room.fac.nextEvent()
        #expect(joined.type == "member.joined")
        #expect(joined["member"]?["online"] == true)

        let tab2 = try server.client()
        let r = try tab2.ack(["type": "room.join", "room": .string(room.code), "token": .string(tab1.token)])
        #expect(r["member"] == .int(Int64(tab1.id)))
        #expect(r["resumed"] == "state")
        let state2 = try tab2.event("room.state")
        #expect(state2["members"]?.arrayValue?.first { $0["id"] == .int(Int64(tab1.id)) }?["online"] == true)

        // A second tab is not news: the next event anyone sees is the facilitator's own update.
        _ = try room.fac.ack(["type": "member.update", "bio": "marker 1"])
        let afterTab2 = try room.fac.nextEvent()
        #expect(afterTab2.type == "member.updated")
        #expect(afterTab2.seq == joined.seq! + 1)

        // Both tabs receive the member's broadcasts, including their own update made in the other tab.
        _ = try tab1.client.ack(["type": "member.update", "name": "Ann B."])
        for tab in [tab1.client, tab2] {
            let e = try tab.waitFor { $0.type == "member.updated" && $0["member"]?["id"] == .int(Int64(tab1.id)) }
            #expect(e["member"]?["name"] == "Ann B.")
        }
        _ = try room.fac.nextEvent() // Ann's update

        // Closing one tab leaves her online.
        tab1.client.close()
        _ = try room.fac.ack(["type": "member.update", "bio": "marker 2"])
        let afterClose1 = try room.fac.nextEvent()
        #expect(afterClose1.type == "member.updated")
        #expect(afterClose1["member"]?["id"] == 1)

        // Closing the last tab takes her offline.
        tab2.close()
        let offline = try room.fac.nextEvent()
        #expect(offline.type == "member.presence")
        #expect(offline["member"] == .int(Int64(tab1.id)))
        #expect(offline["online"] == false)
        #expect(offline.seq == afterClose1.seq! + 1)

        // And a fresh state shows her offline.
        let observer = try server.join(room.code, name: "Obi", role: "observer")
        #expect(observer.state["members"]?.arrayValue?.first { $0["id"] == .int(Int64(tab1.id)) }?["online"] == false)
    }

    @Test func memberUpdateIsBroadcastToEveryone() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        let bob = try server.join(room.code, name: "Bob")
        _ = try room.fac.waitFor { $0.type == "member.joined" && $0["member"]?["name"] == "Bob" }
        _ = try ann.client.event("member.joined")

        _ = try ann.client.ack([
            "type": "member.update", "name": "  Ann Lee  ", "organization": "Red Cross",
            "expertise": ["Water", "water", " Health "], "bio": "Hydrologist",
        ])
        for c in [room.fac, ann.client, bob.client] {
            let e = try c.event("member.updated")
            let m = e["member"]
            #expect(m?["id"] == .int(Int64(ann.id)))
            #expect(m?["name"] == "Ann Lee")
            #expect(m?["organization"] == "Red Cross")
            #expect(m?["expertise"] == ["water", "health"])
            #expect(m?["bio"] == "Hydrologist")
        }
        // A partial update keeps the other fields.
        _ = try ann.client.ack(["type": "member.update", "bio": "Now retired"])
        let e = try bob.client.event("member.updated")
        #expect(e["member"]?["name"] == "Ann Lee")
        #expect(e["member"]?["bio"] == "Now retired")
    }

    @Test func removeClosesEveryTabWith4001AndRetiresTheToken() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        let annTab2 = try server.client()
        _ = try annTab2.ack(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)])
        let bob = try server.join(room.code, name: "Bob")

        _ = try room.fac.ack(["type": "member.remove", "member": .int(Int64(ann.id))])
        let left = try bob.client.nextEvent()
        #expect(left.type == "member.left")
        #expect(left["member"] == .int(Int64(ann.id)))
        #expect(left["reason"] == "removed")
        #expect(try ann.client.expectClose() == 4001)
        #expect(try annTab2.expectClose() == 4001)

        let retry = try server.client()
        #expect(try retry.errorCode(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)]) == "bad_credentials")
        #expect(try room.fac.errorCode(["type": "member.remove", "member": .int(Int64(ann.id))]) == "member_not_found")
        #expect(try room.fac.errorCode(["type": "member.remove", "member": 99]) == "member_not_found")
        // Bob is unaffected and sees no presence event for a removed member.
        #expect(try bob.client.drain(for: 0.3).filter { $0.type == "member.presence" }.isEmpty)
        _ = try bob.client.ack(["type": "member.update", "bio": "still here"])
        withExtendedLifetime(retry) {}
    }

    @Test func facilitatorRemovingThemselvesGetsTheirReplyBeforeThe4001() throws {
        // docs/PROTOCOL.md: "Nothing stops a facilitator from removing another facilitator or
        // themselves", reply: empty ack. Every request gets a reply carrying its ref.
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        try room.fac.send(["type": "member.remove", "member": 1, "ref": "self"])
        var seen: [WSTestClient.Message] = []
        var replied = false
        var closeCode: UInt16?
        do {
            reading: while true {
                let m = try room.fac.ws.receive()
                seen.append(m)
                switch m {
                case .text(let t):
                    let v = try JSON.parse(t)
                    if v["ref"] == "self" { replied = true }
                case .close(let code, _):
                    closeCode = code
                    break reading
                default: continue
                }
            }
        } catch WSTestError.connectionClosed {}
        #expect(replied, "no reply to the facilitator's own member.remove before the close; got \(seen)")
        #expect(closeCode == 4001)
        let left = try ann.client.nextEvent()
        #expect(left.type == "member.left")
        #expect(left["member"] == 1)
        #expect(left["reason"] == "removed")
    }

    @Test func leavingDetachesEveryTabAndTheJoinTimeoutThenAppliesToAll() throws {
        // docs/PROTOCOL.md, room.leave: "every connection of the member (other tabs included) is
        // detached from the room", and a connection no longer in a room is closed by the join timeout.
        let server = try TestServer.start { $0.joinTimeoutSeconds = 1 }
        defer { server.stop() }
        let room = try server.createRoom()
        let tab1 = try server.join(room.code, name: "Ann")
        let tab2 = try server.client(timeout: 8)
        _ = try tab2.ack(["type": "room.join", "room": .string(room.code), "token": .string(tab1.token)])
        let tab3 = try server.client(timeout: 8)
        _ = try tab3.ack(["type": "room.join", "room": .string(room.code), "token": .string(tab1.token)])
        _ = try tab1.client.ack(["type": "room.leave"])
        // The other tabs learn it and are out of the room.
        for tab in [tab2, tab3] {
            let left = try tab.waitFor { $0.type == "member.left" }
            #expect(left["member"] == .int(Int64(tab1.id)))
        }
        #expect(try tab3.errorCode(["type": "member.update", "bio": "x"]) == "not_joined")
        // All tabs are now connections outside any room: the join timeout closes them, including
        // tab2, which says nothing after the leave.
        #expect(try tab1.client.expectClose(timeout: 4) == 1008)
        #expect(try tab3.expectClose(timeout: 4) == 1008)
        let code2: UInt16?? = try? tab2.expectClose(timeout: 4)
        #expect(code2 == 1008, "a silent other tab of a member who left was not closed by the join timeout")
        // The facilitator, still in the room, stays.
        _ = try room.fac.ack(["type": "member.update", "bio": "still in"])
    }

    @Test func rotateKeyInvalidatesTheOldKey() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")

        let rotated = try room.fac.ack(["type": "room.rotateKey"])
        let newKey = try rotated.string("facilitatorKey")
        #expect(newKey != room.facilitatorKey)
        let event = try ann.client.nextEvent()
        #expect(event.type == "room.keyRotated")
        #expect(event["facilitatorKey"] == nil) // the key itself never goes to members

        let old = try server.client()
        #expect(
            try old.errorCode([
                "type": "room.join", "room": .string(room.code), "name": "Mallory", "role": "facilitator",
                "facilitatorKey": .string(room.facilitatorKey),
            ]) == "bad_credentials")
        let ok = try old.ack([
            "type": "room.join", "room": .string(room.code), "name": "Cody", "role": "facilitator", "facilitatorKey": .string(newKey),
        ])
        #expect(ok["role"] == "facilitator")
        // The facilitator's own token still works: rotating the key does not log anyone out.
        let facTab = try server.client()
        let r = try facTab.ack(["type": "room.join", "room": .string(room.code), "token": .string(room.token)])
        #expect(r["role"] == "facilitator")
    }

    @Test func roomFullRefusesNewMembersButNotReturningOnes() throws {
        let server = try TestServer.start { $0.limits.maxMembersPerRoom = 3 }
        defer { server.stop() }
        let room = try server.createRoom()
        let ann = try server.join(room.code, name: "Ann")
        let bob = try server.join(room.code, name: "Bob")

        let carl = try server.client()
        #expect(try carl.errorCode(["type": "room.join", "room": .string(room.code), "name": "Carl"]) == "room_full")
        #expect(try carl.errorCode(["type": "room.join", "room": .string(room.code), "name": "Carl", "role": "observer"]) == "room_full")
        // A returning member (token) still gets in.
        let annTab2 = try server.client()
        _ = try annTab2.ack(["type": "room.join", "room": .string(room.code), "token": .string(ann.token)])
        // After someone leaves there is room again.
        _ = try bob.client.ack(["type": "room.leave"])
        let carlIn = try carl.ack(["type": "room.join", "room": .string(room.code), "name": "Carl"])
        #expect(carlIn["member"] == 4)
        withExtendedLifetime((room.fac, annTab2)) {}
    }

    @Test func httpRoutesServeHealthReadinessAndThePage() throws {
        let server = try TestServer.start()
        defer { server.stop() }

        let health = try server.get("/healthz")
        #expect(health.status == 200)
        let hv = try JSON.parse(String(decoding: health.body, as: UTF8.self))
        #expect(hv["status"] == "ok")
        #expect(hv["version"]?.stringValue?.isEmpty == false)

        let ready = try server.get("/readyz")
        #expect(ready.status == 200)
        #expect(try JSON.parse(String(decoding: ready.body, as: UTF8.self))["ready"] == true)

        let page = try String(contentsOfFile: repositoryRoot + "/web/index.html", encoding: .utf8)
        for path in ["/", "/r/ABCD1234", "/r/abcd-1234", "/index.html", "/?utm_source=mail", "/r/ABCD1234?lang=fr"] {
            let r = try server.get(path)
            #expect(r.status == 200, "\(path)")
            #expect(r.headers["content-type"]?.hasPrefix("text/html") == true, "\(path)")
            #expect(String(decoding: r.body, as: UTF8.self) == page, "\(path)")
        }
        #expect(try server.get("/ws").status == 426)

        // Nothing outside the web root, nothing hidden, nothing missing.
        for path in [
            "/../Package.swift", "/r/../../Package.swift", "/..%2fPackage.swift", "/%2e%2e/Package.swift",
            "/.git/config", "/../.git/HEAD", "/web/../../Package.swift", "/nope.html", "/../../../../etc/passwd",
        ] {
            let r = try server.get(path)
            #expect(r.status == 404 || r.status == 403 || r.status == 400, "\(path) answered \(r.status)")
            let body = String(decoding: r.body, as: UTF8.self)
            #expect(!body.contains("swift-tools-version") && !body.contains("root:") && !body.contains("[core]"), "\(path) leaked a file")
        }
        #expect(try server.get("/../Package.swift").status == 404)
        #expect(try server.get("/.git/config").status == 404)
    }

    @Test func shutdownSays1001AndARestartBringsTheRoomBack() throws {
        let dir = TestServer.freshDataDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try TestServer.start(dataDir: dir, removeDataOnStop: false) { $0.fsync = "always" }
        var code = ""
        var facToken = ""
        var annToken = ""
        var lastSeen = 0
        do {
            defer { first.stop() }
            let room = try first.createRoom(title: "Durable")
            let ann = try first.join(room.code, name: "Ann")
            _ = try ann.client.ack(["type": "member.update", "bio": "remember me", "expertise": ["soil"]])
            lastSeen = try room.fac.nextEvent().seq! // member.joined
            lastSeen = try room.fac.nextEvent().seq! // member.updated
            code = room.code
            facToken = room.token
            annToken = ann.token

            first.node.server.stop()
            #expect(try room.fac.expectClose() == 1001)
            #expect(try ann.client.expectClose() == 1001)
        }

        let second = try TestServer.start(dataDir: dir, removeDataOnStop: false) { $0.fsync = "always" }
        defer { second.stop() }
        let fac = try second.client()
        let r = try fac.ack(["type": "room.join", "room": .string(code), "token": .string(facToken), "since": .int(Int64(lastSeen))])
        #expect(r["member"] == 1)
        #expect(r["role"] == "facilitator")
        // The facilitator's own return is event restartSeq; the state (or the replayed events) ends there.
        var restartSeq = -1
        if r["resumed"] == "state" {
            let state = try fac.event("room.state")
            restartSeq = try state.int("seq")
            #expect(state["title"] == "Durable")
            let annProfile = state["members"]?.arrayValue?.first { $0["id"] == 2 }
            #expect(annProfile?["bio"] == "remember me")
            #expect(annProfile?["expertise"] == ["soil"])
            #expect(annProfile?["online"] == false)
        } else {
            #expect(r["resumed"] == "events")
            let seqs = try fac.drain(for: 0.5).compactMap(\.seq)
            #expect(seqs == Array((lastSeen + 1)..<(lastSeen + 1 + seqs.count)))
            restartSeq = seqs.last ?? lastSeen
        }
        // Seq continues: the facilitator's presence, plus at most the two presence-offline events of the shutdown.
        #expect(restartSeq >= lastSeen + 1 && restartSeq <= lastSeen + 3, "seq \(lastSeen) before, \(restartSeq) after restart")

        let ann = try second.client()
        let ra = try ann.ack(["type": "room.join", "room": .string(code), "token": .string(annToken)])
        #expect(ra["member"] == 2)
        let annState = try ann.event("room.state")
        let online = try fac.nextEvent()
        #expect(online.type == "member.presence")
        #expect(online["online"] == true)
        #expect(online.seq == restartSeq + 1, "no gap after restart: \(online)")
        #expect(annState.seq == online.seq)
        _ = try ann.ack(["type": "member.update", "bio": "after restart"])
        let upd = try fac.nextEvent()
        #expect(upd.type == "member.updated")
        #expect(upd.seq == online.seq! + 1)
        // The room is the only one and keeps its code: new members still join it.
        let carl = try second.client()
        #expect(try carl.ack(["type": "room.join", "room": .string(code), "name": "Carl"])["member"] == 3)
    }
}
