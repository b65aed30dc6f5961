"""Resilient requests: what send() repeats, how long it waits, when it gives up, and what it counts.

Service behaviour (throttling, gateway errors, resets, truncated bodies, F&O's "busy" 429) comes
from the emulated tenant over HTTPS; timing-free corner cases use httpx.MockTransport.
"""

import duckdb
import httpx
import pytest

from emulate.settings import EmulatorSettings, FaultRule, ProtectionLimits
from emulate.tenant import EmulatedTenant
from extract.auth import MsalAuth, build_msal_app
from extract.errors import AuthError, ServiceError
from extract.http import make_client, send
from extract.parallel import Parallelism
from extract.profile import PROJECT_DIR
from extract.registry import load_project_registry
from extract.retry import RetryPolicy, RetryStats
from extract.run import extract_entity

ENTITIES = load_project_registry(PROJECT_DIR / "models")
ACCOUNTS = ENTITIES[("sales", "accounts")]
CUSTOMERS = ENTITIES[("fno", "CustomersV2")]
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture
def paged_tenant(tmp_path):
    with EmulatedTenant.start(tmp_path / "tenant", seed=3, fno_page_size=3) as tenant:
        yield tenant


def client_for(tenant, url, retry=FAST, *, audience=None):
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    return make_client(url, MsalAuth(app, audience or url), ca_file=tenant.ca_file, retry=retry)


def faults(*rules, **settings):
    return EmulatorSettings(faults=rules, **settings)


def landed_accounts(con):
    return con.execute("select count(*) from raw_sales.accounts").fetchone()[0]


def extract_accounts(con, client, page_size=37):
    return extract_entity(con, client, ACCOUNTS, run_id=1, companies=[], page_size=page_size)


# --- over HTTPS against the emulated tenant ---------------------------------------------------


@pytest.mark.parametrize("kind", ["503", "502", "504", "reset", "truncate"])
def test_a_failed_second_page_is_fetched_again_and_the_extract_is_complete(paged_tenant, kind):
    paged_tenant.configure(faults(FaultRule(kind, service="sales", method="GET", path="/accounts", nth=2)))
    with duckdb.connect() as con, client_for(paged_tenant, paged_tenant.sales_url) as client:
        summary = extract_accounts(con, client)
        assert landed_accounts(con) == summary.new == len(paged_tenant.sales.rows("accounts"))
    assert client.stats.retries == 1 and client.stats.requests == summary.requests + 1
    assert client.stats.seconds_throttled == 0


def test_real_throttling_is_honoured_and_counted_as_seconds_throttled(paged_tenant):
    paged_tenant.configure(throttle="real", limits=ProtectionLimits(window_s=1, max_requests=3))
    with duckdb.connect() as con, client_for(paged_tenant, paged_tenant.sales_url) as client:
        summary = extract_accounts(con, client, page_size=40)  # 5 pages over a 3-per-second budget
        assert landed_accounts(con) == len(paged_tenant.sales.rows("accounts"))
    stats = client.stats
    assert stats.throttled >= 1 and stats.retries == stats.throttled
    assert stats.seconds_throttled >= stats.throttled  # Retry-After is whole seconds, at least 1
    assert stats.requests == summary.requests + stats.throttled


def test_fno_busy_429_waits_exactly_retry_after(paged_tenant):
    slept = []
    paged_tenant.configure(faults(FaultRule("busy", service="fno", method="GET", path="/CustomersV2", nth=2)))
    with duckdb.connect() as con, client_for(paged_tenant, paged_tenant.fno_url, RetryPolicy(sleep=slept.append)) as client:
        extract_entity(con, client, CUSTOMERS, run_id=1, companies=[])
        landed = con.execute('select count(*) from raw_fno."CustomersV2"').fetchone()[0]
    assert landed == len(paged_tenant.fno.rows("CustomersV2"))
    assert slept == [5.0]  # F&O's Retry-After, no jitter added
    assert (client.stats.throttled, client.stats.seconds_throttled) == (1, 5.0)


