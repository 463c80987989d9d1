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
            case "in_progress": status = .inProgress
            case "addressed": status = .addressed
            default: throw .invalidField("status", "must be open, in_progress or addressed")
            }
            // Absent: the owner stays; null: no owner any more.
            var owner: Int?? = nil
            if let v = f.object["owner"] { owner = v.isNull ? .some(nil) : .some(try f.id("owner")) }
            return .setBacklogStatus(try credentials(f), need: try f.id("need"), status, owner: owner)
        default:
            throw DomainError("unknown_type", "unknown request type \"\(String(type.unicodeScalars.prefix(64)))\"")
        }
    }

    /// Requests a member makes with their own `communityKey`, some also open to the facilitator (F|M).
    static func communityMemberCommand(_ type: String, _ f: Fields) throws(DomainError) -> Command {
        switch type {
        case "community.profile":
            let update = Command.MemberUpdate(
                name: try f.optionalString("name"), organization: try f.optionalString("organization"),
                expertise: try f.optionalStrings("expertise", maxCount: maxArray), bio: try f.optionalString("bio"))
            return .communityProfile(try memberCredentials(f), .init(update, listed: try f.optionalBool("listed")))
        case "community.directory":
            let limit = try f.optionalInt("limit") ?? 50
            guard (1...200).contains(limit) else { throw .invalidField("limit", "must be 1...200") }
            let offset = try f.optionalInt("offset") ?? 0
            guard (0...Int64(Int32.max)).contains(offset) else { throw .invalidField("offset", "must be 0 or more") }
            let need = (f.object["need"]?.isNull ?? true) ? nil : try f.id("need")
            return .communityDirectory(
                try eitherCredentials(f), .init(tag: try f.optionalString("tag"), need: need, limit: Int(limit), offset: Int(offset)))
        case "community.groups":
            guard let list = try f.optionalArray("groups", maxCount: maxArray) else { throw .invalidField("groups", "is required") }
            var specs: [Command.StandingGroupSpec] = []
            for (i, v) in list.enumerated() {
                guard let o = v.objectValue else { throw .invalidField("groups[\(i)]", "must be an object") }
                let g = Fields(object: o)
                do throws(DomainError) {
                    specs.append(
                        .init(
                            group: (g.object["group"]?.isNull ?? true) ? nil : try g.id("group"), name: try g.string("name"),
                            description: try g.optionalString("description") ?? "", focus: try ids(g, "focus", maxCount: maxArray),
                            members: try ids(g, "members", maxCount: maxRosterRows)))
                } catch {
                    throw DomainError(error.code, "groups[\(i)]." + error.message)
                }
            }
            return .communityGroups(try credentials(f), specs)
        case "community.view":
            return .communityView(try eitherCredentials(f))
        default:
            throw DomainError("unknown_type", "unknown request type \"\(String(type.unicodeScalars.prefix(64)))\"")
        }
    }

    /// An optional array of positive ids.
    static func ids(_ f: Fields, _ key: String, maxCount: Int) throws(DomainError) -> [Int] {
        var out: [Int] = []
        for (i, v) in (try f.optionalArray(key, maxCount: maxCount) ?? []).enumerated() {
            guard let n = v.intValue, n > 0, n < Int64(Int32.max) else { throw .invalidField("\(key)[\(i)]", "is not a valid id") }
            out.append(Int(n))
        }
        return out
    }

    /// (M): the member's personal key.
    static func memberCredentials(_ f: Fields) throws(DomainError) -> Community.Credentials {
        Community.Credentials(id: try f.string("community"), key: try f.string("communityKey"), asMember: true)
    }

    /// (F|M): the facilitator key or a member's key, not both.
    static func eitherCredentials(_ f: Fields) throws(DomainError) -> Community.Credentials {
        let hasFacilitator = f.object["facilitatorKey"] != nil
        if hasFacilitator && f.object["communityKey"] != nil { throw .invalidField("communityKey", "give facilitatorKey or communityKey, not both") }
        if hasFacilitator { return try credentials(f) }
        if f.object["communityKey"] == nil { throw .invalidField("facilitatorKey", "or communityKey is required") }
        return try memberCredentials(f)
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
