"""Conformance: Microsoft's Dataverse Python SDK runs unchanged against the emulated Sales service.

The SDK talks HTTPS through requests (trusting the emulator's CA via REQUESTS_CA_BUNDLE) and
gets its tokens from a TokenCredential; ours asks msal, which asks the emulated authority.
"""

import time

import pytest
from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.models.upsert import UpsertItem

from extract.auth import build_msal_app


class MsalCredential:
    """An azure-core TokenCredential backed by msal's client-credential flow."""

    def __init__(self, tenant):
        self.app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)

    def get_token(self, *scopes, **kwargs):
        result = self.app.acquire_token_for_client(scopes=list(scopes))
        return AccessToken(result["access_token"], int(time.time()) + int(result["expires_in"]))


@pytest.fixture
def sdk(tenant, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tenant.ca_file))
    with DataverseClient(tenant.sales_url, MsalCredential(tenant)) as client:
        yield client


def by_contact_number(tenant, number):
    return [c for c in tenant.sales.rows("contacts") if c["msdynce_contactnumber"] == number]


def test_list_with_paging(sdk, tenant):
    stored = {str(a["accountid"]) for a in tenant.sales.rows("accounts")}
    result = sdk.records.list("account", select=["name", "accountnumber"], page_size=37)
    # SDK 1.1.0's list() leaves Record.id empty; the primary key is in the data
    assert sorted(r["accountid"] for r in result) == sorted(stored)


def test_create_update_delete(sdk, tenant):
    new_id = sdk.records.create("account", {"name": "SDK Conformance Ltd"})
    [row] = [a for a in tenant.sales.rows("accounts") if str(a["accountid"]) == new_id]
    assert row["name"] == "SDK Conformance Ltd" and row["accountnumber"].startswith("ACC-")
    sdk.records.update("account", new_id, {"telephone1": "+1-555-0100"})
    [row] = [a for a in tenant.sales.rows("accounts") if str(a["accountid"]) == new_id]
    assert row["telephone1"] == "+1-555-0100"
    sdk.records.delete("account", new_id)
    assert not [a for a in tenant.sales.rows("accounts") if str(a["accountid"]) == new_id]


def test_create_many(sdk, tenant):
    ids = sdk.records.create("account", [{"name": "Bulk One"}, {"name": "Bulk Two"}])
    names = {str(a["accountid"]): a["name"] for a in tenant.sales.rows("accounts")}
    assert [names[i] for i in ids] == ["Bulk One", "Bulk Two"]


def test_upsert_by_alternate_key_creates_then_updates(sdk, tenant):
    # contacts carry the P2C key msdynce_ContactNumber; accounts have none in P2C 15.0.0.2
    key = {"msdynce_contactnumber": "CON-90001-SDKUPS"}
    sdk.records.upsert("contact", [UpsertItem(alternate_key=key, record={"lastname": "Upserted"})])
    assert [c["lastname"] for c in by_contact_number(tenant, key["msdynce_contactnumber"])] == ["Upserted"]
    sdk.records.upsert("contact", [UpsertItem(alternate_key=key, record={"lastname": "Upserted again"})])
    assert [c["lastname"] for c in by_contact_number(tenant, key["msdynce_contactnumber"])] == ["Upserted again"]


def test_upsert_many(sdk, tenant):
    items = [UpsertItem(alternate_key={"msdynce_contactnumber": f"CON-9100{i}-SDKMNY"}, record={"lastname": f"Many {i}"})
             for i in range(3)]
    sdk.records.upsert("contact", items)
    assert [c["lastname"] for i in range(3) for c in by_contact_number(tenant, f"CON-9100{i}-SDKMNY")] == ["Many 0", "Many 1", "Many 2"]


def test_upsert_by_account_number_is_refused(sdk):
    """accounts have no alternate key in an org with P2C 15.0.0.2, so an account-number upsert fails."""
    with pytest.raises(Exception) as refused:
        sdk.records.upsert("account", [UpsertItem(alternate_key={"accountnumber": "ACC-90002-SDKUPS"}, record={"name": "x"})])
    assert getattr(refused.value, "status_code", None) == 400


def test_batch_with_a_change_set(sdk, tenant):
    batch = sdk.batch.new()
    with batch.changeset() as changeset:
        changeset.records.create("account", {"name": "Batch A"})
        changeset.records.create("account", {"name": "Batch B"})
    result = batch.execute()
    assert len(result.succeeded) == 2 and not result.failed
    assert {"Batch A", "Batch B"} <= {a["name"] for a in tenant.sales.rows("accounts")}
