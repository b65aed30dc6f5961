"""Extract time with 50 ms of emulated latency per request, against the ideal.

    .venv/bin/python bench/extract_latency.py [--scale 10] [--latency-ms 50]

The emulated tenant runs in its own process and adds ``--latency-ms`` of server time to every
request. p2c extracts every entity the project declares (Sales pages of ``--page-size`` rows,
F&O server pages of ``--fno-page-size``), into a fresh staging file. The ideal is each
service's requests x latency / the parallelism p2c allows it (Sales: the service's dop hint,
F&O: the configured bound), the slower service deciding; the target is within 1.3x of it.
Small pages make requests, not rows, the work; the same extract without latency is timed
too, so the latency's own cost shows apart from the processing. Requests are every request p2c
sent (the clients' counts): the entities' pages and anything else, such as the one
``RetrieveTotalRecordCount`` a first read of Sales tables asks. Also printed: the floor set by
the longest chain of nextLinks (a Sales entity's pages follow one another; they cannot
overlap), which no client can beat.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from extract_common import BENCH_DIR, ENTITIES, seconds, serve  # noqa: E402
from extract.parallel import Parallelism  # noqa: E402
from extract.run import extract  # noqa: E402


def timed_extract(args, latency_ms: float) -> tuple[float, list, list, dict[str, int]]:
    """Serve the tenant with ``latency_ms``, extract every declared entity into a fresh file, time it."""
    served = serve(BENCH_DIR / f"s{args.scale}", scale=args.scale, latency_ms=latency_ms, dop_hint=args.dop_hint,
                   fno_page_size=args.fno_page_size)
    work = Path(tempfile.mkdtemp(prefix="p2c-bench-", dir=BENCH_DIR))
    clients = served.clients()
    entities = list(ENTITIES.values())
    try:
        with duckdb.connect(str(work / "latency.duckdb")) as con:
            start = time.perf_counter()
            summaries = extract(con, clients, entities, run_id=1, companies=["usmf", "demf"], page_size=args.page_size,
                                parallelism=Parallelism(args.max_parallel))
            elapsed = seconds(start)
            return elapsed, summaries, entities, {s: c.stats.requests for s, c in clients.items()}
    finally:
        for client in clients.values():
            client.close()
        served.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--page-size", type=int, default=50, help="Sales page size (small: requests dominate)")
    parser.add_argument("--fno-page-size", type=int, default=50, help="F&O server page size")
    parser.add_argument("--dop-hint", type=int, default=4, help="the x-ms-dop-hint the emulated Sales sends")
    parser.add_argument("--max-parallel", type=int, default=8)
    args = parser.parse_args()
    bare, _, _, _ = timed_extract(args, 0.0)
    elapsed, summaries, entities, requests = timed_extract(args, args.latency_ms)
    latency = args.latency_ms / 1000
    allowed = {"sales": min(args.max_parallel, args.dop_hint), "fno": args.max_parallel}
    ideal = max(requests[s] * latency / allowed[s] for s in allowed)
    chain = max((x for x, e in zip(summaries, entities) if e.system == "sales"), key=lambda x: x.requests, default=None)
    longest = chain.requests if chain else 0
    rows = sum(x.received for x in summaries)
    for s in allowed:
        print(f"{s:<6} {requests[s]:>5} requests at {args.latency_ms:g} ms, parallelism {allowed[s]}: "
              f"ideal {requests[s] * latency / allowed[s]:.2f} s")
    print(f"extract {len(entities)} entities, {rows:,} rows: {elapsed:.2f} s with {args.latency_ms:g} ms latency, "
          f"{bare:.2f} s without; ideal {ideal:.2f} s; ratio {elapsed / ideal:.2f}x (target <= 1.3x)")
    print(f"latency's own cost {elapsed - bare:.2f} s against the ideal {ideal:.2f} s: {(elapsed - bare) / ideal:.2f}x; "
          f"floor of the longest Sales chain ({longest} pages one after another): {longest * latency:.2f} s")
    if chain is not None:
        print(f"that chain ({chain.entity}) took {chain.seconds:.2f} s from its first request to its merge's end: "
              f"{chain.seconds / longest * 1000:.0f} ms a page against {args.latency_ms:g} ms of latency; "
              f"the extract's other {elapsed - chain.seconds:.2f} s came before or after it")


if __name__ == "__main__":
    main()
