import Foundation
import RoundtableCore
import RoundtableWire
import Testing

// The community report over real HTTP: the same auth rules, answers and path whitelist as room reports.
@Suite(.serialized) struct CommunityReportIntegrationTests {

    @Test func theFacilitatorGetsEachFormatAndNobodyElseDoes() throws {
        let server = try TestServer.start()
        defer { server.stop() }
        let admin = try server.client()
        let created = try admin.ack(["type": "community.create", "name": "Peer network"])
        let id = try created.string("community")
        let key = try created.string("facilitatorKey")
        let imported = try admin.ack([
            "type": "community.import", "community": .string(id), "facilitatorKey": .string(key),
            "members": [["name": "Ana", "organization": "Clinic", "expertise": ["grants"]], ["name": "Ben", "organization": "Hub", "expertise": ["Grants"]]],
        ])
        let anaKey = try (imported["members"]?.arrayValue ?? [])[0].string("communityKey")
        let fac = try server.client()
        let room = try fac.ack(["type": "room.create", "title": "February", "name": "Fay", "community": .string(id), "facilitatorKey": .string(key)])
        let code = try room.string("room")
        _ = try fac.event("room.state")
        let ana = try server.client()
        _ = try ana.ack(["type": "room.join", "room": .string(code), "communityKey": .string(anaKey)])
        _ = try ana.ack(["type": "need.submit", "text": "=cmd|' /C calc'!A0"])
        _ = try fac.ack(["type": "room.close"])

        func get(_ path: String, key: String?) throws -> HTTPTestClient.Response {
            try HTTPTestClient.get(port: server.port, path: path, headers: key.map { ["Authorization": "Bearer \($0)"] } ?? [:])
        }
        let base = "/communities/\(id)/report"
        let json = try get(base + ".json", key: key)
        #expect(json.status == 200 && json.headers["content-type"] == "application/json")
        let doc = try JSON.parse(json.body)
        #expect(doc["community"]?["name"] == "Peer network")
        #expect(doc["sessions"]?.arrayValue?.map { $0["title"] } == ["February"])
        #expect(doc["sessions"]?.arrayValue?.first?["attendance"] == 1)
        #expect(doc["backlog"]?.arrayValue?.first?["text"] == "=cmd|' /C calc'!A0")
        #expect(doc["expertise"] == [["tag": "grants", "members": 2]])

        let csv = try get(base + ".csv", key: key)
        #expect(csv.status == 200 && csv.headers["content-type"] == "text/csv; charset=utf-8; header=present")
        #expect(csv.headers["content-disposition"] == "attachment; filename=\"\(id)-report.csv\"")
        let csvText = String(decoding: csv.body, as: UTF8.self)
        #expect(csvText.contains("rank \(code)") && csvText.contains("1,'=cmd|' /C calc'!A0,"))

        let md = try get(base + ".md", key: key)
        #expect(md.status == 200 && md.headers["content-type"] == "text/markdown; charset=utf-8")
        #expect(String(decoding: md.body, as: UTF8.self).hasPrefix("# Peer network\n"))
        for body in [json.body, csv.body, md.body] {
            let text = String(decoding: body, as: UTF8.self)
            #expect(!text.contains(key) && !text.contains(anaKey) && !text.contains("Clinic"))
        }

        // Refusals, as room reports answer them: no key or a wrong one 401, an unknown id 404.
        let wrong = try get(base + ".json", key: "not-the-key")
        #expect(wrong.status == 401 && wrong.headers["www-authenticate"] != nil)
        #expect(try get(base + ".csv", key: nil).status == 401)
        #expect(try get(base + ".json", key: try room.string("facilitatorKey")).status == 401, "the session's key is not the community's")
        #expect(try get("/communities/CZZZZZZZZZ/report.json", key: key).status == 404)
        #expect(try get("/rooms/\(code)/report.json", key: key).status == 401, "and the community's key does not open a room report")

        // Path spellings: refused exactly where the room report's spelling is.
        for suffix in [";x", "&x", "%3Bx", "/x", ";x=1?y=2"] {
            let community = try get(base + ".json" + suffix, key: key)
            #expect(community.status == 404, "\(suffix) -> \(community.status)")
            #expect(try get("/rooms/\(code)/report.json" + suffix, key: key).status == 404)
        }
        for path in [
            "/communities/\(id)", "/communities/\(id)/", "/communities/\(id)/report.pdf", "/communities/\(id)/report.",
            "/communities/\(id)/%2e%2e/report.json", "/communities//report.json", "/communities/\(id)/x/report.json",
        ] {
            #expect(try get(path, key: key).status == 404, "\(path)")
        }
        // lws decodes `%2e` before the server sees the path, so this spelling is the canonical one for both.
        let dotted = try get(base + "%2ejson", key: key).status
        #expect(dotted == (try get("/rooms/\(code)/report%2ejson", key: room.string("facilitatorKey")).status))
        try server.assertServing("community report")
    }
}
