/// The ranked list of needs as facilitators see it, for exports.
///
/// `Coordinator.rankingValue(_:forFacilitator:)` builds the live `needs.ranking` notice from the same
/// inputs: every poll over needs that is not a draft, the room's active needs, and as helpers the current
/// members whose expertise shares a tag with the need (the live one lists the first `maxHelpersPerNeed` of
/// `helpers(for:)` and counts them all). Keep the two in step (ExportTests checks they agree).
extension Room {
    /// Polls that feed the facilitator's ranking: over needs and not drafts, by id.
    public var rankingPolls: [Poll] {
        polls.values.filter { $0.definition.overNeeds && $0.state != .draft }.sorted { $0.id < $1.id }
    }

    /// The facilitator's ranked list of the active needs.
    public var facilitatorRanking: [RankedNeed] {
        NeedsRanking.rank(rankingPolls.map { $0.tally.results() }, needs: activeNeeds.map(\.id))
    }

    /// Current members whose expertise shares a tag with the need, in joining order.
    public func helpers(for need: Need) -> [Member] {
        let tags = Set(need.tags)
        guard !tags.isEmpty else { return [] }
        return currentMembers(among: expertIDs).filter { !tags.isDisjoint(with: $0.expertise) }
    }

    /// An option's label: the need's text for polls over needs, else the facilitator's label.
    public func optionLabel(_ poll: Poll, _ option: OptionID) -> String {
        poll.definition.overNeeds ? (needs[option]?.text ?? "") : poll.definition.labels[safe: option - 1] ?? ""
    }
}
