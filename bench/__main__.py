"""`make bench`: every benchmark at a quick size, then one table of ratios against the targets.

    make bench                     # quick sizes, SQLite (about 10 minutes on 2 cores)
    make bench FULL=1              # large sizes: 10^6 proposals / 10^7 supports, 10 s load runs
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres make bench   # PostgreSQL too

`BENCH_POSTGRES_URL` names a database the benchmark may connect to as an owner: scratch
databases are created beside it and dropped. Each benchmark's own table is printed as it runs;
the summary at the end gives the ratios issue 14 sets targets for. Results go to
docs/benchmarks.md by hand, with the machine and the load average.
"""
from __future__ import annotations

import os
import platform
import sys

from bench import export_bench, fanout_bench, page_bench, request_cost, tally_bench, vote_bench


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str]) -> None:
    full = "--full" in argv or os.environ.get("FULL") not in (None, "", "0")
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    seconds = 10 if full else 3
    summary: list[tuple[str, str, str, str, str]] = []  # backend, measure, value, target, met
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average at start {_load()}", flush=True)

    print("\n=== tally ===", flush=True)
    tally_bench.main(["--repeat", "2"] if not full else [])

    for backend in backends:
        print(f"\n=== server CPU per request ({backend}) ===", flush=True)
        with vote_bench.scratch_database(backend) as url:
            rows = request_cost.measure(url, 1000 if full else 200)
        print("\n".join(request_cost.table(backend, rows)), flush=True)
        micro = {name: value for name, value, _statements, _floor in rows}
        vote = micro["vote (POST, 303)"] / micro["minimal insert (floor)"]
        summary.append((backend, "vote CPU / minimal insert CPU", f"{vote:.1f}×", "≤ 2×", _met(vote <= 2)))
        browser = micro["browser's vote (POST + page)"] / micro["minimal insert (floor)"]
        summary.append((backend, "browser's vote (POST + page) CPU / minimal insert", f"{browser:.1f}×", "—", "—"))
        for kind, floor in (("anonymous", "bare route (floor)"),
                            ("logged in", "bare route, same session cookie (floor)")):
            ratio = micro[f"no-op route, {kind}"] / micro[floor]
            summary.append((backend, f"no-op route ({kind}) / bare route, CPU", f"{ratio:.2f}×", "≤ 1.5×",
                            _met(ratio <= 1.5)))

        print(f"\n=== vote and page throughput under gunicorn ({backend}) ===", flush=True)
        with vote_bench.scratch_database(backend) as url:
            votes = vote_bench.bench_backend(url, seconds, 32)
        print("\n".join(vote_bench.load_table(backend, votes, "minimal insert")), flush=True)
        share = votes["cast a vote"]["rps"] / votes["minimal insert"]["rps"]
        p99 = votes["cast a vote"]["p99_ms"]
        summary.append((backend, "vote throughput / minimal insert (32 clients)", f"{share:.0%}", "≥ 50 %",
                        _met(share >= 0.5)))
        summary.append((backend, "vote p99 (32 clients)", f"{p99:.0f} ms", "< 100 ms", _met(p99 < 100)))
        with vote_bench.scratch_database(backend) as url:
            session_path, _item, _emails = vote_bench.prepare_assembly(url)
            extra = request_cost.extend_world(url)
            pages = {"proposal list": "/n/bench/proposals", "proposal page": f"/n/bench/p/{extra['proposal']}",
                     "session page": session_path, "case page": f"/cases/{extra['case']}",
                     "neighbourhood page": "/n/bench", "Atom feed": "/n/bench/feed.atom"}
            served = vote_bench.bench_pages(url, seconds, 16, pages)
            rendered = vote_bench.bench_pages(url, seconds, 16, pages, kept=False)
        print(f"\nvisitors (pages kept), 16 clients:\n" + "\n".join(vote_bench.load_table(backend, served, "trivial endpoint")),
              flush=True)
        print(f"\nrendered in full, 16 clients:\n" + "\n".join(vote_bench.load_table(backend, rendered, "trivial endpoint")),
              flush=True)
        trivial = served.pop("trivial endpoint")["rps"]
        for name, result in served.items():
            share = result["rps"] / trivial
            summary.append((backend, f"{name} throughput / trivial endpoint (16 clients, visitors)", f"{share:.0%}",
                            "≥ 20 %", _met(share >= 0.2)))
        trivial = rendered.pop("trivial endpoint")["rps"]
        for name, result in rendered.items():
            share = result["rps"] / trivial
            summary.append((backend, f"{name}, rendered in full, throughput / trivial endpoint", f"{share:.0%}",
                            "—", "—"))

        print(f"\n=== page cost against data size ({backend}) ===", flush=True)
        scale = page_bench.run(backend, full, 15 if full else 7)
        (small, large), (size_small, size_large) = (scale["small"], scale["large"]), scale["sizes"]
        # Server time: wall-clock in the serving process, which includes the database's own time
        # (PostgreSQL's server), with the serving process's CPU time beside it.
        worst = max(large, key=lambda name: large[name][0])
        over = [name for name in large if large[name][0] >= 50]
        summary.append((backend, f"every public URL at {size_large[0]:,} proposals, ms (worst: {worst})",
                        f"{large[worst][0]:.0f} ms (CPU {large[worst][1]:.0f} ms)", "< 50 ms", _met(not over)))
        # A search that finds nothing at the small size skips the statement that reads what the
        # found proposals show; those rows are compared at the large size only (page_bench.EMPTY_AT_SMALL).
        steady = all(small[name][2] == large[name][2] for name in small if name not in page_bench.EMPTY_AT_SMALL)
        summary.append((backend, f"statements at {size_small[0]:,} and {size_large[0]:,} proposals", "equal"
                        if steady else "differ", "equal", _met(steady)))

        print(f"\n=== notification fan-out ({backend}) ===", flush=True)
        with vote_bench.scratch_database(backend) as url:
            fan = fanout_bench.measure(url, 10_000)
        summary.append((backend, "fan-out to 10,000 followers", f"{fan['seconds']:.2f} s, {fan['statements']} "
                        "statements", "set-based", _met(fan["statements"] < 20)))

    # SQLite only: on PostgreSQL the export benchmark drops the schema of the database it is given
    # (`python -m bench.export_bench --backend postgresql`, see docs/benchmarks.md).
    print("\n=== CSV export (SQLite) ===", flush=True)
    export_bench.main(["--full"] if full else ["--sizes", "10000"])

    print(f"\n=== summary (load average at the end {_load()}) ===")
    print("| database | measure | value | target | met |")
    print("|---|---|---|---|---|")
    for row in summary:
        print("| " + " | ".join(row) + " |")


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


main(sys.argv[1:])
