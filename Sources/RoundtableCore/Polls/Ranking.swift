extension PollTally {
    /// The results under the poll's own method (`rules.method`).
    public func results() -> PollResults { results(using: rules.method) }

    /// The results under `method`, or under the kind's default method if `method` does not apply to the
    /// poll's kind. B is the number of ballots, N the number of options, z = 1.96; intervals are clamped
    /// to the scores the method can produce. Worked examples are in `docs/RANKING.md`.
    ///
    /// - `count` (single, multi): score = ballots choosing the option. Interval: Wilson 95% interval for
    ///   the proportion score/B, times B (stays sensible at 0 or B, unlike score ± z·√…).
    /// - `points`: score = total points. Interval: score ± z·√(B·s²), s² the sample variance of the
    ///   option's per-ballot points (0 for ballots that skipped it), clamped to [0, B·budget].
    /// - `borda`: position p (0-based) of a ranking earns N−1−p; the options a partial ranking of k options
    ///   leaves out share the remaining points evenly, (N−k−1)/2 each, so every ballot hands out
    ///   N(N−1)/2 and ranking k = N−1 options equals ranking all N. score = total; interval as for points,
    ///   clamped to [0, B·(N−1)].
    /// - `meanRating`: with n ratings of sum S for the option, m the mean of all ratings in the poll
    ///   (the scale's midpoint before any rating) and k = `ratingPriorWeight`, score = (S + k·m)/(n + k).
    ///   Interval: score ± z·σ/√(n + k), σ² = (SS + k·v)/(n + k), SS the option's sum of squared deviations
    ///   and v the sample variance of all ratings in the poll, clamped to the scale.
    /// - `schulze`: d(a, b) = ballots ranking a above b (a ranked option is above every unranked one;
    ///   two unranked ones are not compared). Links carry margins d(a, b) − d(b, a) when positive;
    ///   p(a, b) is the strength of the widest path. score = number of options b with p(a, b) > p(b, a).
    ///   Interval: low = options a beats with p(a, b) − p(b, a) > z·√B, high = N−1 − options that beat a
    ///   by that much. √B is the standard deviation of the margin of B ballots flipping coins, so a win
    ///   inside it could be noise.
    /// - open polls: no options; `answers` lists each distinct answer with its count.
    ///
    /// For `points` and `borda` with fewer than two ballots, and `meanRating` with fewer than two ratings in
    /// the poll, there is no spread to measure and the interval is the whole feasible range.
    public func results(using method: RankingMethod) -> PollResults {
        let method = method.applies(to: rules.kind) ? method : rules.kind.defaultMethod
        if rules.kind == .open {
            let answers = self.answers.map { AnswerCount(text: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.text < $1.text }
            return PollResults(kind: .open, method: method, ballots: ballots, minimumScore: 0, options: [], answers: answers)
        }
        let scored: [PollMath.Scored]
        var minimum = 0.0
        switch method {
        case .count:
            scored = countScores()
        case .points:
            scored = additiveScores(scale: 1, feasibleMax: Double(ballots) * Double(rules.budget))
        case .borda:
            scored = additiveScores(scale: 0.5, feasibleMax: Double(ballots) * Double(rules.options.count - 1))
        case .meanRating:
            scored = ratingScores()
            minimum = Double(rules.scaleMin)
        case .schulze:
            scored = schulzeScores()
        }
        return PollResults(
            kind: rules.kind, method: method, ballots: ballots, minimumScore: minimum,
            options: PollMath.order(scored)
        )
    }

    private func countScores() -> [PollMath.Scored] {
        rules.options.enumerated().map { i, o in
            let (low, high) = PollMath.wilson(count: sum[i], n: ballots)
            return .init(option: o, score: Double(sum[i]), low: low, high: high, support: support[i])
        }
    }

    /// Totals of per-ballot contributions, stored as integers `1/scale` times the real contribution.
    private func additiveScores(scale: Double, feasibleMax: Double) -> [PollMath.Scored] {
        rules.options.enumerated().map { i, o in
            let score = Double(sum[i]) * scale
            guard let v = PollMath.sampleVariance(sum: sum[i], squares: sumOfSquares[i], n: ballots) else {
                return .init(option: o, score: score, low: 0, high: feasibleMax, support: support[i])
            }
            let half = PollMath.z * (Double(ballots) * v).squareRoot() * scale
            return .init(
                option: o, score: score,
                low: PollMath.clamp(score - half, 0, feasibleMax),
                high: PollMath.clamp(score + half, 0, feasibleMax),
                support: support[i]
            )
        }
    }

    private func ratingScores() -> [PollMath.Scored] {
        let lo = Double(rules.scaleMin), hi = Double(rules.scaleMax)
        let mean = allRatings > 0 ? Double(allRatingsSum) / Double(allRatings) : (lo + hi) / 2
        let k = rules.ratingPriorWeight
        let pooled = PollMath.sampleVariance(sum: allRatingsSum, squares: allRatingsSquares, n: allRatings)
        return rules.options.enumerated().map { i, o in
            let n = Double(support[i]), s = Double(sum[i])
            let weight = n + k
            guard weight > 0 else { return .init(option: o, score: mean, low: lo, high: hi, support: support[i]) }
            let score = (s + k * mean) / weight
            guard let pooled else { return .init(option: o, score: score, low: lo, high: hi, support: support[i]) }
            let deviations = n > 0 ? max(0, Double(sumOfSquares[i]) - s * s / n) : 0
            let sigma = ((deviations + k * pooled) / weight).squareRoot()
            let half = PollMath.z * sigma / weight.squareRoot()
            return .init(
                option: o, score: score,
                low: PollMath.clamp(score - half, lo, hi), high: PollMath.clamp(score + half, lo, hi),
                support: support[i]
            )
        }
    }

    /// Strongest paths by a Floyd–Warshall-style widest-path pass: O(N³), fine for `PollRules.maxOptions`.
    private func schulzeScores() -> [PollMath.Scored] {
        let n = rules.options.count
        var p = Array(repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where i != j {
                p[i * n + j] = max(0, pairwise[i * n + j] - pairwise[j * n + i])
            }
        }
        for k in 0..<n {
            for i in 0..<n where i != k {
                let viaK = p[i * n + k]
                if viaK == 0 { continue }
                for j in 0..<n where j != i && j != k {
                    let through = min(viaK, p[k * n + j])
                    if through > p[i * n + j] { p[i * n + j] = through }
                }
            }
        }
        let noise = PollMath.z * Double(ballots).squareRoot()
        return rules.options.enumerated().map { i, o in
            var wins = 0, clearWins = 0, clearLosses = 0
            for j in 0..<n where j != i {
                let advantage = p[i * n + j] - p[j * n + i]
                if advantage > 0 { wins += 1 }
                if Double(advantage) > noise { clearWins += 1 }
                if Double(-advantage) > noise { clearLosses += 1 }
            }
            return .init(
                option: o, score: Double(wins), low: Double(clearWins), high: Double(n - 1 - clearLosses),
                support: support[i]
            )
        }
    }
}