def test_never_ending_throttling_gives_up_within_the_bound_and_leaves_staging_as_it_was(paged_tenant):
    slept = []
    policy = RetryPolicy(max_throttle_s=12, sleep=slept.append)
    with duckdb.connect() as con, client_for(paged_tenant, paged_tenant.fno_url, policy) as client:
        extract_entity(con, client, CUSTOMERS, run_id=1, companies=[])
        before = con.execute('select * from raw_fno."CustomersV2" order by all').fetchall()
        paged_tenant.configure(faults(FaultRule("busy", service="fno", path="/CustomersV2", nth=2, times=1000)))
        with pytest.raises(ServiceError) as caught:  # one chain of pages: each range would wait its own bound, in parallel
            extract_entity(con, client, CUSTOMERS, run_id=2, companies=[], parallelism=Parallelism(split_fno=False))
        after = con.execute('select * from raw_fno."CustomersV2" order by all').fetchall()
    assert slept == [5.0, 5.0] and sum(slept) <= policy.max_throttle_s
    assert str(caught.value) == ("fno.CustomersV2: still throttled (HTTP 429) after waiting 10 s (last Retry-After 5 s); "
                                 "gave up at the 12 s throttling limit, run again later")
    assert caught.value.status is None  # nothing after it would fare better: callers stop
    assert after == before


def test_a_post_is_not_sent_again_after_a_reset(paged_tenant):
    paged_tenant.configure(faults(FaultRule("reset", service="sales", method="POST", path="/accounts")))
    with client_for(paged_tenant, paged_tenant.sales_url) as client:
        with pytest.raises(ServiceError) as caught:
            send(client, "POST", "/api/data/v9.2/accounts", json={"name": "Reset Ltd"}, what="sales.accounts(insert)")
        assert client.stats.requests == 1 and client.stats.retries == 0
        # the same request is fine once the connection holds: it was not applied twice
        send(client, "POST", "/api/data/v9.2/accounts", json={"name": "Reset Ltd"}, what="sales.accounts(insert)")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("sales.accounts(insert): the connection to https://")
    assert "a POST is not sent twice because the service may have applied it" in message
    assert [a["name"] for a in paged_tenant.sales.rows("accounts")].count("Reset Ltd") == 1


def test_a_token_the_service_refuses_twice_ends_in_one_auth_line(paged_tenant):
    with client_for(paged_tenant, paged_tenant.sales_url, audience=paged_tenant.fno_url) as client:
        with pytest.raises(AuthError) as caught:
            send(client, "GET", "/api/data/v9.2/accounts", what="sales.accounts")
    assert str(caught.value) == (f"sales.accounts: {paged_tenant.sales_url} refused the access token (HTTP 401) even after "
                                 "a fresh one was fetched; check that the app registration has access to this environment")
    assert client.stats.requests == 1  # the refresh happens inside one send; a 401 is never retried


def test_the_dop_hint_and_per_entity_counts(paged_tenant):
    paged_tenant.configure(dop_hint=7)
    entity_stats = RetryStats()
    with client_for(paged_tenant, paged_tenant.sales_url) as client:
        send(client, "GET", "/api/data/v9.2/accounts", params={"$top": "1"}, what="sales.accounts", stats=entity_stats)
        send(client, "GET", "/api/data/v9.2/contacts", params={"$top": "1"}, what="sales.contacts")
    assert client.stats.dop_hint == entity_stats.dop_hint == 7
    assert (client.stats.requests, entity_stats.requests) == (2, 1)


# --- timing-free unit cases ------------------------------------------------------------------


def mock_client(answers, policy, auth=None):
    """A client answering from ``answers`` in turn (a status, a (status, headers) pair or an exception)."""
    answers = list(answers)
    seen = []

    def handler(request):
        seen.append(request.method)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return httpx.Response(status, headers=headers, json={"value": []})

    client = make_client("https://org.example", auth or httpx.Auth(), transport=httpx.MockTransport(handler), retry=policy)
    return client, seen


def test_the_backoff_grows_and_never_exceeds_its_cap():
    for jitter in (0.0, 0.5, 1.0):
        policy = RetryPolicy(base_delay_s=0.5, max_delay_s=8, jitter=lambda: jitter)
        delays = [policy.backoff(n) for n in range(1, 200)]
        assert max(delays) <= 8 and min(delays) >= 0.25
        assert delays[:4] == sorted(delays[:4]) and delays[0] < delays[3]
    slept = []
    client, seen = mock_client([503], RetryPolicy(max_attempts=12, base_delay_s=1, max_delay_s=4, sleep=slept.append))
    with pytest.raises(ServiceError, match=r"^sales.accounts: HTTP 503: .* \(after 12 attempts\)$"):
        send(client, "GET", "/accounts", what="sales.accounts")
    assert len(seen) == 12 and len(slept) == 11 and max(slept) <= 4 and slept[-1] >= 2


