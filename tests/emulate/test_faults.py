"""Injected faults as a real httpx client meets them: 5xx bodies, resets, stalls, slow and cut pages."""

import time

import httpx
import pytest

from emulate.settings import EmulatorSettings, FaultRule
from emulate.tenant import EmulatedTenant

PAGE = {"Prefer": "odata.maxpagesize=20"}


@pytest.fixture(autouse=True)
def quiet_again(tenant: EmulatedTenant):
    yield
    tenant.configure(EmulatorSettings())


def test_the_second_page_get_of_accounts_gets_a_503(tenant, sales):
    tenant.configure(faults=(FaultRule("503", service="sales", method="GET", path="/accounts", nth=2),))
    first = sales.get("accounts", headers=PAGE)
    assert first.status_code == 200
    next_link = first.json()["@odata.nextLink"]
    assert sales.get("").status_code == 200, "other resources do not count"

    unavailable = sales.get(next_link, headers=PAGE)
    assert unavailable.status_code == 503
    assert unavailable.headers["Content-Type"] == "text/html"
    assert "HTTP Error 503. The service is unavailable." in unavailable.text
    assert "OData-Version" not in unavailable.headers, "answered by the front end, not the service"

    retried = sales.get(next_link, headers=PAGE)
    assert retried.status_code == 200 and retried.json()["value"]


def test_500_comes_in_each_service_envelope(tenant, sales, fno):
    tenant.configure(faults=(FaultRule("500", times=2),))
    failed = sales.get("accounts", params={"$top": "1"})
    assert failed.status_code == 500 and failed.headers["OData-Version"] == "4.0"
    assert failed.json() == {"error": {"code": "0x80040216", "message": "An unexpected error occurred."}}
    failed = fno.get("CustomersV2", params={"$top": "1"})
    assert failed.status_code == 500
    assert failed.json()["error"]["message"] == "An error has occurred."
    assert failed.json()["error"]["innererror"]["message"] == "An unexpected error occurred."
    assert fno.get("CustomersV2", params={"$top": "1"}).status_code == 200, "times=2: the third request passes"


def test_fno_resource_based_throttling_answers_429_with_retry_after(tenant, fno):
    tenant.configure(faults=(FaultRule("busy", service="fno", method="GET", path="/CustomersV2"),))
    busy = fno.get("CustomersV2", params={"$top": "1"})
    assert busy.status_code == 429
    assert int(busy.headers["Retry-After"]) >= 1
    assert busy.json()["error"]["innererror"]["message"] == (
        "This request could not be processed at this time due to system experiencing high resource utilization.")
    assert fno.get("CustomersV2", params={"$top": "1"}).status_code == 200, "only the first matching request"


@pytest.mark.parametrize(("kind", "title"), [("502", "502 Bad Gateway"), ("504", "504 Gateway Time-out")])
def test_gateway_errors(tenant, fno, kind, title):
    tenant.configure(faults=(FaultRule(kind, service="fno"),))
    response = fno.get("CustomersV2")
    assert response.status_code == int(kind) and f"<title>{title}</title>" in response.text


def test_reset_drops_the_connection_unanswered(tenant, sales):
    tenant.configure(faults=(FaultRule("reset", method="POST"),))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        sales.post("accounts", json={"name": "Never arrives"})
    assert not [row for row in tenant.sales.rows("accounts") if row["name"] == "Never arrives"], "the service never saw it"
    assert sales.get("accounts", params={"$top": "1"}).status_code == 200


def test_timeout_stalls_past_the_client_timeout(tenant, sales):
    tenant.configure(stall_s=5, faults=(FaultRule("timeout", method="POST"),))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        sales.post("accounts", json={"name": "Stalled but written"}, timeout=0.3)
    assert time.monotonic() - started < 2
    written = [row for row in tenant.sales.rows("accounts") if row["name"] == "Stalled but written"]
    assert len(written) == 1, "the service did the work; only the answer is late"


def test_truncated_page(tenant, sales):
    tenant.configure(faults=(FaultRule("truncate", path="/accounts"),))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        sales.get("accounts", headers=PAGE)


def test_slow_page_arrives_whole_but_late(tenant, sales):
    whole = sales.get("accounts", headers=PAGE).content
    tenant.configure(slow_s=0.6, faults=(FaultRule("slow", path="/accounts"),))
    started = time.monotonic()
    slow = sales.get("accounts", headers=PAGE)
    assert time.monotonic() - started >= 0.6
    assert slow.status_code == 200 and len(slow.content) == len(whole) and slow.json()["value"]


def test_fault_rate_is_deterministic_for_a_seed(tenant, sales):
    def statuses() -> list[int]:
        tenant.configure(EmulatorSettings())  # counters and draws start over when the fault settings change
        tenant.configure(EmulatorSettings(fault_rate=0.5, fault_kinds=("500", "503"), seed=11))
        return [sales.get("accounts", params={"$top": "1"}).status_code for _ in range(20)]

    first = statuses()
    assert set(first) == {200, 500, 503}
    assert statuses() == first


def test_rules_validate():
    with pytest.raises(ValueError, match="Unknown fault kind"):
        FaultRule("418")
    with pytest.raises(ValueError, match="Unknown service"):
        FaultRule("503", service="crm")
    with pytest.raises(ValueError, match="resource-based throttling"):
        FaultRule("busy", service="sales")
    with pytest.raises(ValueError, match="fault_kinds must be some of"):
        EmulatorSettings(fault_rate=0.5, fault_kinds=("busy",))
