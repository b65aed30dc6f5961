"""All six flows together on a scale-10 tenant (about 9,000 records): a first sync, a business day of
user work on both sides, a sync of exactly that, then nothing. Slow (about a minute): `make bench`."""

import json

import duckdb
import pytest

from emulate.scenarios import business_day
from emulate.tenant import EmulatedTenant
from extract.profile import PROJECT_DIR

from tests.conftest import SECRET_ENV, write_profile

pytestmark = pytest.mark.slow

FLOW_TARGETS = {
    "accounts": {"fno.CustomersV2"}, "contacts": {"fno.CustomersV2", "fno.CDSContactPersons"},
    "products": {"sales.products"}, "quotes": {"fno.CDSSalesQuotationHeaders", "fno.CDSSalesQuotationLines"},
    "orders": {"fno.CDSSalesOrderHeaders", "fno.CDSSalesOrderLines", "sales.salesorders", "sales.salesorderdetails"},
    "invoices": {"sales.invoices", "sales.invoicedetails"},
}


def test_six_flows_at_scale_10_sync_a_business_day_and_then_converge(cli, tmp_path, monkeypatch):
    with EmulatedTenant.start(tmp_path / "tenant", seed=7, scale=10) as tenant:
        monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
        staging = tmp_path / "staging.duckdb"
        profile = str(write_profile(tmp_path / "profile.toml", tenant, staging=staging, models=PROJECT_DIR / "models"))

        def run() -> dict:
            result = cli("run", "--profile", profile, "--json")
            assert result.exit_code == 0, result.stderr
            return json.loads(result.stdout)

        first = run()
        written = {entity for entity, counts in first["targets"].items() if counts["insert"] or counts["update"]}
        for day in (1, 2):
            work = business_day(tenant, seed=day)
            assert work["invoiced_fno_orders"] and work["confirmed_fno_orders"]
            second = run()
            written |= {entity for entity, counts in second["targets"].items() if counts["insert"] or counts["update"]}
            assert all(c["failed"] == 0 and c["conflict"] == 0 for c in second["targets"].values())
        # every flow wrote to every one of its targets at some point (status-only order updates included)
        assert {flow for flow, targets in FLOW_TARGETS.items() if targets <= written} == set(FLOW_TARGETS)

        third = run()
        assert third["targets"] == {}
        with duckdb.connect(str(staging), read_only=True) as con:
            assert con.execute("select count(*) from p2c_meta.push_log where run_id = ?", [third["run_id"]]).fetchone() == (0,)
            assert con.execute("select count(*) from p2c_meta.push_log where status <> 'ok'").fetchone() == (0,)
