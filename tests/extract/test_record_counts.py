"""``RetrieveTotalRecordCount`` over HTTPS (the emulated Web API's answer, and p2c reading it), and how
p2c uses it: on a first read of several Sales tables the longest chain of pages starts first, and a
chain keeps its place at the gate from one page to the next."""

import threading
import time

import duckdb
import pytest

from emulate.dataverse import record_counts
from emulate.settings import FaultRule
from extract.errors import ServiceError
from extract.http import send
from extract.odata import read_record_counts, record_count_path, sales_logical_name
from extract.parallel import Gate, Place
from extract.profile import PROJECT_DIR
from extract.registry import load_project_registry
from extract.run import extract
from tests.extract.test_parallel import clients, tenant  # noqa: F401 - fixtures: a seed-5 tenant, F&O pages of 10

ENTITIES = load_project_registry(PROJECT_DIR / "models")
ACCOUNTS, CONTACTS = ENTITIES[("sales", "accounts")], ENTITIES[("sales", "contacts")]
CURRENCIES = ENTITIES[("sales", "transactioncurrencies")]


def sent_urls(client) -> list[str]:
    urls: list[str] = []
    client.event_hooks["request"].append(lambda request: urls.append(str(request.url)))
    return urls


def test_the_function_answers_each_tables_count_in_the_documented_shape(tenant, clients):
    sales = clients["sales"]
    answer = send(sales, "GET", "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=['account','contact'])", what="count")
    body = answer.json()
    assert body["@odata.context"] == f"{tenant.sales_url}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse"
    assert body["EntityRecordCountCollection"] == {
        "Count": 2, "IsReadOnly": False, "Keys": ["account", "contact"],
        "Values": [len(tenant.sales.rows("accounts")), len(tenant.sales.rows("contacts"))]}
    aliased = send(sales, "GET", "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=@p1)",
                   params={"@p1": '["contact"]'}, what="count")  # a parameter alias holding a JSON array
    assert aliased.json()["EntityRecordCountCollection"]["Keys"] == ["contact"]
    assert read_record_counts(answer.content) == {"account": len(tenant.sales.rows("accounts")),
                                                  "contact": len(tenant.sales.rows("contacts"))}
    with pytest.raises(ServiceError) as unknown:
        send(sales, "GET", "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=['nosuchtable'])", what="count")
    assert (unknown.value.status, unknown.value.code) == (404, "0x80041102") and "nosuchtable" in str(unknown.value)
    with pytest.raises(ServiceError) as malformed:
        send(sales, "GET", "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames='account')", what="count")
    assert malformed.value.status == 400


def test_the_counts_are_a_snapshot_refreshed_periodically_not_live(tenant, clients, monkeypatch):
    sales, path = clients["sales"], record_count_path(["account"])
    before = read_record_counts(send(sales, "GET", path, what="count").content)["account"]
    created = sales.post("/api/data/v9.2/accounts", json={"name": "Counted later"})
    assert created.status_code == 204, created.text
    assert read_record_counts(send(sales, "GET", path, what="count").content)["account"] == before
    monkeypatch.setattr(record_counts, "SNAPSHOT_MAX_AGE_S", 0.0)  # the platform refreshes its snapshot
    assert read_record_counts(send(sales, "GET", path, what="count").content)["account"] == before + 1


def test_reading_the_answer_refuses_keys_and_values_that_do_not_pair_up():
    assert read_record_counts(b'{"EntityRecordCountCollection":{"Count":1,"Keys":["uom"],"Values":[7]}}') == {"uom": 7}
    for body in (b'{"EntityRecordCountCollection":{"Keys":["uom"],"Values":[]}}', b'{"value":[]}', b"not json",
                 b'{"EntityRecordCountCollection":{"Keys":["uom"],"Values":["7"]}}'):
        with pytest.raises(ValueError):
            read_record_counts(body)
    assert record_count_path(["account", "o'brien"]) == \
        "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=['account','o''brien'])"
    assert [sales_logical_name(k) for k in ("accountid", "transactioncurrencyid", "id", "name")] == \
        ["account", "transactioncurrency", None, None]


def test_a_first_read_asks_the_counts_once_and_starts_the_longest_chain_first(tenant, clients):
    """Registry order would start currencies, then contacts, then accounts; with one request at a time
    the chains run one after another, longest (by the service's count) first."""
    urls = sent_urls(clients["sales"])
    tenant.configure(dop_hint=1)
    entities = [CURRENCIES, CONTACTS, ACCOUNTS]
    with duckdb.connect() as con:
        summaries = extract(con, clients, entities, run_id=1, companies=[], page_size=10)
        landed = {s.entity: s.received for s in summaries}
        assert landed == {e.label: len(tenant.sales.rows(e.entity_set)) for e in entities}
        assert landed["sales.accounts"] > landed["sales.contacts"] > landed["sales.transactioncurrencies"]
        assert "RetrieveTotalRecordCount" in urls[0]
        order = [next(e.entity_set for e in entities if f"/{e.entity_set}?" in u) for u in urls[1:]]
        assert order == ["accounts"] * summaries[2].requests + ["contacts"] * summaries[1].requests \
            + ["transactioncurrencies"] * summaries[0].requests
        assert len(urls) == 1 + sum(s.requests for s in summaries)
        urls.clear()
        extract(con, clients, entities, run_id=2, companies=[], page_size=10)  # raw tables hold rows now
        assert not any("RetrieveTotalRecordCount" in u for u in urls)


def test_a_service_that_refuses_the_function_still_gets_every_row_read(tenant, clients):
    urls = sent_urls(clients["sales"])
    tenant.configure(faults=(FaultRule("500", service="sales", path="/RetrieveTotalRecordCount", times=5),))
    with duckdb.connect() as con:
        summaries = extract(con, clients, [CURRENCIES, ACCOUNTS], run_id=1, companies=[], page_size=50)
    assert any("RetrieveTotalRecordCount" in u for u in urls)  # asked, and refused
    assert [s.received for s in summaries] == [len(tenant.sales.rows("transactioncurrencies")), len(tenant.sales.rows("accounts"))]


def test_a_chain_keeps_its_place_between_requests_until_the_limit_drops():
    limit = [1]
    gate, admitted = Gate(lambda: limit[0]), []

    def queue(name, rank, place=None):
        def take():
            with place.request(rank) if place else gate.slot(rank):
                admitted.append(name)
        thread = threading.Thread(target=take)
        waiting = gate.waiting
        thread.start()
        while gate.waiting <= waiting:  # queued before the test goes on
            time.sleep(0.001)
        return thread

    chain = Place(gate)
    with chain.request((1, 0)):
        admitted.append("chain page 1")
    other = queue("other entity", (1000, 0))  # ranks above the chain: it would win a freed place
    with chain.request((1, 1)):  # but the place is still the chain's: no wait
        admitted.append("chain page 2")
    assert admitted == ["chain page 1", "chain page 2"] and gate.waiting == 1
    chain.release()
    other.join()
    assert admitted[-1] == "other entity"

    limit[0] = 2
    first, second = Place(gate), Place(gate)
    with first.request(), second.request():
        pass
    limit[0] = 1  # a lower dop hint: the next request of a chain over the limit gives its place back and queues
    other = queue("other entity", (1000, 0))
    again = queue("second chain", (0, 5), place=second)
    first.release()
    other.join()
    again.join()
    assert admitted[-2:] == ["other entity", "second chain"]
    second.release()
    assert not gate.over_limit() and gate.waiting == 0
