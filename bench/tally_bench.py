"""Time the ranked (Schulze) tally of 100,000 ballots with 10 options.

Target (DESIGN.md, "Performance targets"): under 1 s. Run with
``.venv/bin/python -m bench.tally_bench [--ballots N] [--repeat R]``; prints timings, asserts nothing.

Scenarios:
- ``random_full``: every ballot an independent random full ranking, so nearly all 100,000
  ballots differ and aggregating identical ballots saves nothing (the worst case);
- ``clustered_partial``: ballots rank the top 1–5 options of a noisy common order, with ties,
  as a neighbourhood might vote (many identical ballots);
- ``recount_json``: ``json.loads`` of the published document plus ``tally_document``.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import time

from assembly.tally import Rules, ballots_document, tally, tally_document

OPTIONS = tuple(f"option-{number:02d}" for number in range(10))


def random_full(rng: random.Random, count: int) -> list:
    ballots = []
    for _ in range(count):
        order = list(OPTIONS)
        rng.shuffle(order)
        ballots.append([[option] for option in order])
    return ballots


def clustered_partial(rng: random.Random, count: int) -> list:
    ballots = []
    for _ in range(count):
        order = sorted(OPTIONS, key=lambda option: OPTIONS.index(option) + rng.gauss(0, 2))
        top = order[:rng.randint(1, 5)]
        ranks = [[top[0]]]
        for option in top[1:]:
            if rng.random() < 0.15:
                ranks[-1].append(option)  # a tie with the option above
            else:
                ranks.append([option])
        ballots.append(ranks)
    return ballots


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    rules = Rules("ranked", OPTIONS, electorate=2 * args.ballots, quorum_percent=10)
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{args.ballots:,} ballots, {len(OPTIONS)} options, best of {args.repeat}")
    for name, make in (("random_full", random_full), ("clustered_partial", clustered_partial)):
        ballots = make(rng, args.ballots)
        result = tally(rules, ballots)
        seconds = best_of(args.repeat, lambda: tally(rules, ballots))
        print(f"{name:18} {seconds:7.3f} s   winner {result.accepted[0]}")
    text = json.dumps(ballots_document(rules, ballots))
    seconds = best_of(args.repeat, lambda: tally_document(json.loads(text)))
    print(f"{'recount_json':18} {seconds:7.3f} s   ({len(text) / 1e6:.1f} MB of JSON)")


if __name__ == "__main__":
    main()
