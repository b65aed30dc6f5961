"""Emulator cost to serve a 5,000-row page, against the client's cost to parse and land it.

    .venv/bin/python bench/page_cost.py [--repeat N]

For a Dataverse page (the extractor's accounts request) and an F&O page (sales order lines,
every column), prints medians in milliseconds and the ratios; all figures come from this
one run. `server` is the emulator's own time per page, from the `server-timing: dur=<ms>`
header both emulated services send; `round trip` adds TLS, transfer and the client's HTTP
stack (client and server share this process). The first request of each page is left out
(it builds the page's row texts); `cold` is its server time. The repeats start once the
emulator's read-ahead (started by the first request) is done.

Then cold sequential scans, as an extraction pass sees them: a freshly opened tenant of
`--scan-scale` (kept in /tmp/p2c-bench: seeding takes a minute), every page of accounts read with the extractor's request and json.loads-ed
before the next is asked for, each pass on a freshly reopened tenant, `--scan-rounds` rounds of
three kinds of pass: `never served` (a tenant that never served this scan: nothing to warm at
start, no page body stored), `restarted` (it served the scan before it was stopped, so its
pages' bodies are stored in its state directory, emulate/json_cache.py `PageTexts`, and its
start-up warm-up reads the first pages, emulate/warm_up.py; the tenant's start time, printed
too, includes it) and `read-ahead off` (never served, no background work). Last, the
least a never-served page can cost: its body's query alone, timed on the store.
Per kind: the first page's server time and the following pages' (median, p90), as ratios to
the client's json.loads median of the same pages, and the whole scans' server time over their
json.loads time (what decides whether the emulator holds a scan back). A summary of every ratio ends the report.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulate import warm_up  # noqa: E402
from emulate.dataverse.reads import page_queries  # noqa: E402
from emulate.catalog import FNO_ENTITY_SETS  # noqa: E402
from emulate.settings import EmulatorSettings  # noqa: E402
from emulate.tenant import PAGE_TEXTS, EmulatedTenant  # noqa: E402
from extract.auth import MsalAuth, build_msal_app  # noqa: E402
from extract.http import make_client  # noqa: E402
from extract.land import PageSpool  # noqa: E402
from extract.registry import load_project_registry  # noqa: E402
from extract.run import first_request  # noqa: E402

PAGE_ROWS = 5000
SCALE = 60  # about 200 accounts and 85 F&O order lines per scale unit: a full page of each
SCAN_SCALE = 1000  # 200,000 accounts: forty pages, deep enough into a table that page order in the file matters
SCAN_DIR = Path("/tmp/p2c-bench")  # the scan tenant is seeded once and kept (as the extract benchmarks keep theirs)
FNO_LINES = "CDSSalesOrderLines"


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def server_ms(response: httpx.Response) -> float:
    match = re.search(r"dur=([\d.]+)", response.headers.get("server-timing", ""))
    if match is None:
        raise SystemExit("the emulator sent no server-timing header")
    return float(match.group(1))


class PageCost:
    """Serve one page `repeat` times (after a cold first request) and time the client's work on it."""

    def __init__(self, client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]) -> None:
        self.client, self.url, self.params, self.headers = client, url, params, headers

    def fetch(self) -> httpx.Response:
        response = self.client.get(self.url, params=self.params, headers=self.headers)
        response.raise_for_status()
        return response

    def measure(self, repeat: int, land: Callable[[bytes], object] | None, settle: Callable[[], object] = lambda: None) -> dict[str, float]:
        first = self.fetch()
        settle()  # the emulator's background work for the first request (reading ahead) is not the page's cost
        body = first.content
        rows = len(json.loads(body)["value"])
        assert rows == PAGE_ROWS, f"expected a full page of {PAGE_ROWS}, got {rows}"
        servers: list[float] = []
        round_trip = median_ms(lambda: servers.append(server_ms(self.fetch())), repeat)
        figures = {"cold": server_ms(first), "server": statistics.median(servers), "round trip": round_trip,
                   "parse": median_ms(lambda: json.loads(body), repeat), "megabytes": len(body) / 1e6}
        if land is not None:
            figures["land"] = median_ms(lambda: land(body), repeat)
        return figures


