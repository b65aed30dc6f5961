"""`p2c status` on the scenario's staging database, as it was after run 2 and at the end."""

import json



def stages(run: dict) -> dict[str, dict]:
    return {s["stage"]: s for s in run["stages"]}


def test_status_after_the_run_that_failed_lists_the_refused_record_as_pending(scenario):
    found = scenario.json("status", profile=scenario.copy("status-after-2", run=2))
    assert [r["run_id"] for r in found["runs"]] == [2, 1]
    second, first = found["runs"]
    assert (first["status"], second["status"]) == ("ok", "failed")
    assert second["profile"] == first["profile"] == "profile"  # the profile the runs ran with (profile.toml)
    assert [s["stage"] for s in second["stages"]] == ["extract", "build", "plan", "push"]
    push = stages(second)["push"]
    assert push["status"] == "failed" and scenario.refused in push["error"]
    assert {k: v for k, v in push["counts"].items() if k != "plan_id"} == {"ok": 1, "failed": 1, "conflict": 1}
    extract = stages(second)["extract"]["counts"]
    assert (extract["entities"], extract["new"], extract["changed"]) == (2, 1, 3)  # the new account; 2 accounts + 1 customer
    assert stages(first)["push"]["counts"]["ok"] == stages(first)["plan"]["counts"]["insert"] == 15
    assert all(s["seconds"] is not None and s["seconds"] >= 0 for r in found["runs"] for s in r["stages"])
    [pending] = found["pending_retries"]
    assert json.loads(pending["key"]) == {"dataAreaId": "usmf", "CustomerAccount": scenario.refused}
    assert (pending["status"], pending["run_id"], pending["attempt"]) == ("failed", 2, 1)
    assert "CustomerGroupId" in pending["error_message"]


def test_status_at_the_end_shows_the_blocked_build_and_nothing_pending(scenario):
    found = scenario.json("status")
    assert [(r["run_id"], r["status"]) for r in found["runs"]] == [(4, "ok"), (3, "failed"), (2, "failed"), (1, "ok")]
    build = stages(found["runs"][1])["build"]
    assert build["status"] == "failed" and "accepted_values(CustomerGroupId)" in build["error"]
    assert stages(found["runs"][1])["plan"]["counts"]["operations"] == 0  # the failing model is held back, not planned
    assert found["pending_retries"] == []
    assert [r["run_id"] for r in scenario.json("status", "--last", "2")["runs"]] == [4, 3]


def test_status_text_names_runs_stages_and_retries(scenario):
    text = scenario.cli("status", "--profile", str(scenario.copy("status-text", run=2))).stdout
    lines = text.splitlines()
    assert lines[0].startswith("run 2 ") and "failed" in lines[0]
    assert any(line.split()[:2] == ["push", "failed"] and "1 failed" in line and "1 conflict" in line for line in lines)
    assert "pending retries: 1 (the next push sends them again)" in lines
    assert any(f"fno.CustomersV2 usmf/{scenario.refused}: failed in run 2" in line for line in lines)
