"""The three-way diff: every outcome and every conflict rule, and the SQL diff agreeing with the reference."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from load.config import Target
from load.diff import Change, Conflict, Operation, diff3
from load.diff_sql import diff_to_table, ensure_pushed_table, key_json

KEY = ["dataAreaId", "Account"]
FIELDS = {"Name": "VARCHAR", "City": "VARCHAR", "Limit": "INTEGER"}


def target(rule="source_wins", create=True, always=()):
    return Target("m", "fno", "E", tuple(KEY), on_conflict=rule, create=create, always_send=tuple(always))


def sql_diff(desired, actual, base, rule="source_wins", create=True, always=()):
    """The SQL diff over real DuckDB tables holding the same rows, read back as Operations."""
    con = duckdb.connect()
    columns = {"dataAreaId": "VARCHAR", "Account": "VARCHAR", **FIELDS}
    schema = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    con.execute(f"CREATE TABLE desired ({schema})")
    con.execute(f"CREATE TABLE actual ({schema}, _p2c_hash VARCHAR, _p2c_deleted BOOLEAN)")
    names = list(columns)
    for row in desired:
        con.execute(f"INSERT INTO desired VALUES ({', '.join('?' * len(names))})", [row.get(c) for c in names])
    for row in actual:
        con.execute(f"INSERT INTO actual VALUES ({', '.join('?' * (len(names) + 2))})",
                    [row.get(c) for c in names] + ["h", row.get("_p2c_deleted", False)])
    ensure_pushed_table(con)
    con.execute('CREATE TABLE base ("dataAreaId" VARCHAR, "Account" VARCHAR, fields JSON)')
    for key, fields in base.items():
        con.execute("INSERT INTO base VALUES (?, ?, ?)", [*key, json.dumps(fields)])
    con.execute(f"INSERT INTO p2c_meta.pushed SELECT 'fno', 'E', {key_json(KEY, 'b.')}, NULL, fields, 1, now() FROM base AS b")
    diff_to_table(con, target(rule, create, always), "desired", "actual")
    ops = []
    for key, action, target_id, changes, conflicts in con.execute(
            "SELECT key, action, target_id, changes, conflicts FROM _p2c_diff").fetchall():
        ops.append(Operation("E", action, tuple(json.loads(key).items()),
                             tuple(Change(*c) for c in json.loads(changes)), target_id,
                             tuple(Conflict(*c) for c in json.loads(conflicts))))
    return ops


def norm(ops):
    def value(v):
        return float(v) if isinstance(v, (Decimal, int, float)) and not isinstance(v, bool) else v
    return sorted(
        (op.action, op.key, tuple((c.field, value(c.old), value(c.new)) for c in op.changes),
         tuple((c.field, value(c.base), value(c.actual), value(c.desired), c.resolution) for c in op.conflicts))
        for op in ops)


def both(desired, actual, base=None, rule="source_wins", create=True, always=()):
    """Run both diffs, insist they agree, return the reference's operations."""
    base = base or {}
    reference = diff3("E", KEY, desired, [a for a in actual if not a.get("_p2c_deleted")],
                      base, on_conflict=rule, create=create, always_send=always)
    assert norm(sql_diff(desired, actual, base, rule, create, always)) == norm(reference)
    return reference


def row(account, **fields):
    return {"dataAreaId": "usmf", "Account": account, **{f: None for f in FIELDS}, **fields}


def test_insert_carries_every_field():
    [op] = both([row("A", Name="x", Limit=5)], [])
    assert op.action == "insert"
    assert op.values == {"dataAreaId": "usmf", "Account": "A", "Name": "x", "City": None, "Limit": 5}


def test_insert_skipped_when_target_says_create_false():
    assert both([row("A", Name="x")], [], create=False) == []


def test_update_carries_only_changed_fields_old_and_new():
    [op] = both([row("A", Name="new", City="Oslo")], [row("A", Name="old", City="Oslo")])
    assert (op.action, op.changes, op.conflicts) == ("update", (Change("Name", "old", "new"),), ())


