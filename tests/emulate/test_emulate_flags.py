"""`p2c emulate --latency-ms MS --throttle real` serves a tenant with those settings, from its own process."""

import ssl
import time

import httpx


def test_emulate_serves_with_latency_and_real_throttling(served_tenant, tmp_path):
    served = served_tenant(tmp_path / "tenant", "--latency-ms", "50", "--throttle", "real")
    assert "Latency: 50 ms per request; service protection: real" in served.output
    with httpx.Client(verify=ssl.create_default_context(cafile=served.ca), timeout=10) as client:
        token = served.token(client, served.sales_origin)
        started = time.monotonic()
        response = client.get(f"{served.sales}accounts", params={"$top": "1"}, headers={"Authorization": f"Bearer {token}"})
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.05
    assert response.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "5999"
    assert served.stop() == 0


def test_emulate_refuses_an_unknown_throttle_mode(cli):
    result = cli("emulate", "--throttle", "sometimes")
    assert result.exit_code == 2
    assert "'sometimes' is not one of 'real', 'off'" in result.output
