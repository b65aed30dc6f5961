"""Emulator cost to serve a 5,000-row Dataverse page, against the client's cost to parse and land it.

    .venv/bin/python bench/page_cost.py [--repeat N]

Prints medians in milliseconds and the ratios; all figures come from this one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulate.tenant import EmulatedTenant  # noqa: E402
from extract.auth import MsalAuth, build_msal_app  # noqa: E402
from extract.http import make_client  # noqa: E402
from extract.land import PageSpool  # noqa: E402
from extract.registry import load_registry  # noqa: E402
from extract.run import first_request  # noqa: E402

PAGE_ROWS = 5000
SCALE = 26  # about 200 accounts per scale unit: enough for one full page


def median_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    entity = load_registry(Path(__file__).resolve().parent.parent / "models" / "sources.toml")[("sales", "accounts")]
    with tempfile.TemporaryDirectory() as tmp, EmulatedTenant.start(Path(tmp) / "tenant", scale=SCALE) as tenant:
        msal_app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
        client: httpx.Client = make_client(tenant.sales_url, MsalAuth(msal_app, tenant.sales_url), ca_file=tenant.ca_file)
        url, params, headers = first_request(entity, [])

        def fetch() -> bytes:
            response = client.get(url, params=params, headers=headers)
            response.raise_for_status()
            return response.content

        body = fetch()
        rows = len(json.loads(body)["value"])
        assert rows == PAGE_ROWS, f"expected a full page of {PAGE_ROWS}, got {rows}"
        con = duckdb.connect()
        spool = PageSpool(con, entity)
        serve = median_ms(fetch, args.repeat)
        parse = median_ms(lambda: json.loads(body), args.repeat)
        land = median_ms(lambda: spool.add(body), args.repeat)
        spool.close()
        client.close()
    print(f"page: {rows} rows, {len(body) / 1e6:.1f} MB")
    print(f"emulator serve (request to last byte, incl. TLS): {serve:8.1f} ms")
    print(f"client json.loads of the page:                     {parse:8.1f} ms   serve/parse = {serve / parse:.2f}")
    print(f"client landing of the page in DuckDB:              {land:8.1f} ms   serve/land  = {serve / land:.2f}")


if __name__ == "__main__":
    main()
