"""`p2c run` converges in one run: records needing what F&O assigns on insert follow in a second wave.

Contact persons name their parent customer's PartyNumber, which F&O assigns when the customer
is inserted (models/staging/stg_sales__contact_routes.sql reads it from CustomersV2). The push
reads the inserted customers back into raw_fno.CustomersV2, so the run rebuilds the models
reading it, plans again and pushes the contact persons in the same run.
"""

from __future__ import annotations

from tests.flows.conftest import FlowRun


def test_contact_persons_follow_their_new_parents_in_the_same_run(cli, tenant, tmp_path, monkeypatch):
    run = FlowRun(cli, tenant, tmp_path, monkeypatch, "accounts", "contacts")
    assert not tenant.fno.rows("CDSContactPersons")

    first = run()
    waves = first["waves"]
    assert len(waves) == 2, waves
    assert "fno.CDSContactPersons" not in waves[0]["targets"]  # the parents have no party number yet
    persons = tenant.fno.rows("CDSContactPersons")
    assert persons and waves[1]["targets"] == {
        "fno.CDSContactPersons": {"insert": len(persons), "update": 0, "conflict": 0, "failed": 0}}
    assert first["targets"]["fno.CDSContactPersons"]["insert"] == len(persons)
    party = {c["PartyNumber"] for c in tenant.fno.rows("CustomersV2")}
    assert all(p["AssociatedPartyNumber"] in party for p in persons)
    # no contact is left waiting for a parent that this run created
    assert run.query("select count(*) from models.stg_sales__contact_routes where reason like '%next run%'") == [(0,)]

    # an auditor sees both waves: two plans, two builds, two pushes of the one run
    run_id = first["run_id"]
    plans = run.query("select plan_id from p2c_meta.plans where run_id = ? order by created_at", [run_id])
    assert [p for (p,) in plans][:2] == [w["plan_id"] for w in waves]
    stages = run.query("select stage, count(*) from p2c_meta.runs where run_id = ? group by stage", [run_id])
    assert dict(stages)["push"] == 2 and dict(stages)["plan"] >= 2 and dict(stages)["build"] >= 2
    assert run.query("select count(distinct plan_id) from p2c_meta.push_log where run_id = ?", [run_id]) == [(2,)]
    # every plan the run made is settled (a last wave with nothing to send too): `p2c push` has nothing left to pick
    assert run.query("select count(*) from p2c_meta.plans where run_id = ? and pushed_by_run is null", [run_id]) == [(0,)]

    # read-back also wrote history: each inserted customer's version (party number included) is valid from this run
    assert run.query(
        "select count(*) from raw_fno.CustomersV2__history h join p2c_meta.push_log l on l.run_id = ?"
        " and l.entity = 'CustomersV2' and l.action = 'insert' and l.status = 'ok'"
        " and json_extract_string(l.key, '$.dataAreaId') = h.dataAreaId"
        " and json_extract_string(l.key, '$.CustomerAccount') = h.CustomerAccount"
        " where h._p2c_valid_from_run = ? and h._p2c_valid_to_run is null and h.PartyNumber <> ''",
        [run_id, run_id]) == [(waves[0]["targets"]["fno.CustomersV2"]["insert"],)]

    second = run()
    assert second["targets"] == {} and second["waves"][0]["operations"] == 0
    assert run.writes(second) == 0
