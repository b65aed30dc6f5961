"""Landing throughput, peak memory, and p2c against dlt's rest_api source, on one 1M-row entity.

    .venv/bin/python bench/extract_throughput.py [--scale 5000] [--rounds 1]

The emulated tenant (zero latency) runs in its own process; at the default scale Sales
accounts has 1,000,000 rows (200 per scale unit; seeding it the first time takes minutes,
the tenant is kept in /tmp/p2c-bench). In this process, in turn:

- p2c extracts ``sales.accounts`` (the project's declared columns) into a fresh staging file:
  rows/s from the first request to the committed and checkpointed raw table (target >= 100,000
  rows/s; a checkpoint, as closing the file after `p2c extract` does, is timed too), this
  process's CPU seconds, and its peak RSS during the extract (target <= 500 MB); also the
  emulator process's CPU seconds serving it, and the rows/s that alone allows on 2 cores;
- p2c extracts it again with nothing changed: requests and seconds (target: 1 request, < 5 s);
- dlt's ``rest_api`` source pulls the same entity set, same ``$select`` and page size, with a
  bearer token from msal, following ``@odata.nextLink``, into a DuckDB file (its ``jsonl``
  loader format, faster here than its default ``insert_values``): rows/s and the p2c/dlt
  ratio (target >= 3x). dlt reads the first ``--dlt-pages`` pages only (default 20, 100,000
  rows): at its rate here the whole entity would take most of an hour.

All figures come from this one run; the machine is shared, so compare the ratio rather than
absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from extract_common import BENCH_DIR, ENTITIES, peak_rss_mb, reset_peak_rss, seconds, serve  # noqa: E402
from extract.parallel import Parallelism  # noqa: E402
from extract.run import SALES_PAGE_SIZE, extract, first_request  # noqa: E402

ACCOUNTS = ENTITIES[("sales", "accounts")]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_p2c(served, work: Path) -> dict:
    database = work / "p2c.duckdb"
    database.unlink(missing_ok=True)
    clients = served.clients()
    con = duckdb.connect(str(database))
    try:
        reset_peak_rss()
        cpu, served_cpu, start = cpu_s(), process_cpu_s(served.process.pid), time.perf_counter()
        summary, = extract(con, clients, [ACCOUNTS], run_id=1, companies=[], parallelism=Parallelism())
        extracted = seconds(start)
        con.execute("CHECKPOINT")  # what closing the staging file does after `p2c extract` (the first load's commit did it: ~0 s)
        elapsed = seconds(start)
        landed = con.execute("select count(*) from raw_sales.accounts").fetchone()[0]
        figures = {"rows": landed, "seconds": elapsed, "checkpoint_s": elapsed - extracted, "rows_per_s": landed / elapsed, "cpu_s": cpu_s() - cpu,
                   "emulator_cpu_s": process_cpu_s(served.process.pid) - served_cpu, "load": os.getloadavg()[0],
                   "peak_rss_mb": peak_rss_mb(), "requests": summary.requests}
        start = time.perf_counter()  # (d) nothing changed since: one delta request
        again, = extract(con, clients, [ACCOUNTS], run_id=2, companies=[], parallelism=Parallelism())
        figures["quiet"] = {"seconds": seconds(start), "requests": again.requests, "read": again.read,
                            "changes": again.new + again.changed + again.deleted}
        return figures
    finally:
        con.close()
        for client in clients.values():
            client.close()


def run_dlt(served, work: Path, pages: int) -> dict:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ["REQUESTS_CA_BUNDLE"] = served.ca  # dlt talks through requests
    import dlt
    from dlt.sources.rest_api import rest_api_source

    url, params, headers = first_request(ACCOUNTS, [], SALES_PAGE_SIZE)
    headers = {**headers, "Prefer": f"odata.maxpagesize={SALES_PAGE_SIZE}", "Accept": "application/json"}
    source = rest_api_source({
        "client": {
            "base_url": served.sales + "/api/data/v9.2/",
            "auth": {"type": "bearer", "token": served.token(served.sales)},
            "headers": headers,
            "paginator": {"type": "json_link", "next_url_path": "['@odata.nextLink']"},
        },
        "resources": [{"name": "accounts", "endpoint": {"path": "accounts", "params": params, "data_selector": "value"}}],
    })
    if pages:
        source.add_limit(pages)  # dlt at its pace on 1M rows would take the better part of an hour here
    database = work / "dlt.duckdb"
    database.unlink(missing_ok=True)
    pipeline = dlt.pipeline(pipeline_name="p2c_bench", destination=dlt.destinations.duckdb(str(database)),
                            dataset_name="raw", pipelines_dir=str(work / "dlt-pipelines"))
    start = time.perf_counter()
    pipeline.run(source, write_disposition="replace", loader_file_format="jsonl")  # its fastest duckdb format here
    elapsed = seconds(start)
    with duckdb.connect(str(database), read_only=True) as con:
        landed = con.execute("select count(*) from raw.accounts").fetchone()[0]
    return {"rows": landed, "seconds": elapsed, "rows_per_s": landed / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=5000, help="tenant scale (200 accounts per unit)")
    parser.add_argument("--rounds", type=int, default=1, help="p2c/dlt pairs to run")
    parser.add_argument("--dlt-pages", type=int, default=20, help="pages dlt reads (0: all); 5,000 rows each")
    parser.add_argument("--skip-dlt", action="store_true")
    args = parser.parse_args()
    served = serve(BENCH_DIR / f"s{args.scale}", scale=args.scale)
    work = Path(tempfile.mkdtemp(prefix="p2c-bench-", dir=BENCH_DIR))
    try:
        for round_ in range(1, args.rounds + 1):
            p2c = run_p2c(served, work)
            print(f"round {round_}  p2c  sales.accounts  {p2c['rows']:>9,} rows  {p2c['seconds']:6.1f} s  "
                  f"{p2c['rows_per_s']:>9,.0f} rows/s (target >= 100,000; closing checkpoint {p2c['checkpoint_s']:.1f} s)  {p2c['requests']} requests  "
                  f"client CPU {p2c['cpu_s']:.1f} s ({p2c['rows'] / p2c['cpu_s']:,.0f} rows per CPU s)  "
                  f"peak RSS {p2c['peak_rss_mb']:.0f} MB (target <= 500)", flush=True)
            print(f"round {round_}  emulator CPU {p2c['emulator_cpu_s']:.1f} s serving it (its own ceiling on 2 cores: "
                  f"{2 * p2c['rows'] / p2c['emulator_cpu_s']:,.0f} rows/s); load average {p2c['load']:.1f}", flush=True)
            quiet = p2c["quiet"]
            print(f"round {round_}  p2c  sales.accounts  again, nothing changed: {quiet['requests']} request(s) "
                  f"({quiet['read']}), {quiet['changes']} changes, {quiet['seconds']:.2f} s (target <= 1 request, < 5 s)",
                  flush=True)
            if args.skip_dlt:
                continue
            theirs = run_dlt(served, work, args.dlt_pages)
            print(f"round {round_}  dlt  sales.accounts  {theirs['rows']:>9,} rows  {theirs['seconds']:6.1f} s  "
                  f"{theirs['rows_per_s']:>9,.0f} rows/s", flush=True)
            print(f"round {round_}  p2c/dlt throughput ratio {p2c['rows_per_s'] / theirs['rows_per_s']:.1f}x (target >= 3x)",
                  flush=True)
    finally:
        served.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
