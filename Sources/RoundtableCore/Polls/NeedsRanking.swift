/// One need's place in the room's combined ranking.
public struct RankedNeed: Sendable, Hashable {
    /// The need's id.
    public var need: OptionID
    /// Mean normalized score over the polls that cover the need, in 0...1 (1 = best option of every such poll);
    /// 0 for uncovered needs.
    public var score: Double
    /// Mean of the normalized interval lows over the same polls.
    public var low: Double
    /// Mean of the normalized interval highs over the same polls; may exceed 1 when a poll's leader is uncertain.
    public var high: Double
    /// 1-based strict place: covered needs by score desc, support desc, id asc; then uncovered needs by id.
    public var rank: Int
    /// Ballots that touched the need, summed over the covering polls.
    public var support: Int
    /// Polls that cover the need (0: no poll has ranked it yet).
    public var polls: Int
    /// Whether another covered need has exactly the same score.
    public var tied: Bool

    /// A ranked need; `NeedsRanking.rank` builds these.
    public init(need: OptionID, score: Double, low: Double, high: Double, rank: Int, support: Int, polls: Int, tied: Bool) {
        self.need = need
        self.score = score
        self.low = low
        self.high = high
        self.rank = rank
        self.support = support
        self.polls = polls
        self.tied = tied
    }
}

/// Combines the room's polls over its needs into one ranked list of needs.
public enum NeedsRanking {
    /// Ranks `needs` (the room's current need ids) from the results of polls whose options are need ids.
    ///
    /// A poll covers a need when it has at least one ballot, is not an open poll, includes the need as an
    /// option, and discriminates (its best score is above the method's minimum). Each covering poll maps its
    /// scores to 0...1 by x ↦ (x − min)/(best − min), min = `PollResults.minimumScore` and best = the poll's
    /// top score, so that its best need gets 1 whatever the method's units; interval ends map the same way
    /// (lows clamped at 0). A need's score, low and high are the means over its covering polls — averaging
    /// the ends treats the polls' errors as fully correlated, the cautious choice. Needs no poll covers rank
    /// after all covered ones, by id. Needs of polls that are not in `needs` (removed ones) are ignored,
    /// and a repeated id in `needs` is ranked once.
    public static func rank(_ polls: [PollResults], needs: [OptionID]) -> [RankedNeed] {
        var totals: [OptionID: (score: Double, low: Double, high: Double, support: Int, polls: Int)] = [:]
        var wanted = Set<OptionID>()
        let ids = needs.filter { wanted.insert($0).inserted }
        for poll in polls where poll.ballots > 0 && poll.kind != .open {
            guard let best = poll.options.map(\.score).max(), best > poll.minimumScore else { continue }
            let span = best - poll.minimumScore
            for r in poll.options where wanted.contains(r.option) {
                var t = totals[r.option] ?? (0, 0, 0, 0, 0)
                t.score += (r.score - poll.minimumScore) / span
                t.low += max(0, (r.low - poll.minimumScore) / span)
                t.high += max(0, (r.high - poll.minimumScore) / span)
                t.support += r.support
                t.polls += 1
                totals[r.option] = t
            }
        }
        var covered: [PollMath.Scored] = []
        var uncovered: [OptionID] = []
        for id in ids {
            guard let t = totals[id] else { uncovered.append(id); continue }
            let c = Double(t.polls)
            covered.append(.init(option: id, score: t.score / c, low: t.low / c, high: t.high / c, support: t.support))
        }
        let pollsOf = totals.mapValues(\.polls)
        var out = PollMath.order(covered).map {
            RankedNeed(
                need: $0.option, score: $0.score, low: $0.low, high: $0.high,
                rank: $0.rank, support: $0.support, polls: pollsOf[$0.option]!, tied: $0.tied
            )
        }
        for id in uncovered.sorted() {
            out.append(RankedNeed(need: id, score: 0, low: 0, high: 0, rank: out.count + 1, support: 0, polls: 0, tied: false))
        }
        return out
    }
}
