"""A $batch's run of Dataverse writes holds inserts back and looks rows up from what it read once
(`store.Transaction`, `DataverseWrites.remember`); every answer and every stored value is the one
the same writes get sent one request at a time."""

import uuid

import duckdb
import pytest
from sqlglot import exp

from emulate.odata.batch import ChangeSet, Operation, run_items
from emulate.schema import Column
from emulate.store import DeferredWriteFailed, Store, Transaction, bulk_insert, placeholder
from emulate.tenant import EmulatedTenant
from tests.emulate.multipart import batch, change_set, read_batch, request_part

API = "/api/data/v9.2"
_STAMPS = {"modifiedon", "createdon"}  # the clock's: the two runs write at different times


def _ids(n: int) -> list[str]:
    return [str(uuid.UUID(int=(0xC0FFEE << 96) + i)) for i in range(n)]


def _writes(tag: str) -> list[tuple[str, str, dict, dict]]:
    """(method, path, body, headers): creates, a key taken in another case, an update, a non-ASCII key, a stale ETag."""
    ids = _ids(6)
    return [
        ("PATCH", f"contacts({ids[0]})", {"firstname": "Ann", "lastname": tag, "msdynce_contactnumber": f"CON-00001-{tag}"}, {}),
        ("PATCH", f"contacts({ids[1].upper()})", {"firstname": "Bo", "lastname": tag, "msdynce_contactnumber": f"CON-00002-{tag}",
                                                  "jobtitle": "Buyer"}, {}),
        ("PATCH", f"contacts({ids[2]})", {"lastname": tag, "msdynce_contactnumber": f"con-00001-{tag.lower()}"}, {}),  # taken: 412
        ("PATCH", f"contacts({ids[0]})", {"jobtitle": "Owner"}, {"If-Match": "*"}),
        ("PATCH", f"contacts({ids[3]})", {"lastname": tag, "msdynce_contactnumber": f"CÖN-00003-{tag}"}, {}),
        ("PATCH", f"contacts({ids[4]})", {"lastname": tag, "msdynce_contactnumber": f"cön-00003-{tag.lower()}"}, {}),  # taken: 412
        ("PATCH", f"contacts({ids[1]})", {"jobtitle": "Stale"}, {"If-Match": 'W/"1"'}),  # 412
        ("POST", "contacts", {"contactid": ids[5], "lastname": tag, "msdynce_contactnumber": f"CON-00005-{tag}"}, {}),
        ("PATCH", f"contacts({ids[5]})", {"lastname": tag}, {"If-None-Match": "*"}),  # exists: 412
        ("PATCH", f"contacts({ids[2]})", {"lastname": tag, "msdynce_contactnumber": f"CON-00002-{tag}"}, {}),  # taken: 412
    ]


def _stored(tenant: EmulatedTenant, tag: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in _STAMPS} for row in tenant.sales.rows("contacts") if row["lastname"] == tag]


def test_a_batch_stores_and_answers_what_single_requests_do(tmp_path, client_for, token_for):
    tag = "DEFER"
    with EmulatedTenant.start(tmp_path / "one", seed=7) as one, client_for(one) as http:
        headers = {"Authorization": f"Bearer {token_for(one, http, one.sales_url)}"}
        alone = [http.request(method, f"{one.sales_url}{API}/{path}", json=body, headers={**headers, **extra})
                 for method, path, body, extra in _writes(tag)]
        alone = [(r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else "") for r in alone]
        stored_alone = _stored(one, tag)
    with EmulatedTenant.start(tmp_path / "batch", seed=7) as other, client_for(other) as http:
        headers = {"Authorization": f"Bearer {token_for(other, http, other.sales_url)}"}
        content_type, body = batch(*(change_set(request_part(method, f"{API}/{path}", payload, headers=extra, content_id=str(i)))
                                     for i, (method, path, payload, extra) in enumerate(_writes(tag))))
        response = http.post(f"{other.sales_url}{API}/$batch", content=body,
                             headers={**headers, **content_type, "Prefer": "odata.continue-on-error"})
        assert response.status_code == 200, response.text
        in_batch = [(p.status, p.json()["error"]["code"] if p.status >= 400 else "") for p in read_batch(response).parts]
        stored_in_batch = _stored(other, tag)
    assert in_batch == alone
    assert [status for status, _ in alone] == [204, 204, 412, 204, 204, 412, 412, 204, 412, 412]
    assert _without_versions(stored_in_batch) == _without_versions(stored_alone)
    assert _by_version(stored_in_batch) == _by_version(stored_alone)  # ETags: new on each write, in the same order
    assert len(stored_alone) == 4


def _without_versions(rows: list[dict]) -> list[dict]:
    """Versions differ by the sequence values failed writes used up (the batch replays, a held-back insert never ran)."""
    return [{k: v for k, v in row.items() if k != "versionnumber"} for row in rows]