def settled(tenant: EmulatedTenant, timeout_s: float = 30.0) -> None:
    """Wait until both services' read-ahead workers are idle."""
    deadline = time.monotonic() + timeout_s
    while (tenant.sales.read_ahead.pending or tenant.fno.read_ahead.pending) and time.monotonic() < deadline:
        time.sleep(0.01)


def report(title: str, figures: dict[str, float]) -> None:
    parse, server = figures["parse"], figures["server"]
    print(f"{title}: {PAGE_ROWS} rows, {figures['megabytes']:.1f} MB")
    print(f"  emulator server time (server-timing):   {server:8.1f} ms   server/parse = {server / parse:.2f}")
    print(f"  emulator server time, first request:    {figures['cold']:8.1f} ms   cold/parse   = {figures['cold'] / parse:.2f}")
    print(f"  round trip (request to last byte, TLS): {figures['round trip']:8.1f} ms   trip/parse   = {figures['round trip'] / parse:.2f}")
    print(f"  client json.loads of the page:          {parse:8.1f} ms")
    if "land" in figures:
        print(f"  client landing of the page in DuckDB:   {figures['land']:8.1f} ms   server/land  = {server / figures['land']:.2f}")


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile, interpolated between the sorted values."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def cold_scan(state_dir: Path, accounts, read_ahead: bool) -> dict[str, list[float]]:
    """Every accounts page of a freshly opened tenant, read as a client would: (server ms, json.loads ms) per page."""
    figures: dict[str, list[float]] = {"server": [], "parse": []}
    started = time.perf_counter()
    with EmulatedTenant.start(state_dir, settings=EmulatorSettings(read_ahead=read_ahead)) as tenant:
        figures["start"] = [(time.perf_counter() - started) * 1000]
        msal_app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
        with make_client(tenant.sales_url, MsalAuth(msal_app, tenant.sales_url), ca_file=tenant.ca_file) as sales:
            url, params, headers = first_request(accounts, [])
            while url:
                response = sales.get(url, params=params, headers=headers)
                response.raise_for_status()
                started = time.perf_counter()
                page = json.loads(response.content)
                figures["parse"].append((time.perf_counter() - started) * 1000)
                figures["server"].append(server_ms(response))
                url, params = page.get("@odata.nextLink"), None
    return figures


def render_floor(state_dir: Path, accounts, repeat: int) -> float:
    """Median ms of building the first accounts page's body (the extractor's request) by its query alone: DuckDB's
    json_object over 5,000 rows, the least a page never served can cost, on a warm tenant."""
    with EmulatedTenant.start(state_dir, settings=EmulatorSettings(read_ahead=False)) as tenant:
        queries = page_queries("accounts", first_request(accounts, [])[1]["$select"], None, None, None, None, PAGE_ROWS, 0, False)
        store = tenant.sales.store
        with store.snapshot() as cur:
            last = cur.execute(queries.first_summary).fetchone()[4]  # the page's last key: its rows are those up to it
            return median_ms(lambda: b",".join(text for text, in cur.execute(queries.body, [last]).fetchall()), repeat)


SCAN_KINDS = {"never served": True, "restarted": True, "read-ahead off": False}  # kind -> read-ahead


def scan_ratios(figures: dict[str, list[float]]) -> dict[str, float]:
    """A kind's server times as ratios to the median json.loads of its pages."""
    loads = statistics.median(figures["parse"])
    return {"loads ms": loads, "first": statistics.median(figures["first"]) / loads,
            "p50": statistics.median(figures["following"]) / loads, "p90": percentile(figures["following"], 0.9) / loads,
            "scan": sum(figures["server"]) / sum(figures["parse"])}


def report_scan(rounds: dict[str, dict[str, list[float]]], pages: int) -> None:
    print(f"Cold sequential scans of accounts (extractor request, {pages} pages a pass, freshly reopened tenant each pass)")
    for kind, figures in rounds.items():
        loads = statistics.median(figures["parse"])
        print(f"  {kind}: client json.loads median {loads:5.1f} ms; tenant start (open, warm-up, serve) median "
              f"{statistics.median(figures['start']):5.1f} ms")
        for title, server in (("first page", figures["first"]), ("pages after the first", figures["following"])):
            median, p90 = statistics.median(server), percentile(server, 0.9)
            print(f"    server time, {title + ':':22} median {median:6.1f} ms, p90 {p90:6.1f} ms   "
                  f"server/parse median {median / loads:.2f}, p90 {p90 / loads:.2f}")
        print(f"    whole scans, first page included: server {sum(figures['server']):7.1f} ms, json.loads "
              f"{sum(figures['parse']):7.1f} ms   server/parse {scan_ratios(figures)['scan']:.2f}")


