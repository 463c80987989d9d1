"""Independent recomputations the test scripts check the server against (never the server's own code)."""


def borda(ballots, option_ids):
    """Borda with full rankings: position p of N earns N-1-p points (docs/RANKING.md)."""
    n = len(option_ids)
    scores = {o: 0.0 for o in option_ids}
    for b in ballots:
        for p, o in enumerate(b):
            scores[o] += n - 1 - p
    return scores
