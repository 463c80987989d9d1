/// The expertise directory: who knows what, from what members disclosed by name (their profile and the interview
/// highlights they accepted). Never from ballots, notes, keys or roster groups.
extension Community {
    public struct DirectoryEntry: Sendable, Hashable {
        public var member: CommunityMember
        /// The expertise tags or highlight texts that matched, in profile order.
        public var matches: [String]
    }

    /// Listed members, filtered by `tag` (an expertise tag or highlight containing it, case ignored) and/or by who
    /// can help with `need` (an expertise tag equal to one of the need's tags or found as a word or phrase in its
    /// text); both given, a member must match both. Most matches first, then by name.
    public func directory(tag: String?, need: BacklogNeed?) -> [DirectoryEntry] {
        let query = tag.map { $0.trimmingWhitespace().lowercased() }.flatMap { $0.isEmpty ? nil : $0 }
        let needTags = Set((need?.tags ?? []).map { $0.trimmingWhitespace().lowercased() })
        let needText = need?.text.lowercased() ?? ""
        // Members share tags: each distinct tag is judged once per query (5,000 members, a few dozen tags).
        var tagHas: [String: Bool] = [:]
        var tagHelps: [String: Bool] = [:]
        var out: [DirectoryEntry] = []
        for m in members.values where m.listed {
            var matches: [String] = []
            if let query {
                for t in m.expertise {
                    let has = tagHas[t] ?? t.lowercased().contains(query)
                    tagHas[t] = has
                    if has { matches.append(t) }
                }
                matches += m.highlights.filter { $0.lowercased().contains(query) }
                if matches.isEmpty { continue }
            }
            if need != nil {
                let helps = m.expertise.filter { tag in
                    if let known = tagHelps[tag] { return known }
                    let t = tag.trimmingWhitespace().lowercased()
                    let helps = !t.isEmpty && (needTags.contains(t) || Self.contains(phrase: t, in: needText))
                    tagHelps[tag] = helps
                    return helps
                }
                if helps.isEmpty { continue }
                for t in helps where !matches.contains(t) { matches.append(t) }
            }
            out.append(DirectoryEntry(member: m, matches: matches))
        }
        // Sort keys made once per entry, not once per comparison (thousands of entries on a large roster).
        let keyed = out.map { (e: $0, name: $0.member.name.lowercased()) }
        return keyed.sorted { x, y in
            if x.e.matches.count != y.e.matches.count { return x.e.matches.count > y.e.matches.count }
            return x.name != y.name ? x.name < y.name : x.e.member.id < y.e.member.id
        }.map(\.e)
    }

    /// Whether `phrase` occurs in `text` as whole words ("data" in "better data systems", not in "database").
    static func contains(phrase: String, in text: String) -> Bool {
        func isWord(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber } ?? false }
        for r in text.ranges(of: phrase) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? nil : text[r.upperBound]
            if !isWord(before) && !isWord(after) { return true }
        }
        return false
    }
}