def report_summary(sales: dict[str, float], fno: dict[str, float], rounds: dict[str, dict[str, list[float]]]) -> None:
    """Every figure as a ratio to the client's json.loads of the same page(s), measured in this run."""
    print("Summary: emulator server time / client json.loads (same pages, this run; under 1.0 the client is the bottleneck)")
    print(f"  warm page, Dataverse accounts:           {sales['server'] / sales['parse']:.2f}")
    print(f"  warm page, F&O {FNO_LINES}:       {fno['server'] / fno['parse']:.2f}")
    print(f"  first request on a freshly seeded tenant, Dataverse/F&O: {sales['cold'] / sales['parse']:.2f} / "
          f"{fno['cold'] / fno['parse']:.2f}")
    for kind, figures in rounds.items():
        ratios = scan_ratios(figures)
        print(f"  cold scan, {kind + ':':16} first page {ratios['first']:.2f}, "
              f"pages after the first p50 {ratios['p50']:.2f}, p90 {ratios['p90']:.2f}; whole scan {ratios['scan']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--scan-scale", type=int, default=SCAN_SCALE)
    parser.add_argument("--scan-rounds", type=int, default=3)
    args = parser.parse_args()
    accounts = load_project_registry(Path(__file__).resolve().parent.parent / "models")[("sales", "accounts")]
    lines = FNO_ENTITY_SETS[FNO_LINES]
    with tempfile.TemporaryDirectory() as tmp, EmulatedTenant.start(Path(tmp) / "tenant", scale=SCALE) as tenant:
        msal_app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
        sales = make_client(tenant.sales_url, MsalAuth(msal_app, tenant.sales_url), ca_file=tenant.ca_file)
        fno = make_client(tenant.fno_url, MsalAuth(msal_app, tenant.fno_url), ca_file=tenant.ca_file)
        spool = PageSpool(duckdb.connect(), accounts)
        sales_figures = PageCost(sales, *first_request(accounts, [])).measure(args.repeat, spool.add, lambda: settled(tenant))
        spool.close()
        fno_params = {"$select": ",".join(c.name for c in lines.served), "cross-company": "true", "$top": str(PAGE_ROWS)}
        fno_figures = PageCost(fno, f"/data/{FNO_LINES}", fno_params, {}).measure(args.repeat, None, lambda: settled(tenant))
        sales.close()
        fno.close()
    report("Dataverse accounts page (extractor request)", sales_figures)
    report(f"F&O {FNO_LINES} page (every column)", fno_figures)
    rounds = {kind: {"server": [], "parse": [], "first": [], "following": [], "start": []} for kind in SCAN_KINDS}
    state_dir = SCAN_DIR / f"scan-s{args.scan_scale}"
    EmulatedTenant.start(state_dir, scale=args.scan_scale).stop()  # seeded once; every pass reopens it cold
    for _ in range(args.scan_rounds):
        for kind, read_ahead in SCAN_KINDS.items():
            if kind != "restarted":  # the tenant forgets the scans it served, and their pages
                (state_dir / warm_up.FILE).unlink(missing_ok=True)
                shutil.rmtree(state_dir / PAGE_TEXTS, ignore_errors=True)
            figures = cold_scan(state_dir, accounts, read_ahead)
            rounds[kind]["first"].append(figures["server"][0])
            rounds[kind]["following"] += figures["server"][1:]
            for name in ("server", "parse", "start"):
                rounds[kind][name] += figures[name]
    report_scan(rounds, len(rounds["never served"]["server"]) // args.scan_rounds)
    floor, loads = render_floor(state_dir, accounts, args.repeat), statistics.median(rounds["never served"]["parse"])
    print(f"Building a never-served accounts page's body by its query alone (DuckDB json_object, 5,000 rows): "
          f"{floor:5.1f} ms   /json.loads = {floor / loads:.2f}")
    report_summary(sales_figures, fno_figures, rounds)
    print(f"  a page's body built by its query alone (the floor of a page never served): {floor / loads:.2f}")


if __name__ == "__main__":
    main()