def _by_version(rows: list[dict]) -> list[str]:
    return [row["contactid"] for row in sorted(rows, key=lambda row: row["versionnumber"])]


def test_a_key_created_earlier_in_the_batch_is_taken_in_any_case(sales, tenant):
    tag = uuid.uuid4().hex[:6].upper()
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    number = f"CON-{tag[:5]}-KEY"
    headers, body = batch(
        change_set(request_part("PATCH", f"{API}/contacts({first})", {"lastname": tag, "msdynce_contactnumber": number})),
        change_set(request_part("PATCH", f"{API}/contacts({second})", {"lastname": tag, "msdynce_contactnumber": number.lower()})),
        change_set(request_part("PATCH", f"{API}/contacts({first})", {"lastname": tag, "msdynce_contactnumber": number.lower()})),
        change_set(request_part("PATCH", f"{API}/contacts({third})", {"lastname": tag, "msdynce_contactnumber": number + "X"})),
    )
    parts = read_batch(sales.post("$batch", content=body, headers={**headers, "Prefer": "odata.continue-on-error"})).parts
    assert [p.status for p in parts] == [204, 412, 204, 204]  # the row's own key is not "taken" by itself
    assert parts[1].json()["error"]["code"] == "0x80040237"
    assert {r["contactid"] for r in tenant.sales.rows("contacts") if r["lastname"] == tag} == {str(first), str(third)}


def test_a_rule_writing_other_rows_mid_batch_is_seen_by_the_writes_after_it(sales, tenant):
    """An order names a contact as customer: the rule marks the contact (a new ETag), so a later
    update of that contact with the ETag read before the batch is stale, as it would be alone."""
    contact = uuid.uuid4()
    assert sales.patch(f"contacts({contact})", json={"lastname": "Rule", "msdynce_contactnumber": f"CON-{contact.hex[:5]}-RULE"}).status_code == 204
    etag = sales.get(f"contacts({contact})?$select=lastname").json()["@odata.etag"]
    currency = sales.get("transactioncurrencies?$select=transactioncurrencyid&$top=1").json()["value"][0]["transactioncurrencyid"]
    order = {"name": "Rule order", "customerid_contact@odata.bind": f"/contacts({contact})",
             "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})"}
    headers, body = batch(
        change_set(request_part("PATCH", f"{API}/salesorders({uuid.uuid4()})", order)),
        change_set(request_part("PATCH", f"{API}/contacts({contact})", {"jobtitle": "Late"}, headers={"If-Match": etag})),
    )
    parts = read_batch(sales.post("$batch", content=body, headers={**headers, "Prefer": "odata.continue-on-error"})).parts
    assert [p.status for p in parts] == [204, 412], [p.body for p in parts]
    assert sales.get(f"contacts({contact})?$select=msdynce_isactivecustomer").json()["msdynce_isactivecustomer"] is True


def test_held_back_inserts_that_fail_together_run_again_one_by_one(tmp_path):
    """The caller gets what sending each insert at once gives: here the failing insert's own error, nothing committed."""
    store = Store(tmp_path / "t.duckdb")
    column = Column("v", "decimal")
    with store.writing() as cur:
        cur.execute('CREATE TABLE t (n INTEGER, "v" DECIMAL(19,4))')
    items = [ChangeSet([Operation("POST", "t", None, b"")]) for _ in range(3)]
    values = iter(["1.5", "2.5", "1e+30"] * 3)

    def answer(item):
        with store.writing() as cur:
            cur.insert(("test t",), lambda: _one_row("t", column), lambda: bulk_insert("t", [column], {}), [next(values)])
        return item, False

    prepared = []
    with pytest.raises(duckdb.ConversionException):
        run_items(store, items, answer, stop_on_failure=False, prepare=lambda cur, run: prepared.append(cur.defer))
    assert prepared == [True]  # the held-back run, then the run without
    with store.reading() as cur:
        assert cur.execute("SELECT count(*) FROM t").fetchone() == (0,)
    store.close()


def test_a_failing_flush_raises_deferred_write_failed_and_holds_nothing_back(tmp_path):
    con = duckdb.connect(str(tmp_path / "f.duckdb"))
    con.execute('CREATE TABLE t ("v" INTEGER)')
    column = Column("v", "int")
    transaction = Transaction(con.cursor(), defer=True)
    for value in ("1", "x"):
        transaction.insert(("test f",), lambda: _one_row("t", column), lambda: bulk_insert("t", [column], {}), [value])
    with pytest.raises(DeferredWriteFailed):
        transaction.execute("SELECT 1")
    assert transaction.execute("SELECT count(*) FROM t").fetchone() == (0,)


def _one_row(table: str, column: Column) -> exp.Insert:
    return exp.insert(exp.values([(placeholder(column),)]), table, columns=[exp.to_identifier(column.name, quoted=True)])
