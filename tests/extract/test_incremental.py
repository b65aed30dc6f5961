"""Incremental reads against the emulated tenant over HTTPS: Dataverse change tracking for
Sales (deltaLinks in p2c_meta.sync_state, $deletedEntity rows marked deleted, a rejected
token read again in full), full reads for F&O, --full-refresh and --select from the CLI."""

import datetime as dt
import json

import duckdb
import pytest

from emulate.scenarios import edit_accounts
from emulate.settings import FaultRule
from extract.auth import MsalAuth, build_msal_app
from extract.errors import ExtractError, ServiceError
from extract.http import make_client
from extract.profile import PROJECT_DIR
from extract import run as run_module, sync_state as sync_module
from extract.registry import load_project_registry, select_entities
from extract.run import extract_entity

ENTITIES = load_project_registry(PROJECT_DIR / "models")
ACCOUNTS = ENTITIES[("sales", "accounts")]


class Counted:
    """A client for one service of the tenant that counts the HTTP requests it sends."""

    def __init__(self, tenant, url):
        app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
        self.client = make_client(url, MsalAuth(app, url), ca_file=tenant.ca_file)
        self.urls: list[str] = []
        self.client.event_hooks["request"].append(lambda request: self.urls.append(str(request.url)))

    def take(self) -> list[str]:
        urls, self.urls = self.urls, []
        return urls


@pytest.fixture
def sales(tenant):
    counted = Counted(tenant, tenant.sales_url)
    yield counted
    counted.client.close()


@pytest.fixture
def con():
    with duckdb.connect() as con:
        yield con


def extract(con, sales, run_id, **options):
    return extract_entity(con, sales.client, ACCOUNTS, run_id=run_id, companies=[], **options)


def accounts(con) -> dict[str, tuple]:
    rows = con.execute("select accountid, telephone1, address1_city, name, _p2c_deleted, _p2c_run_id from raw_sales.accounts")
    return {row[0]: row[1:] for row in rows.fetchall()}


def delta_links(con) -> list[tuple]:
    return con.execute("select entity, delta_link, run_id from p2c_meta.sync_state order by entity").fetchall()


def delete_account(sales, account_id):
    response = sales.client.delete(f"/api/data/v9.2/accounts({account_id})")
    assert response.status_code == 204, response.text


def test_registry_tracks_sales_accounts_and_reads_fno_in_full():
    assert ACCOUNTS.incremental == "change_tracking"
    assert ENTITIES[("fno", "CustomersV2")].incremental == "full"


def test_first_extract_stores_a_delta_link_then_a_delta_lands_edits_and_deletes(tenant, sales, con):
    stored = {a["accountid"]: a for a in tenant.sales.rows("accounts")}
    first = extract(con, sales, 1)
    assert first.read == "full" and first.full_reread_reason is None
    assert first.received == first.new == len(stored)
    (entity, link, run_id), = delta_links(con)
    assert (entity, run_id) == ("sales.accounts", 1) and "$deltatoken=" in link
    sales.take()

    edited_numbers = edit_accounts(tenant, 3, seed=5)
    edited = {a["accountid"]: a for a in tenant.sales.rows("accounts") if a["accountnumber"] in edited_numbers}
    gone = sorted(set(stored) - set(edited))[0]
    delete_account(sales, gone)
    sales.take()
    before = accounts(con)

    second = extract(con, sales, 2)
    assert sales.take() == [link]  # one request: the stored deltaLink, verbatim
    assert (second.read, second.requests, second.new, second.changed, second.deleted) == ("delta", 1, 0, 3, 1)
    after = accounts(con)
    assert after[gone][3:] == (True, 2)
    for account_id, account in edited.items():
        assert after[account_id] == (account["telephone1"], account["address1_city"], account["name"], False, 2)
    untouched = set(stored) - set(edited) - {gone}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    history = con.execute("select _p2c_deleted, _p2c_valid_from_run, _p2c_valid_to_run from raw_sales.accounts__history "
                          "where accountid = ? order by _p2c_valid_from_run", [gone]).fetchall()
    assert history == [(False, 1, 2), (True, 2, None)]
    (_, new_link, run_id), = delta_links(con)
    assert run_id == 2 and new_link != link


def test_no_changes_lands_nothing_with_one_request(tenant, sales, con):
    extract(con, sales, 1)
    before = con.execute("select * from raw_sales.accounts order by accountid").fetchall()
    sales.take()
    again = extract(con, sales, 2)
    assert len(sales.take()) == 1
    assert (again.read, again.received, again.new, again.changed, again.deleted) == ("delta", 0, 0, 0, 0)
    assert con.execute("select * from raw_sales.accounts order by accountid").fetchall() == before
    assert con.execute("select max(_p2c_valid_from_run) from raw_sales.accounts__history").fetchone() == (1,)


def test_an_expired_token_is_dropped_and_the_entity_read_again_in_full(tenant, sales, con):
    extract(con, sales, 1)
    (_, old_link, _), = delta_links(con)
    delete_account(sales, next(iter(accounts(con))))
    tenant.sales.changes.retention = dt.timedelta(seconds=-60)  # every token issued so far has expired
    sales.take()
    reread = extract(con, sales, 2)
    urls = sales.take()
    assert urls[0] == old_link and "$deltatoken" not in urls[1]
    assert reread.read == "full" and reread.requests == len(urls) == 2
    assert "0x80044352" in reread.full_reread_reason and "expired" in reread.full_reread_reason
    assert reread.deleted == 1  # a full read: absence is deletion
    (_, link, run_id), = delta_links(con)
    assert run_id == 2 and link != old_link


