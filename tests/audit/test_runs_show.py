"""`p2c runs show RUN`: everything one run did, per stage, flow and entity."""

import json


def test_runs_show_tells_what_run_2_extracted_planned_pushed_and_what_went_wrong(scenario):
    run = scenario.json("runs", "show", "2")
    assert (run["run_id"], run["status"]) == (2, "failed")
    assert {e["entity"]: (e["new"], e["changed"]) for e in run["extract"]} == {
        "sales.accounts": (1, 2), "fno.CustomersV2": (0, 1)}
    first_inserts = scenario.results[1]["json"]["targets"]["fno.CustomersV2"]["insert"]
    assert [(b["model"], b["status"], b["rows"]) for b in run["builds"]] == [("customers", "ok", first_inserts + 1)]
    [plan] = run["plans"]
    assert plan["pushed_by_run"] == 2
    assert sorted((b["flow"], b["entity"], b["company"], b["action"], b["count"]) for b in plan["breakdown"]) == [
        ("accounts", "CustomersV2", "usmf", "conflict", 1), ("accounts", "CustomersV2", "usmf", "insert", 1),
        ("accounts", "CustomersV2", "usmf", "update", 1)]
    assert [(p["flow"], p["entity"], p["action"], p["status"], p["records"]) for p in run["pushes"]] == [
        ("accounts", "CustomersV2", "conflict", "conflict", 1), ("accounts", "CustomersV2", "insert", "failed", 1),
        ("accounts", "CustomersV2", "update", "ok", 1)]
    problems = {json.loads(p["key"])["CustomerAccount"]: p for p in run["push_problems"]}
    assert set(problems) == {scenario.refused, scenario.conflicted}
    assert "CustomerGroupId" in problems[scenario.refused]["error_message"]
    [conflict] = run["conflicts"]
    assert json.loads(conflict["key"])["CustomerAccount"] == scenario.conflicted
    assert conflict["conflicts"] == [{"field": "AddressCity", "base": "Vancouver", "actual": "Edited in F&O",
                                      "desired": "Whitehorse", "resolution": "blocked"}]


def test_runs_show_a_run_stopped_by_a_check(scenario):
    run = scenario.json("runs", "show", "3")
    # the failing model is held back; the run plans and pushes the rest (here: nothing else)
    assert [(s["stage"], s["status"]) for s in run["stages"]] == [
        ("extract", "ok"), ("build", "failed"), ("plan", "ok"), ("push", "ok")]
    assert [(c["model"], c["check"], c["failing"]) for c in run["failed_checks"]] == [
        ("customers", "accepted_values(CustomerGroupId)", 1)]
    [plan] = run["plans"]
    assert plan["counts"] == {} and plan["skipped"][0].startswith("customers: last build check_failed")
    assert run["pushes"] == []


def test_runs_show_text_and_an_unknown_run(scenario):
    text = scenario.cli("runs", "show", "2", "--profile", str(scenario.profile)).stdout
    assert f"conflict fno.CustomersV2 usmf/{scenario.conflicted} AddressCity: p2c wrote 'Vancouver', target had " \
           "'Edited in F&O', model wants 'Whitehorse' → blocked" in text
    assert f"failed fno.CustomersV2 usmf/{scenario.refused} (insert, HTTP" in text
    unknown = scenario.cli("runs", "show", "99", "--profile", str(scenario.profile))
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: run 99: not in p2c_meta.runs (runs 1..4)"
