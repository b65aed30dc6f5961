"""p2c's own CPU per record pushed: cProfile of plan → push of N new contacts against the emulator.

    .venv/bin/python bench/push_profile.py [--records 10000] [--top 25] [--sort cumulative] [--plain]

Profiles every thread p2c runs the push in (the caller and the batch workers), on each
thread's own CPU clock, so the emulated service (same process, its own threads) is not
counted. Prints p2c's CPU seconds and milliseconds per record, then the costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from push_batch import CONTACTS, TARGET, records  # noqa: E402

from emulate.tenant import EmulatedTenant  # noqa: E402
from extract.auth import MsalAuth, build_msal_app  # noqa: E402
from extract.http import make_client  # noqa: E402
from extract.land import ensure_raw_tables  # noqa: E402
from load.config import target_of  # noqa: E402
from load.plan import load_plan, make_plan  # noqa: E402
from load.push import push  # noqa: E402
from load.writers import DataverseWriter, FnoWriter  # noqa: E402
from transform.ids import deterministic_id  # noqa: E402
from transform.render import Model  # noqa: E402

PROFILES: list[cProfile.Profile] = []
LOCK = threading.Lock()


PLAIN: list[float] = []  # --plain: each call's CPU on its thread, without the profiler's own overhead


def profiled(function):
    """Run ``function`` under a profiler on this thread's CPU clock, kept for the report."""
    def run(*args, **kwargs):
        if PLAIN:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with LOCK:
                    PLAIN.append(time.thread_time() - started)
        profile = cProfile.Profile(time.thread_time)
        with LOCK:
            PROFILES.append(profile)
        return profile.runcall(function, *args, **kwargs)
    return run


class ProfiledWriter(DataverseWriter):
    def write_and_read(self, documents, what):
        return profiled(super().write_and_read)(documents, what)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="pstats sort key, e.g. cumulative")
    parser.add_argument("--plain", action="store_true", help="measure CPU per thread without cProfile (no function table)")
    args = parser.parse_args()
    if args.plain:
        PLAIN.append(0.0)
    rows = records(args.records)
    with tempfile.TemporaryDirectory(prefix="p2c-bench-profile-") as folder, \
            EmulatedTenant.start(Path(folder) / "tenant", seed=42, scale=1) as tenant:
        con = duckdb.connect(str(Path(folder) / "staging.duckdb"))
        ensure_raw_tables(con, CONTACTS)
        con.execute("CREATE SCHEMA models")
        con.execute("CREATE TABLE models.bench_contacts (contactid VARCHAR, msdynce_contactnumber VARCHAR, firstname VARCHAR,"
                    " lastname VARCHAR, jobtitle VARCHAR)")
        con.executemany("INSERT INTO models.bench_contacts VALUES (?, ?, ?, ?, ?)", [
            [deterministic_id("contacts", r["msdynce_contactnumber"]), r["msdynce_contactnumber"], r["firstname"],
             r["lastname"], r["jobtitle"]] for r in rows])
        model = Model("bench_contacts", Path("bench_contacts.sql"), "", {"flow": "contacts", "target": TARGET},
                      frozenset(), frozenset())
        entities = {("sales", "contacts"): CONTACTS}
        targets = {"bench_contacts": target_of("bench_contacts", "bench", model.config)}
        app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
        sales = make_client(tenant.sales_url, MsalAuth(app, tenant.sales_url), ca_file=Path(tenant.ca_file))
        fno = make_client(tenant.fno_url, MsalAuth(app, tenant.fno_url), ca_file=Path(tenant.ca_file))
        writers = {"sales": ProfiledWriter(sales, targets), "fno": FnoWriter(fno, targets)}

        def plan_and_push():
            planned = make_plan(con, [model], entities, run_id=1, created_at=datetime.now(), blocked={})
            return push(con, load_plan(con, planned.plan_id), writers, targets, entities, run_id=1)

        started = time.perf_counter()
        result = profiled(plan_and_push)()
        wall = time.perf_counter() - started
        sales.close()
        fno.close()
        con.close()
    written = sum(c.get("insert", 0) for c in result.counts.values())
    assert written == len(rows), result.as_dict()
    if args.plain:
        cpu = sum(PLAIN)
        print(f"{len(rows):,} records pushed in {wall:.1f} s wall; p2c's own CPU {cpu:.2f} s = "
              f"{cpu / len(rows) * 1000:.3f} ms per record (no profiler; {len(PLAIN) - 2} batch threads measured)")
        return
    stats = pstats.Stats(PROFILES[0], stream=(out := io.StringIO()))
    for profile in PROFILES[1:]:
        stats.add(profile)
    cpu = stats.total_tt
    print(f"{len(rows):,} records pushed in {wall:.1f} s wall; p2c's own CPU {cpu:.2f} s = {cpu / len(rows) * 1000:.3f} ms per record"
          f" ({len(PROFILES) - 1} batch threads profiled)")
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