@pytest.mark.parametrize("read", ["first", "delta"])
def test_an_extract_interrupted_mid_pages_leaves_raw_and_sync_state_as_they_were(tenant, sales, con, read):
    if read == "delta":
        extract(con, sales, 1)
        edit_accounts(tenant, 12, seed=9)
    before = (con.execute("select * from raw_sales.accounts order by accountid").fetchall()
              if read == "delta" else None, _links_if_any(con))
    tenant.configure(faults=(FaultRule("500", service="sales", method="GET", path="/accounts", nth=2),))
    with pytest.raises(ServiceError, match="sales.accounts: HTTP 500"):
        extract(con, sales, 2, page_size=5)
    tenant.configure(faults=())
    after = (con.execute("select * from raw_sales.accounts order by accountid").fetchall()
             if read == "delta" else None, _links_if_any(con))
    assert after == before
    if read == "first":
        assert con.execute("select count(*) from raw_sales.accounts").fetchone() == (0,)
    rerun = extract(con, sales, 3, page_size=5)  # neither duplicates nor loses a record
    assert rerun.requests > 2
    assert set(accounts(con)) == {a["accountid"] for a in tenant.sales.rows("accounts")}
    assert con.execute("select count(*) = count(distinct accountid) from raw_sales.accounts").fetchone() == (True,)
    if read == "delta":
        assert rerun.read == "delta" and rerun.changed == 12


def test_the_delta_link_commits_with_the_merge_or_not_at_all(tenant, sales, con, monkeypatch):
    extract(con, sales, 1)
    edit_accounts(tenant, 2, seed=3)
    before = (con.execute("select * from raw_sales.accounts order by accountid").fetchall(), delta_links(con))

    def store_then_fail(*args, **kwargs):
        sync_module.save_delta_link(*args, **kwargs)
        raise RuntimeError("interrupted while committing")

    monkeypatch.setattr(run_module, "save_delta_link", store_then_fail)
    with pytest.raises(RuntimeError):
        extract(con, sales, 2)
    assert (con.execute("select * from raw_sales.accounts order by accountid").fetchall(), delta_links(con)) == before


def _links_if_any(con):
    try:
        return delta_links(con)
    except duckdb.CatalogException:
        return []  # no table yet is no link yet


def test_select_narrows_by_label_or_model():
    entities = list(ENTITIES.values())
    needs = {"stg_sales__accounts": {("sales", "accounts")}}
    assert [e.label for e in select_entities(entities, ["fno.CustomersV2"], needs)] == ["fno.CustomersV2"]
    assert [e.label for e in select_entities(entities, ["stg_sales__accounts"], needs)] == ["sales.accounts"]
    assert select_entities(entities, [], needs) == entities
    with pytest.raises(ExtractError, match="--select nowhere"):
        select_entities(entities, ["nowhere"], needs)


def cli_json(cli, *args):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return {e["entity"]: e for e in json.loads(result.stdout)}


def test_cli_extract_then_delta_then_full_refresh_and_select(cli, tenant, profile, tmp_path):
    first = cli_json(cli, "extract", "--profile", str(profile))
    assert {"sales.accounts", "sales.transactioncurrencies", "fno.CustomersV2"} <= set(first)
    assert {e: s["read"] for e, s in first.items()} == dict.fromkeys(first, "full")

    quiet = cli_json(cli, "extract", "--profile", str(profile))
    assert quiet["sales.accounts"]["read"] == "delta"
    assert {e: (s["requests"], s["new"], s["changed"], s["deleted"]) for e, s in quiet.items()} == dict.fromkeys(quiet, (1, 0, 0, 0))

    refreshed = cli_json(cli, "extract", "--profile", str(profile), "--full-refresh", "--select", "sales.accounts")
    assert list(refreshed) == ["sales.accounts"]
    assert (refreshed["sales.accounts"]["read"], refreshed["sales.accounts"]["full_reread_reason"]) == ("full", "--full-refresh")
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as con:
        assert con.execute("select run_id from p2c_meta.sync_state where entity = 'sales.accounts'").fetchall() == [(3,)]

    by_model = cli_json(cli, "extract", "--profile", str(profile), "--select", "stg_sales__transactioncurrencies")
    assert list(by_model) == ["sales.transactioncurrencies"]
    assert cli("extract", "--profile", str(profile), "--select", "nowhere").exit_code == 1

    run = cli("run", "--profile", str(profile), "--full-refresh", "--json")
    assert run.exit_code == 0, run.output
    assert {e["entity"]: e["read"] for e in json.loads(run.stdout)["extract"]}["sales.accounts"] == "full"


def test_an_entity_declared_in_two_source_files_is_refused(tmp_path):
    from extract.errors import ExtractError

    (tmp_path / "sources").mkdir()
    body = '[sales.accounts]\nkey = ["accountid"]\n[sales.accounts.columns]\naccountid = "VARCHAR"\n'
    (tmp_path / "sources" / "accounts.toml").write_text(body)
    (tmp_path / "sources" / "contacts.toml").write_text(body)
    with pytest.raises(ExtractError, match=r"contacts.toml: \[sales.accounts\] is already declared in .*accounts.toml"):
        load_project_registry(tmp_path)
