"""`p2c trace ENTITY KEY`: one record's story, from either side, in time order."""


def kinds(story: dict) -> list[tuple]:
    return [(e["kind"], e.get("run_id"), e.get("entity"), e.get("action"), e.get("status")) for e in story["timeline"]]


def test_trace_a_sales_account_through_its_conflict(scenario):
    story = scenario.json("trace", "accounts", scenario.conflicted)
    assert [(r["side"], r["entity"], r["match"]) for r in story["records"]] == [
        ("asked", "sales.accounts", {"accountnumber": scenario.conflicted}),
        ("target", "fno.CustomersV2", {"dataAreaId": "usmf", "CustomerAccount": scenario.conflicted})]
    assert kinds(story) == [
        ("extracted", 1, "sales.accounts", None, None),
        ("planned", 1, "CustomersV2", "insert", None),
        ("pushed", 1, "CustomersV2", "insert", "ok"),
        ("read back", 1, "fno.CustomersV2", None, None),  # the push lands what F&O answered, like an extract
        ("extracted", 2, "sales.accounts", None, None),
        ("extracted", 2, "fno.CustomersV2", None, None),
        ("planned", 2, "CustomersV2", "conflict", None),
        ("pushed", 2, "CustomersV2", "conflict", "conflict"),
        ("planned", 4, "CustomersV2", "conflict", None),
        ("pushed", 4, "CustomersV2", "conflict", "conflict"),
    ]
    timeline = story["timeline"]
    assert timeline[3]["values"]["AddressCity"] == "Vancouver" and timeline[3]["first"]
    assert timeline[4]["changed"] == [{"field": "address1_city", "old": "Vancouver", "new": "Whitehorse"}]
    # the F&O user's edit, extracted in run 2
    assert timeline[5]["changed"] == [{"field": "AddressCity", "old": "Vancouver", "new": "Edited in F&O"}]
    assert timeline[6]["conflicts"] == [{"field": "AddressCity", "base": "Vancouver", "actual": "Edited in F&O",
                                         "desired": "Whitehorse", "resolution": "blocked"}]
    times = [e["at"] for e in timeline]
    assert times == sorted(times)
    [row] = story["model_rows"]
    fields = {f["field"]: f for f in row["fields"]}
    assert (row["model"], row["flow"], row["target"]) == ("customers", "accounts", "fno.CustomersV2")
    assert fields["AddressCity"]["value"] == "Whitehorse"
    assert fields["AddressCity"]["sources"] == ["sales.accounts.address1_city"]
    assert fields["CustomerGroupId"]["seeds"] == ["customer_groups.target_value"]
    assert fields["PartyType"]["literals"] == ["'Organization'"]
    [pushed] = story["pushed"]
    assert pushed["fields"]["AddressCity"] == "Vancouver" and pushed["run_id"] == 1  # the conflict kept p2c's last write


def test_trace_the_refused_customer_from_the_target_side(scenario):
    story = scenario.json("trace", "CustomersV2", f"usmf/{scenario.refused}")
    assert [(r["side"], r["entity"]) for r in story["records"]] == [("asked", "fno.CustomersV2"), ("source", "sales.accounts")]
    pushes = [e for e in story["timeline"] if e["kind"] == "pushed"]
    assert [(p["run_id"], p["status"], p["attempt"]) for p in pushes] == [(2, "failed", 1), (4, "ok", 2)]
    assert "CustomerGroupId" in pushes[0]["error_message"]
    assert story["timeline"][-1]["kind"] == "read back"  # what F&O answered, stored by the push
    assert story["timeline"][-1]["values"]["CustomerGroupId"] == "30"
    assert {f["field"]: f["value"] for f in story["model_rows"][0]["fields"]}["CustomerGroupId"] == "30"


def test_trace_text_reads_as_a_story(scenario):
    text = scenario.cli("trace", "sales.accounts", scenario.edited, "--profile", str(scenario.profile)).stdout
    lines = text.splitlines()
    assert lines[0] == f"trace sales.accounts {scenario.edited}"
    update = next(i for i, line in enumerate(lines) if f"planned update fno.CustomersV2 usmf/{scenario.edited}" in line)
    assert "PrimaryContactPhone:" in lines[update + 1] and "→ '+1-555-010-0001'" in lines[update + 1]
    assert "pushed update fno.CustomersV2 → ok (HTTP 204, attempt 2" in lines[update + 2]
    assert any(line.split()[:2] == ["PrimaryContactPhone", "'+1-555-010-0001'"]
               and line.endswith("← sales.accounts.telephone1, literal ''") for line in lines)


def test_trace_bad_input_is_one_line(scenario):
    missing = scenario.cli("trace", "accounts", "ACC-NOPE", "--profile", str(scenario.profile))
    assert missing.exit_code == 1
    assert missing.stderr.strip() == ("error: trace sales.accounts ACC-NOPE: no such record in raw_sales.accounts "
                                      "(key accountid), its history or the flow models")
    unknown = scenario.cli("trace", "Nope", "x", "--profile", str(scenario.profile))
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: trace Nope: not a declared entity")


def test_trace_an_account_the_model_dropped_still_finds_its_customer(scenario):
    story = scenario.json("trace", "accounts", scenario.deactivated)
    assert story["model_rows"] == []  # deactivated in Sales: the flow no longer outputs it
    assert [(r["side"], r["entity"], r["match"]) for r in story["records"]] == [
        ("asked", "sales.accounts", {"accountnumber": scenario.deactivated}),
        ("target", "fno.CustomersV2", {"dataAreaId": "usmf", "CustomerAccount": scenario.deactivated})]
    [deactivation] = [e for e in story["timeline"] if e["kind"] == "extracted" and e["run_id"] == 4]
    assert {"field": "statecode", "old": 0, "new": 1} in deactivation["changed"]
    assert [(e["run_id"], e["action"], e["status"]) for e in story["timeline"] if e["kind"] == "pushed"] == [(1, "insert", "ok")]
