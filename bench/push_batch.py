"""Push throughput: N changed Sales records through p2c's $batch writer against Microsoft's Dataverse SDK, one by one.

    .venv/bin/python bench/push_batch.py [--records 10000] [--sdk-records 10000] [--latency-ms 20]

Two fresh emulated tenants from one seed, both with `--latency-ms` added to every request.
On the first, p2c plans N new contacts (deterministic ids, natural key msdynce_contactnumber)
and pushes them: the stale-plan check (filtered GETs of 100 ids in one $batch), then upserts
in batches of 1,000 with one change set per record, each batch's records read back with
filtered GETs in one more $batch. On the second, `powerplatform-dataverse-client` upserts
the same records one `records.upsert` call at a time, by the contacts' alternate key.
`--sdk-records` below N times the SDK on the first that many records and says so (its
per-record rate is then what the ratio uses). Prints requests per 100 records, records per
second and the ratio, all from this run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azure.core.credentials import AccessToken  # noqa: E402
from PowerPlatform.Dataverse.client import DataverseClient  # noqa: E402
from PowerPlatform.Dataverse.models.upsert import UpsertItem  # noqa: E402

from emulate.settings import EmulatorSettings  # noqa: E402
from emulate.tenant import EmulatedTenant  # noqa: E402
from extract.auth import MsalAuth, build_msal_app  # noqa: E402
from extract.http import make_client  # noqa: E402
from extract.land import ensure_raw_tables  # noqa: E402
from extract.registry import Entity  # noqa: E402
from load.config import target_of  # noqa: E402
from load.plan import load_plan, make_plan  # noqa: E402
from load.push import push  # noqa: E402
from load.writers import DataverseWriter, FnoWriter  # noqa: E402
from transform.ids import deterministic_id  # noqa: E402
from transform.render import Model  # noqa: E402

CONTACTS = Entity("sales", "contacts", ("contactid",), (
    ("contactid", "VARCHAR"), ("msdynce_contactnumber", "VARCHAR"), ("firstname", "VARCHAR"), ("lastname", "VARCHAR"),
    ("jobtitle", "VARCHAR"), ("versionnumber", "BIGINT")))
TARGET = {"system": "sales", "entity": "contacts", "key": ["msdynce_contactnumber"], "id": "contactid"}


def records(n: int) -> list[dict]:
    return [{"msdynce_contactnumber": f"CON-{i:05}-BENCH", "firstname": f"First {i}", "lastname": f"Last {i}",
             "jobtitle": "Buyer"} for i in range(n)]


def p2c_push(tenant: EmulatedTenant, rows: list[dict], folder: Path) -> tuple[float, int, int]:
    """(seconds, HTTP requests incl. token, records written) for plan → push of ``rows``."""
    con = duckdb.connect(str(folder / "staging.duckdb"))
    ensure_raw_tables(con, CONTACTS)
    con.execute("CREATE SCHEMA models")
    con.execute("CREATE TABLE models.bench_contacts (contactid VARCHAR, msdynce_contactnumber VARCHAR, firstname VARCHAR,"
                " lastname VARCHAR, jobtitle VARCHAR)")
    con.executemany("INSERT INTO models.bench_contacts VALUES (?, ?, ?, ?, ?)", [
        [deterministic_id("contacts", r["msdynce_contactnumber"]), r["msdynce_contactnumber"], r["firstname"], r["lastname"],
         r["jobtitle"]] for r in rows])
    model = Model("bench_contacts", Path("bench_contacts.sql"), "", {"flow": "contacts", "target": TARGET}, frozenset(), frozenset())
    entities = {("sales", "contacts"): CONTACTS}
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    sales = make_client(tenant.sales_url, MsalAuth(app, tenant.sales_url), ca_file=Path(tenant.ca_file))
    fno = make_client(tenant.fno_url, MsalAuth(app, tenant.fno_url), ca_file=Path(tenant.ca_file))
    targets = {"bench_contacts": target_of("bench_contacts", "bench", model.config)}
    started = time.perf_counter()
    planned = make_plan(con, [model], entities, run_id=1, created_at=datetime.now(), blocked={})
    plan = load_plan(con, planned.plan_id)
    writers = {"sales": DataverseWriter(sales, targets), "fno": FnoWriter(fno, targets)}
    result = push(con, plan, writers, targets, entities, run_id=1)
    seconds = time.perf_counter() - started
    written = sum(c.get("insert", 0) for c in result.counts.values())
    requests = sales.stats.requests + fno.stats.requests  # every send, retries included
    sales.close()
    fno.close()
    con.close()
    return seconds, requests + 1, written  # + 1: the one token request msal made


class MsalCredential:
    def __init__(self, tenant: EmulatedTenant) -> None:
        self.app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        result = self.app.acquire_token_for_client(scopes=list(scopes))
        return AccessToken(result["access_token"], int(time.time()) + int(result["expires_in"]))


def sdk_push(tenant: EmulatedTenant, rows: list[dict]) -> float:
    os.environ["REQUESTS_CA_BUNDLE"] = str(tenant.ca_file)
    with DataverseClient(tenant.sales_url, MsalCredential(tenant)) as client:
        client.records.upsert("contact", [UpsertItem(alternate_key={"msdynce_contactnumber": "CON-99999-WARMUP"},
                                                     record={"lastname": "Warm-up"})])  # metadata and token, not timed
        started = time.perf_counter()
        for row in rows:
            client.records.upsert("contact", [UpsertItem(alternate_key={"msdynce_contactnumber": row["msdynce_contactnumber"]},
                                                         record={k: v for k, v in row.items() if k != "msdynce_contactnumber"})])
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--sdk-records", type=int, default=None, help="records the SDK upserts (default: --records)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    rows = records(args.records)
    sdk_rows = rows[:args.sdk_records or args.records]
    settings = EmulatorSettings(latency_ms=args.latency_ms)
    with tempfile.TemporaryDirectory(prefix="p2c-bench-push-") as folder:
        root = Path(folder)
        with EmulatedTenant.start(root / "p2c", seed=42, scale=1, settings=settings) as tenant:
            seconds, requests, written = p2c_push(tenant, rows, root)
            stored = {c["msdynce_contactnumber"] for c in tenant.sales.rows("contacts")}
            assert written == len(rows) and all(r["msdynce_contactnumber"] in stored for r in rows), "p2c did not write every record"
        with EmulatedTenant.start(root / "sdk", seed=42, scale=1, settings=settings) as tenant:
            sdk_seconds = sdk_push(tenant, sdk_rows)
    per_record_p2c, per_record_sdk = seconds / len(rows), sdk_seconds / len(sdk_rows)
    print(f"latency {args.latency_ms:g} ms per request; {len(rows):,} new contacts")
    print(f"p2c $batch push: {seconds:.1f} s, {len(rows) / seconds:,.0f} records/s, {requests} HTTP requests "
          f"({requests / len(rows) * 100:.2f} per 100 records; budget 1)")
    scope = "" if len(sdk_rows) == len(rows) else f" (timed on the first {len(sdk_rows):,} records)"
    print(f"Dataverse SDK one by one: {sdk_seconds:.1f} s for {len(sdk_rows):,}{scope}, {len(sdk_rows) / sdk_seconds:,.0f} records/s, "
          f"{len(sdk_rows)} upsert requests")
    print(f"ratio (SDK time per record / p2c time per record): {per_record_sdk / per_record_p2c:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
