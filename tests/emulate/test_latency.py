"""Per-request latency: the least server time every Sales and F&O request takes (its own work included), only when asked."""

import statistics
import time

import httpx
import pytest

from emulate.settings import EmulatorSettings
from emulate.tenant import EmulatedTenant


@pytest.fixture(autouse=True)
def quiet_again(tenant: EmulatedTenant):
    yield
    tenant.configure(EmulatorSettings())


def timed(client: httpx.Client, path: str, count: int = 3) -> list[float]:
    times = []
    for _ in range(count):
        started = time.monotonic()
        assert client.get(path, params={"$top": "1"}).status_code == 200
        times.append(time.monotonic() - started)
    return times


def test_latency_is_added_to_both_services(tenant, sales, fno):
    bare = statistics.median(timed(sales, "accounts"))
    tenant.configure(latency_ms=100)
    for client, path in ((sales, "accounts"), (fno, "CustomersV2")):
        delayed = timed(client, path)
        assert min(delayed) >= 0.1
        assert statistics.median(delayed) - bare < 0.1 + 0.05, "about 100 ms, not more"
    tenant.configure(latency_ms=0)
    assert statistics.median(timed(sales, "accounts")) < 0.1


def test_jitter_stays_within_its_bound(tenant, sales):
    bare = max(timed(sales, "accounts"))
    tenant.configure(latency_ms=50, latency_jitter_ms=150, seed=3)
    delayed = timed(sales, "accounts", count=6)
    assert min(delayed) >= 0.05
    assert max(delayed) < 0.2 + bare + 0.05
    assert max(delayed) - min(delayed) > 0.01, "jittered, not constant"


def test_latency_does_not_touch_the_token_authority(tenant, http):
    tenant.configure(latency_ms=300)
    started = time.monotonic()
    response = http.get(f"{tenant.authority_url}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200 and time.monotonic() - started < 0.3


@pytest.mark.parametrize(("work_s", "least_s"), [(0.12, 0.12), (0.01, 0.1)])
def test_latency_is_the_least_time_a_request_takes_its_own_work_included(work_s, least_s):
    """A service that works 10 ms behind 100 ms of latency answers in about 100 ms; one that works
    120 ms answers when done (a real service's response time includes its processing)."""
    from email.message import Message

    from emulate.front import Dial, ServiceFront
    from emulate.protection import DATAVERSE
    from emulate.server import Request, Response

    def slow_service(request: Request) -> Response:
        time.sleep(work_s)
        return Response(200, b"{}")

    front = ServiceFront("sales", slow_service, None, DATAVERSE, Dial(EmulatorSettings(latency_ms=100)))
    started = time.monotonic()
    assert front(Request("GET", "/api/data/v9.2/accounts", "", Message(), b"", "https://localhost")).status == 200
    took = time.monotonic() - started
    assert least_s <= took < least_s + 0.05