def test_equal_rows_unmatched_and_deleted_targets_give_no_operation():
    assert both([row("A", Name="x", Limit=5)], [row("A", Name="x", Limit=5), row("B", Name="not ours")]) == []
    [op] = both([row("C", Name="x")], [row("C", Name="x", _p2c_deleted=True)])
    assert op.action == "insert"


def test_target_unchanged_since_last_write_is_a_plain_update():
    [op] = both([row("A", Name="v2")], [row("A", Name="v1")], {("usmf", "A"): {"Name": "v1"}})
    assert op.action == "update" and op.conflicts == ()


EDITED = ([row("A", Name="source", City="Oslo")], [row("A", Name="edited on target", City="Bergen")],
          {("usmf", "A"): {"Name": "p2c wrote this", "City": "Bergen"}})


def test_conflict_source_wins_overwrites_and_reports():
    [op] = both(*EDITED, rule="source_wins")
    assert op.action == "update"
    assert op.changes == (Change("Name", "edited on target", "source"), Change("City", "Bergen", "Oslo"))
    assert op.conflicts == (Conflict("Name", "p2c wrote this", "edited on target", "source", "source_wins"),)


def test_conflict_target_wins_keeps_the_target_value():
    [op] = both(*EDITED, rule="target_wins")
    assert op.changes == (Change("City", "Bergen", "Oslo"),)
    assert op.conflicts[0].resolution == "target_wins"


def test_conflict_target_wins_with_nothing_else_is_no_operation():
    desired, actual, base = [row("A", Name="source")], [row("A", Name="edited")], {("usmf", "A"): {"Name": "wrote"}}
    assert both(desired, actual, base, rule="target_wins") == []


def test_conflict_fill_if_empty_writes_only_into_an_emptied_field():
    desired = [row("A", Name="source", City="Oslo")]
    actual = [row("A", Name="edited", City="")]
    base = {("usmf", "A"): {"Name": "wrote", "City": "Bergen"}}
    [op] = both(desired, actual, base, rule="fill_if_empty")
    assert op.changes == (Change("City", "", "Oslo"),)
    assert {c.field: c.resolution for c in op.conflicts} == {"Name": "kept", "City": "filled"}


def test_conflict_block_holds_the_whole_record_back():
    [op] = both(*EDITED, rule="block")
    assert op.action == "conflict"
    assert op.conflicts[0].resolution == "blocked"


values = st.one_of(st.none(), st.sampled_from(["", "a", "b"]))
numbers = st.one_of(st.none(), st.integers(0, 2))
rows = st.builds(lambda a, n, c, l: row(a, Name=n, City=c, Limit=l), st.sampled_from("ABCD"), values, values, numbers)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    desired=st.lists(rows, max_size=4, unique_by=lambda r: r["Account"]),
    actual=st.lists(rows, max_size=4, unique_by=lambda r: r["Account"]),
    base=st.dictionaries(st.sampled_from("ABCD"), st.fixed_dictionaries({}, optional={"Name": values, "City": values, "Limit": numbers})),
    rule=st.sampled_from(["source_wins", "target_wins", "fill_if_empty", "block"]),
    create=st.booleans(),
    always=st.sampled_from([(), ("City",)]),
)
def test_sql_diff_agrees_with_the_reference(desired, actual, base, rule, create, always):
    both(desired, actual, {("usmf", k): v for k, v in base.items()}, rule, create, always)


def test_always_send_fields_ride_along_with_every_update_but_start_none():
    [op] = both([row("A", Name="new", City="Oslo")], [row("A", Name="old", City="Oslo")], always=("City",))
    assert op.changes == (Change("Name", "old", "new"), Change("City", "Oslo", "Oslo"))
    assert both([row("A", Name="same", City="Oslo")], [row("A", Name="same", City="Oslo")], always=("City",)) == []


@pytest.mark.parametrize("rule", ["nope"])
def test_unknown_rule_is_refused(rule):
    from load.config import target_of
    from load.errors import PlanError
    with pytest.raises(PlanError, match="on_conflict must be one of"):
        target_of("m", "models/flows/m.sql", {"target": {"system": "fno", "entity": "E", "key": ["k"], "on_conflict": rule}})
