"""Server-side cost of the emulated services' write path, per operation.

    .venv/bin/python bench/emulate_writes.py [--ops 1000] [--singles 100] [--profile dataverse|fno [--sort tottime]]

One fresh emulated tenant (seed 42, no added latency) over real HTTPS on loopback. Times,
per write operation:

- Dataverse: `--ops` new contacts upserted in one `$batch` (`PATCH contacts(<id>)`, one change
  set per record, as p2c pushes), then the same records updated with `If-Match: <ETag>`;
- F&O: `--ops` new CustomersV2 rows inserted in one `$batch` (`POST`, one change set each);
- the baseline from the same run: `--singles` single-request upserts / inserts, one per HTTPS
  request (its per-request cost includes TLS framing and the client, so it is an upper bound
  of what one write costs the server outside a batch).

A `$batch` request is one HTTPS round trip, so its time over its operations is the server's
cost per operation. `--profile` runs one 1,000-op batch of that service in this process
under cProfile (no HTTPS) and prints the top functions (by cumulative time unless `--sort`).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from email.message import Message
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulate.server import Request  # noqa: E402
from emulate.tenant import EmulatedTenant  # noqa: E402
from extract.auth import build_msal_app  # noqa: E402
from load import multipart  # noqa: E402

SALES_API = "/api/data/v9.2/"
CUSTOMER = {"dataAreaId": "usmf", "OrganizationName": "Bench Org", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}


def _token(tenant: EmulatedTenant, resource: str) -> str:
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    return app.acquire_token_for_client(scopes=[f"{resource}/.default"])["access_token"]


def _contact(i: int, tag: str) -> dict:
    return {"msdynce_contactnumber": f"CON-{i:05}-{tag}", "firstname": f"First {i}", "lastname": f"Last {i}", "jobtitle": "Buyer"}


def sales_upserts(tenant: EmulatedTenant, n: int, tag: str) -> list[multipart.Request]:
    return [multipart.Request("PATCH", f"{tenant.sales_url}{SALES_API}contacts({uuid.uuid4()})", _contact(i, tag), (), str(i + 1))
            for i in range(n)]


def sales_updates(tenant: EmulatedTenant, tag: str) -> list[multipart.Request]:
    rows = [r for r in tenant.sales.rows("contacts") if r["msdynce_contactnumber"].endswith(tag)]
    return [multipart.Request("PATCH", f"{tenant.sales_url}{SALES_API}contacts({r['contactid']})", {"jobtitle": "Owner"},
                              (("If-Match", f'W/"{r["versionnumber"]}"'),), str(i + 1)) for i, r in enumerate(rows)]


def fno_inserts(tenant: EmulatedTenant, n: int, tag: str) -> list[multipart.Request]:
    return [multipart.Request("POST", f"{tenant.fno_url}/data/CustomersV2", {**CUSTOMER, "CustomerAccount": f"{tag}-{i:05}"}, (), str(i + 1))
            for i in range(n)]


def timed_batch(client: httpx.Client, url: str, requests: list[multipart.Request]) -> float:
    """Seconds for one `$batch` of `requests`, one change set each; every part must succeed."""
    content_type, body = multipart.build([[r] for r in requests])
    started = time.perf_counter()
    response = client.post(url, content=body, headers={"Content-Type": content_type}, timeout=600)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    answers = multipart.parse(response.headers["Content-Type"], response.content)
    failed = [a for answer in answers for a in (answer.answers if isinstance(answer, multipart.ChangeSetAnswer) else [answer])
              if a.status >= 400]
    assert len(answers) == len(requests) and not failed, failed[:1] and failed[0].body[:300]
    return seconds


def timed_singles(client: httpx.Client, requests: list[multipart.Request]) -> float:
    started = time.perf_counter()
    for r in requests:
        response = client.request(r.method, r.url, json=r.body, headers=dict(r.headers))
        assert response.status_code < 300, response.text[:300]
    return time.perf_counter() - started


def _in_process(service, origin: str, path: str, token: str, requests: list[multipart.Request]) -> None:
    content_type, body = multipart.build([[r] for r in requests])
    headers = Message()
    headers["Content-Type"] = content_type
    headers["Authorization"] = f"Bearer {token}"
    response = service.respond(Request("POST", path, "", headers, body, origin))
    assert response.status == 200


def profile(tenant: EmulatedTenant, which: str, n: int, sort: str = "cumulative") -> None:
    if which == "dataverse":
        service, origin, path, requests = tenant.sales, tenant.sales_url, f"{SALES_API}$batch", sales_upserts(tenant, n, "PROF")
    else:
        service, origin, path, requests = tenant.fno, tenant.fno_url, "/data/$batch", fno_inserts(tenant, n, "PROF")
    token = _token(tenant, origin)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(_in_process, service, origin, path, token, requests)
    print(f"{which}: {n} ops in {time.perf_counter() - started:.2f} s under cProfile")
    pstats.Stats(profiler).sort_stats(sort).print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=100)
    parser.add_argument("--profile", choices=("dataverse", "fno"))
    parser.add_argument("--sort", default="cumulative", help="pstats order of --profile (cumulative, tottime)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="p2c-bench-writes-") as folder, \
            EmulatedTenant.start(Path(folder), seed=42, scale=1) as tenant:
        if args.profile:
            profile(tenant, args.profile, args.ops, args.sort)
            return
        ca = str(tenant.ca_file)
        with httpx.Client(verify=ca, headers={"Authorization": f"Bearer {_token(tenant, tenant.sales_url)}"}) as sales, \
                httpx.Client(verify=ca, headers={"Authorization": f"Bearer {_token(tenant, tenant.fno_url)}"}) as fno:
            rows = [
                ("Dataverse upsert (create), single requests", timed_singles(sales, sales_upserts(tenant, args.singles, "ONE")), args.singles),
                ("Dataverse upsert (create) in $batch", timed_batch(sales, f"{tenant.sales_url}{SALES_API}$batch",
                                                                     sales_upserts(tenant, args.ops, "BAT")), args.ops),
                ("Dataverse update with If-Match in $batch", timed_batch(sales, f"{tenant.sales_url}{SALES_API}$batch",
                                                                          sales_updates(tenant, "BAT")), args.ops),
                ("F&O insert, single requests", timed_singles(fno, fno_inserts(tenant, args.singles, "ONE")), args.singles),
                ("F&O insert in $batch", timed_batch(fno, f"{tenant.fno_url}/data/$batch", fno_inserts(tenant, args.ops, "BAT")), args.ops),
            ]
    print("emulated write path, server cost per operation (seed 42, scale 1, no added latency):")
    for label, seconds, count in rows:
        print(f"  {label:<45} {count:>5} ops  {seconds:7.2f} s  {seconds / count * 1000:7.2f} ms/op")


if __name__ == "__main__":
    main()
