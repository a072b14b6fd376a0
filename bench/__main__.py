"""`make bench`: every benchmark at its default size, one after the other (about 10 minutes).

The larger runs are separate commands: `python -m bench.page_bench --full` (10^6 proposals)
and `python -m bench.export_bench --full` (10^6 cases). Results go to docs/benchmarks.md by hand.
"""
from bench import export_bench, page_bench, tally_bench, vote_bench

for name, run in (("tally", tally_bench.main), ("vote", vote_bench.main), ("page cost", page_bench.main),
                  ("CSV export", export_bench.main)):
    print(f"\n=== {name} ===", flush=True)
    run([])