def test_retry_after_is_honoured_exactly_for_every_method():
    slept = []
    client, seen = mock_client([(429, {"Retry-After": "7"}), 204], RetryPolicy(sleep=slept.append))
    assert send(client, "POST", "/accounts", json={}, what="sales.accounts(insert)").status_code == 204
    assert seen == ["POST", "POST"] and slept == [7.0]
    assert (client.stats.requests, client.stats.retries, client.stats.seconds_throttled) == (2, 1, 7.0)


def test_a_read_timeout_repeats_a_get_but_not_a_post():
    slept = []
    client, seen = mock_client([httpx.ReadTimeout("slow"), 200], RetryPolicy(sleep=slept.append))
    assert send(client, "GET", "/accounts", what="sales.accounts").status_code == 200
    assert seen == ["GET", "GET"] and len(slept) == 1
    client, seen = mock_client([httpx.ReadTimeout("slow"), 200], RetryPolicy(sleep=slept.append))
    with pytest.raises(ServiceError, match="a POST is not sent twice"):
        send(client, "POST", "/accounts", json={}, what="sales.accounts(insert)")
    assert seen == ["POST"]


def test_a_gateway_timeout_repeats_a_patch_but_not_a_post():
    client, seen = mock_client([504, 204], RetryPolicy(sleep=lambda s: None))
    assert send(client, "PATCH", "/accounts(1)", json={}, what="sales.accounts(1)").status_code == 204
    client, seen = mock_client([504, 204], RetryPolicy(sleep=lambda s: None))
    with pytest.raises(ServiceError, match=r"^sales.accounts\(insert\): HTTP 504: ") as caught:
        send(client, "POST", "/accounts", json={}, what="sales.accounts(insert)")
    assert seen == ["POST"] and caught.value.status == 504


def test_an_unopened_connection_is_retried_but_an_untrusted_certificate_is_not():
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    client, seen = mock_client([refused, refused, 201], RetryPolicy(sleep=lambda s: None))
    assert send(client, "POST", "/accounts", json={}, what="sales.accounts(insert)").status_code == 201
    assert seen == ["POST"] * 3
    untrusted = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    client, seen = mock_client([untrusted], RetryPolicy(sleep=lambda s: None))
    with pytest.raises(ServiceError, match=r"^sales.accounts: cannot reach https://org.example \(certificate not trusted\)$"):
        send(client, "GET", "/accounts", what="sales.accounts")
    assert seen == ["GET"]


def test_throttling_longer_than_the_bound_gives_up_without_waiting():
    slept = []
    client, _ = mock_client([(429, {"Retry-After": "400"})], RetryPolicy(max_throttle_s=300, sleep=slept.append))
    with pytest.raises(ServiceError, match=r"after waiting 0 s \(last Retry-After 400 s\); gave up at the 300 s"):
        send(client, "GET", "/accounts", what="sales.accounts")
    assert slept == []


class FakeMsalApp:
    """Hands out numbered tokens, as msal would after each cache clear."""

    def __init__(self):
        self.issued = self.cleared = 0

    def acquire_token_for_client(self, scopes):
        self.issued += 1
        return {"access_token": f"token-{self.issued}"}

    def remove_tokens_for_client(self):
        self.cleared += 1


def test_a_second_401_is_one_auth_line():
    app = FakeMsalApp()
    client, seen = mock_client([401], RetryPolicy(sleep=lambda s: None), auth=MsalAuth(app, "https://org.example"))
    with pytest.raises(AuthError, match=r"^sales.accounts: https://org.example refused the access token \(HTTP 401\)"):
        send(client, "GET", "/accounts", what="sales.accounts")
    assert seen == ["GET", "GET"] and app.cleared == 1  # one refresh, then the clear line


def test_the_extract_summary_counts_retries_and_throttled_seconds(tenant):
    """Issue 4 item 5: retries and time throttled per entity reach the run summary."""
    tenant.configure(faults=(FaultRule("busy", service="fno", method="GET", path="/CustomersV2"),))
    waits = []
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    client = make_client(tenant.fno_url, MsalAuth(app, tenant.fno_url), ca_file=tenant.ca_file,
                         retry=RetryPolicy(sleep=waits.append))
    entity = load_project_registry(PROJECT_DIR / "models")[("fno", "CustomersV2")]
    with duckdb.connect() as con, client:
        summary = extract_entity(con, client, entity, run_id=1, companies=["usmf"])
    assert (summary.retries, summary.seconds_throttled, summary.requests) == (1, 5.0, 1)
    assert summary.received > 0 and waits == [5]
