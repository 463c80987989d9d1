import RoundtableCore
import RoundtableStore

extension RoundtableServer {
    /// `GET /communities/{id}/report.{json,csv,md}` with `Authorization: Bearer COMMUNITY_FACILITATOR_KEY`.
    ///
    /// The same rules and answers as room reports (`serveReport`): the header is checked before any lookup,
    /// an unknown id is a 404 and a wrong key a 401, as `community.export` also tells them apart.
    func serveCommunityReport(_ wsi: OpaquePointer, id rawID: String, file: String) -> Int32 {
        let format: ReportFormat, key: String
        switch reportPrelude(wsi, file: file, keyOwner: "the community's") {
        case .answered(let status): return status
        case .proceed(let f, let k): (format, key) = (f, k)
        }
        let id = Crockford.normalize(rawID)
        guard let community = coordinator.communities[id] else {
            return reportError(wsi, 404, "community_not_found", "no community has this id")
        }
        guard constantTimeEquals(SHA256Hasher().digest(key), community.facilitatorKeyHash) else {
            logger.notice("community report refused: wrong facilitator key", metadata: ["community": "\(id)"])
            return reportError(wsi, 401, "unauthorized", "this facilitator key is not valid for this community")
        }
        let facts = CommunityReport.sessionFacts(community, in: coordinator, dataDir: journal?.directory.path) { room in
            logger.error("community report: could not read an archived session", metadata: ["room": "\(room)"])
        }
        let report = CommunityReport(community: community, sessions: facts, generatedAt: wallClockMillis())
        let body = format.body(report)
        logger.info("community report exported", metadata: ["community": "\(id)", "format": "\(format.rawValue)", "bytes": "\(body.count)"])
        var headers: [(String, String)] = []
        if format != .json {
            headers.append(("content-disposition:", "attachment; filename=\"\(id)-report.\(format.rawValue)\""))
        }
        return respond(wsi, 200, format.contentType, body, extraHeaders: headers)
    }

}

extension CommunityReport {
    /// Title and attendance of each session: live rooms in place, archived ones read back from their file in
    /// `dataDir` (title only when the file cannot be read, so one damaged archive does not sink the whole
    /// report; `unreadable` hears of it). The report route and `roundtable export` both build it here.
    public static func sessionFacts(
        _ community: Community, in coordinator: Coordinator, dataDir: String?, unreadable: (String) -> Void
    ) -> [String: SessionFacts] {
        var facts: [String: SessionFacts] = [:]
        for s in community.sessions {
            if let live = coordinator.rooms[s.room] {
                facts[s.room] = .init(room: live)
            } else if let a = coordinator.archived[s.room] {
                if let dataDir, let room = try? Persistence.archivedRoom(in: dataDir, code: s.room, seq: a.seq) {
                    facts[s.room] = .init(room: room)
                } else {
                    unreadable(s.room)
                    facts[s.room] = .init(title: a.title, attendance: nil)
                }
            }
        }
        return facts
    }
}
