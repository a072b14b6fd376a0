"""How far the vote's CPU could fall if the request's framework parts cost nothing: an upper bound.

The vote costs about 3–4× the minimal insert's server CPU on SQLite; the issue's Build item asks
for about 2×. The parts a vote pays that are not its own work and that could be replaced by code of
ours are the CSRF check (Flask-WTF: the token unsigned with itsdangerous, the form parsed), the
session cookie (opened: HMAC, zlib, JSON; the login read from it) and Flask-Limiter's hooks. This
benchmark measures the re-vote of `bench.request_cost` in five apps side by side:

- *as is*;
- *no CSRF check*: `WTF_CSRF_ENABLED` off (the form still carries its token);
- *session decoded once*: each cookie opened once, then the same session given back at no cost,
  and none written (no replacement can be cheaper than that);
- *no limiter*: Flask-Limiter switched off;
- *all three*.

Only a measuring device: none of these switches may be made in the product. The rounds alternate
between the apps and the floor (`bench.minimal_app`), and each round's ratio is taken against the
floor of that round, so a noisy machine (a virtual one, whose CPU clock varies by half between
minutes) moves the ratios less than the times. Prints the median ratio and its quartiles.

    .venv/bin/python -m bench.vote_ceiling [--rounds 16] [--votes 200]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from flask.sessions import SecureCookieSessionInterface

from bench.request_cost import _call, csrf_token, environ, session_cookie
from bench.vote_bench import assembly_env, prepare_assembly, scratch_database

VARIANTS = ("as is", "no CSRF check", "session decoded once", "no limiter", "all three")


class _DecodedOnce(SecureCookieSessionInterface):
    """Each cookie opened once; later requests with it get its session at no cost; nothing saved."""

    def __init__(self) -> None:
        self.opened: dict = {}

    def open_session(self, app, request):
        raw = request.cookies.get(self.get_cookie_name(app))
        if raw not in self.opened:
            self.opened[raw] = super().open_session(app, request)
        return self.session_class(self.opened[raw])

    def save_session(self, app, session, response) -> None:
        return None


def _voting_app(url: str, variant: str, session_path: str, item_id: int, emails: list[str]):
    from assembly import create_app

    app = create_app({"DATABASE_URL": url, "PAGE_CACHE_SECONDS": 0})
    voters = [session_cookie(app, email) for email in emails[:16]]
    tokens = [csrf_token(app, cookie, session_path) for cookie in voters]
    if variant in ("no CSRF check", "all three"):
        app.config["WTF_CSRF_ENABLED"] = False
    if variant in ("session decoded once", "all three"):
        app.session_interface = _DecodedOnce()
    if variant in ("no limiter", "all three"):
        for limiter in app.extensions["limiter"]:
            limiter.enabled = False
    choices = ("yes", "no", "abstain")

    def vote(number: int) -> dict:
        which = number % len(voters)
        return environ(session_path + "/vote", "POST", voters[which],
                       {"csrf_token": tokens[which], f"item-{item_id}": choices[number % 3]})

    return app, vote


def measure(url: str, rounds: int, votes: int) -> dict[str, list[tuple[float, float]]]:
    """Per app: (ratio to the floor of the round, µs) of each round."""
    from bench.minimal_app import create_minimal_app, create_tables

    session_path, item_id, emails = prepare_assembly(url)
    create_tables(url)
    os.environ.update(assembly_env(url))
    os.environ["BENCH_DATABASE_URL"] = url
    targets = {"minimal insert": (create_minimal_app(), lambda number: environ("/vote", "POST"))}
    for variant in VARIANTS:
        targets[variant] = _voting_app(url, variant, session_path, item_id, emails)
    for name, (app, make) in targets.items():  # warm up, and check that every vote is taken
        for number in range(300):
            status = _call(app, make(number))[0]
            if not status.startswith(("200", "303")):
                raise SystemExit(f"{name}: the vote answered {status}")
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _round in range(rounds):
        micro = {}
        for name, (app, make) in targets.items():
            requests = [make(number) for number in range(votes)]
            started = time.process_time()
            for request in requests:
                _call(app, request)
            micro[name] = (time.process_time() - started) / votes * 1e6
        for name, value in micro.items():
            measured[name].append((value / micro["minimal insert"], value))
    for app, _make in targets.values():
        if "assembly_db" in app.extensions:
            app.extensions["assembly_db"].engine.dispose()
    return measured


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--votes", type=int, default=200)
    args = parser.parse_args(argv)
    with scratch_database("sqlite") as url:
        measured = measure(url, args.rounds, args.votes)
    print("| sqlite | app | CPU µs per vote (median) | × the minimal insert (median, quartiles) |")
    print("|---|---|---:|---:|")
    for name, rows in measured.items():
        ratios = statistics.quantiles([ratio for ratio, _micro in rows], n=4)
        print(f"| sqlite | {name} | {statistics.median(micro for _ratio, micro in rows):,.0f} | "
              f"{statistics.median(ratio for ratio, _micro in rows):.2f}× ({ratios[0]:.2f}–{ratios[2]:.2f}×) |",
              flush=True)


if __name__ == "__main__":
    main()
