/// One member's answer to a poll. Ballots carry no voter: the owner keeps who cast what, the tally only counts.
public enum Ballot: Sendable, Hashable {
    /// The chosen option.
    case single(OptionID)
    /// The chosen options, distinct.
    case multi([OptionID])
    /// A rating per rated option; options left out are not rated (not "rated lowest").
    case rating([OptionID: Int])
    /// Distinct options, best first; options left out rank below every listed one.
    case ranking([OptionID])
    /// Points per option; a missing option has zero points.
    case points([OptionID: Int])
    /// A free-text answer.
    case open(String)

    /// The kind of poll this ballot answers.
    public var kind: PollKind {
        switch self {
        case .single: .single
        case .multi: .multi
        case .rating: .rating
        case .ranking: .ranking
        case .points: .points
        case .open: .open
        }
    }

    /// The options this ballot supports, in ballot order (dictionaries: ascending id): the chosen,
    /// rated or ranked ones, and those given more than zero points. This is what `OptionResult.support` counts.
    public var touchedOptions: [OptionID] {
        switch self {
        case .single(let o): [o]
        case .multi(let os), .ranking(let os): os
        case .rating(let r): r.keys.sorted()
        case .points(let p): p.filter { $0.value > 0 }.keys.sorted()
        case .open: []
        }
    }

    /// This ballot after the options in `merged` (and `target` itself) became the single option `target`.
    ///
    /// A valid ballot stays valid against `PollRules.merging(merged, into: target)`:
    /// - single: the choice is renamed;
    /// - multi: renamed, later duplicates dropped (fewer choices never breaks `maxChoices`);
    /// - rating: the target gets the highest of the merged ratings, since the member valued that need at least that much;
    /// - ranking: the target takes the best position of the merged options, later duplicates dropped;
    /// - points: the merged points are summed (the total, and so the budget, is unchanged);
    /// - open: unchanged.
    public func remapped(merging merged: Set<OptionID>, into target: OptionID) -> Ballot {
        func map(_ o: OptionID) -> OptionID { merged.contains(o) ? target : o }
        switch self {
        case .single(let o):
            return .single(map(o))
        case .multi(let os):
            return .multi(Self.firstOccurrences(os.map(map)))
        case .ranking(let os):
            return .ranking(Self.firstOccurrences(os.map(map)))
        case .rating(let r):
            var out: [OptionID: Int] = [:]
            for (o, v) in r {
                let k = map(o)
                out[k] = max(out[k] ?? v, v)
            }
            return .rating(out)
        case .points(let p):
            var out: [OptionID: Int] = [:]
            for (o, v) in p { out[map(o), default: 0] += v }
            return .points(out)
        case .open:
            return self
        }
    }

    /// This ballot without `option`, or `nil` when nothing of it would be left to count (its only
    /// choice, rating, ranked option or non-zero points were on `option`).
    ///
    /// A valid ballot that survives stays valid against `PollRules.removing(option)`; a ranking closes
    /// the gap, so the options below move up one place.
    public func removing(_ option: OptionID) -> Ballot? {
        switch self {
        case .single(let o):
            return o == option ? nil : self
        case .multi(let os):
            let rest = os.filter { $0 != option }
            return rest.isEmpty ? nil : .multi(rest)
        case .ranking(let os):
            let rest = os.filter { $0 != option }
            return rest.isEmpty ? nil : .ranking(rest)
        case .rating(var r):
            r[option] = nil
            return r.isEmpty ? nil : .rating(r)
        case .points(var p):
            p[option] = nil
            return p.values.contains { $0 > 0 } ? .points(p) : nil
        case .open:
            return self
        }
    }

    private static func firstOccurrences(_ os: [OptionID]) -> [OptionID] {
        var seen = Set<OptionID>()
        return os.filter { seen.insert($0).inserted }
    }
}
