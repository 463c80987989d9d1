import RoundtableCore

/// Community requests: each names the community and carries its facilitator key (no joined room needed).
extension RequestDecoder {
    /// Rows in one `community.import` members list; the coordinator also bounds the roster's bytes.
    public static let maxRosterRows = 20_000

    static func communityCommand(_ type: String, _ f: Fields) throws(DomainError) -> Command {
        switch type {
        case "community.create":
            return .createCommunity(name: try f.string("name"), createToken: try f.optionalString("createToken"))
        case "community.import":
            let cred = try credentials(f)
            if let csv = try f.optionalString("csv") {
                if f.object["members"] != nil { throw .invalidField("csv", "give either csv or members, not both") }
                return .importRoster(cred, .csv(csv))
            }
            guard let list = try f.optionalArray("members", maxCount: maxRosterRows) else { throw .invalidField("members", "or csv is required") }
            var rows: [Roster.Row] = []
            for (i, v) in list.enumerated() {
                guard let o = v.objectValue else { throw .invalidField("members[\(i)]", "must be an object") }
                let m = Fields(object: o)
                do throws(DomainError) {
                    rows.append(
                        Roster.Row(
                            name: try m.string("name"), organization: try m.optionalString("organization") ?? "",
                            expertise: try m.optionalStrings("expertise", maxCount: maxArray) ?? [], group: try m.optionalString("group") ?? ""))
                } catch {
                    throw DomainError(error.code, "members[\(i)]." + error.message)
                }
            }
            return .importRoster(cred, .rows(rows))
        case "community.export":
            return .exportCommunity(try credentials(f))
        case "community.reissueKey":
            return .reissueCommunityKey(try credentials(f), member: f.object["member"] == nil ? nil : try f.id("member"))
        case "community.needStatus":
            let status: BacklogStatus
            switch try f.string("status") {
            case "open": status = .open
            case "addressed": status = .addressed
            default: throw .invalidField("status", "must be open or addressed")
            }
            return .setBacklogStatus(try credentials(f), need: try f.id("need"), status)
        default:
            throw DomainError("unknown_type", "unknown request type \"\(String(type.unicodeScalars.prefix(64)))\"")
        }
    }

    static func credentials(_ f: Fields) throws(DomainError) -> Community.Credentials {
        Community.Credentials(id: try f.string("community"), key: try f.string("facilitatorKey"))
    }

    /// `room.create`'s optional community: `community` with the community's `facilitatorKey`.
    static func roomCommunity(_ f: Fields) throws(DomainError) -> Community.Credentials? {
        guard f.object["community"] != nil else { return nil }
        return try credentials(f)
    }
}
