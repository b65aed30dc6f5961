"""Service protection over HTTPS: 429 + Retry-After + the real bodies, per limit, on both services.

Limits are scaled down (a 2 s window) so the real logic runs in test time.
"""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from emulate.settings import EmulatorSettings, ProtectionLimits
from emulate.tenant import EmulatedTenant
from tests.emulate.multipart import batch, read_batch, request_part

RATELIMIT_HEADERS = ("x-ms-ratelimit-burst-remaining-xrm-requests", "x-ms-ratelimit-time-remaining-xrm-requests")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A seeded state folder; each test serves a copy, so its protection windows start empty."""
    state_dir = tmp_path_factory.mktemp("seeded")
    EmulatedTenant.start(state_dir).stop()
    return state_dir


@pytest.fixture
def start(tmp_path, seeded, client_for, token_for) -> Iterator:
    """Start a fresh tenant with `settings`; yields (tenant, sales client, F&O client)."""
    opened = []

    def start_with(settings: EmulatorSettings) -> tuple[EmulatedTenant, httpx.Client, httpx.Client]:
        state_dir = shutil.copytree(seeded, tmp_path / f"tenant{len(opened)}")
        tenant = EmulatedTenant.start(state_dir, settings=settings)
        opened.append(tenant)
        clients = []
        for origin, root in ((tenant.sales_url, "/api/data/v9.2/"), (tenant.fno_url, "/data/")):
            with client_for(tenant) as plain:
                token = token_for(tenant, plain, origin)
            client = client_for(tenant)
            client.base_url, client.headers["Authorization"] = f"{origin}{root}", f"Bearer {token}"
            clients.append(client)
        return tenant, *clients

    yield start_with
    for tenant in opened:
        tenant.stop()


def throttled(**limits) -> EmulatorSettings:
    return EmulatorSettings(throttle="real", limits=ProtectionLimits(**{"window_s": 2, **limits}))


def dataverse_error(response: httpx.Response) -> dict:
    return response.json()["error"]


def fno_message(response: httpx.Response) -> str:
    error = response.json()["error"]
    assert error["message"] == "An error has occurred."
    return error["innererror"]["message"]


def test_dataverse_request_limit_429_then_window_slides_open(start):
    _, sales, _ = start(throttled(window_s=1, max_requests=3, push_penalty_s=0))
    remaining = [sales.get("accounts", params={"$top": "1"}).headers[RATELIMIT_HEADERS[0]] for _ in range(3)]
    assert remaining == ["2", "1", "0"]

    refused = sales.get("accounts", params={"$top": "1"})
    assert refused.status_code == 429
    assert dataverse_error(refused) == {
        "code": "0x80072322", "message": "Number of requests exceeded the limit of 3 over time window of 1 seconds."}
    assert refused.headers["OData-Version"] == "4.0" and refused.headers["REQ_ID"]
    retry_after = int(refused.headers["Retry-After"])
    assert retry_after == 1

    time.sleep(retry_after)
    reopened = sales.get("accounts", params={"$top": "1"})
    assert reopened.status_code == 200, reopened.text


def test_fno_request_limit_429_in_its_envelope(start):
    _, _, fno = start(throttled(max_requests=2, push_penalty_s=0))
    assert [fno.get("CustomersV2", params={"$top": "1"}).status_code for _ in range(2)] == [200, 200]
    refused = fno.get("CustomersV2", params={"$top": "1"})
    assert refused.status_code == 429
    assert fno_message(refused) == "Number of requests exeeded the limit of 2 over the time window of 2 seconds."
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert not any(name in refused.headers for name in RATELIMIT_HEADERS), "F&O documents no budget headers"


def test_retry_after_grows_while_the_client_keeps_pushing(start):
    _, sales, _ = start(throttled(window_s=1, max_requests=1, push_penalty_s=1))
    assert sales.get("accounts", params={"$top": "1"}).status_code == 200
    first = sales.get("accounts", params={"$top": "1"})
    pushes = [sales.get("accounts", params={"$top": "1"}) for _ in range(3)]
    assert {response.status_code for response in [first, *pushes]} == {429}
    assert int(pushes[-1].headers["Retry-After"]) >= int(first.headers["Retry-After"]) + 2

    time.sleep(int(first.headers["Retry-After"]))
    assert sales.get("accounts", params={"$top": "1"}).status_code == 429, "the block was extended past the first Retry-After"


def test_execution_time_limit_on_both_services(start):
    tenant, sales, fno = start(throttled(max_requests=1000, max_execution_s=0.3, push_penalty_s=0).replace(latency_ms=200))
    for client, path in ((sales, "accounts"), (fno, "CustomersV2")):
        statuses = [client.get(path, params={"$top": "1"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429], "the request that crosses the limit still runs, the next one is refused"
    refused_sales = sales.get("accounts", params={"$top": "1"})
    assert dataverse_error(refused_sales) == {"code": "0x80072321", "message": (
        "Combined execution time of incoming requests exceeded limit of 300 milliseconds over time window of 2 seconds. "
        "Decrease number of concurrent requests or reduce the duration of requests and try again later.")}
    assert fno_message(fno.get("CustomersV2")) == (
        "Combined execution time of incoming requests exceeded limit of 0.3 seconds over time window of 2 seconds. "
        "Decrease number of concurrent requests or reduce the duration of requests and try again later.")
    assert refused_sales.headers[RATELIMIT_HEADERS[1]] == "0.00"


def test_concurrency_limit_refuses_at_once(start):
    _, sales, fno = start(throttled(max_concurrent=2).replace(latency_ms=400))
    refusals = {}
    for client, path in ((sales, "accounts"), (fno, "CustomersV2")):
        with ThreadPoolExecutor(max_workers=5) as pool:
            started = time.monotonic()
            responses = list(pool.map(lambda _: (client.get(path, params={"$top": "1"}), time.monotonic() - started), range(5)))
        refused = [(response, elapsed) for response, elapsed in responses if response.status_code == 429]
        assert sorted(response.status_code for response, _ in responses) == [200, 200, 429, 429, 429]
        assert all(elapsed < 0.35 for _, elapsed in refused), "concurrency errors come back without waiting"
        assert all(response.headers["Retry-After"] == "1" for response, _ in refused)
        refusals[path] = refused[0][0]
    assert dataverse_error(refusals["accounts"]) == {
        "code": "0x80072326", "message": "Number of concurrent requests exceeded the limit of 2."}
    assert fno_message(refusals["CustomersV2"]) == "Number of concurrent requests exceeded the limit of 2."


def test_a_batch_counts_once(start):
    _, sales, _ = start(throttled(max_requests=2, push_penalty_s=0))
    headers, body = batch(*[request_part("GET", "/api/data/v9.2/accounts?$top=1") for _ in range(3)])
    answered = sales.post("$batch", content=body, headers=headers)
    assert answered.status_code == 200 and [part.status for part in read_batch(answered).parts] == [200, 200, 200]
    assert answered.headers[RATELIMIT_HEADERS[0]] == "1"
    assert sales.get("accounts", params={"$top": "1"}).status_code == 200
    assert sales.get("accounts", params={"$top": "1"}).status_code == 429


def test_unauthenticated_requests_do_not_count(start):
    tenant, sales, _ = start(throttled(max_requests=2))
    anonymous = [sales.get("accounts", headers={"Authorization": ""}).status_code for _ in range(5)]
    assert anonymous == [401] * 5
    assert [sales.get("accounts", params={"$top": "1"}).status_code for _ in range(2)] == [200, 200]


def test_throttling_flips_off_and_on_while_serving(start):
    tenant, sales, _ = start(throttled(max_requests=2, push_penalty_s=0))
    assert [sales.get("accounts", params={"$top": "1"}).status_code for _ in range(3)] == [200, 200, 429]

    tenant.configure(throttle="off")
    unthrottled = [sales.get("accounts", params={"$top": "1"}) for _ in range(5)]
    assert {response.status_code for response in unthrottled} == {200}
    assert not any(name in unthrottled[0].headers for name in RATELIMIT_HEADERS)

    tenant.configure(throttle="real")
    assert sales.get("accounts", params={"$top": "1"}).status_code == 429, "the window carried over"


def test_off_by_default_only_the_dop_hint(start):
    tenant, sales, fno = start(EmulatorSettings())
    assert tenant.settings == EmulatorSettings() and tenant.settings.quiet
    responses = [sales.get("accounts", params={"$top": "1"}) for _ in range(10)]
    assert {response.status_code for response in responses} == {200}
    assert not any(name in responses[0].headers for name in (*RATELIMIT_HEADERS, "Retry-After"))
    assert responses[0].headers["x-ms-dop-hint"] == "4"
    assert "x-ms-dop-hint" not in fno.get("CustomersV2", params={"$top": "1"}).headers


def test_settings_are_validated():
    with pytest.raises(ValueError, match="throttle"):
        EmulatorSettings(throttle="on")
    with pytest.raises(ValueError, match="positive"):
        ProtectionLimits(max_requests=0)
