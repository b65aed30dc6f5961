from decimal import Decimal

from load.diff import Change, diff, same

KEY = ["dataAreaId", "CustomerAccount"]


def row(account, **fields):
    return {"dataAreaId": "usmf", "CustomerAccount": account, **fields}


def test_missing_row_is_an_insert_with_every_field():
    [op] = diff("CustomersV2", KEY, [row("A", Name="x", Limit=5)], [])
    assert op.action == "insert"
    assert op.values == {"dataAreaId": "usmf", "CustomerAccount": "A", "Name": "x", "Limit": 5}


def test_update_carries_only_changed_fields_with_old_and_new():
    [op] = diff("CustomersV2", KEY, [row("A", Name="new", City="Oslo")], [row("A", Name="old", City="Oslo", Other=1)])
    assert op.action == "update"
    assert op.changes == (Change("Name", "old", "new"),)
    assert op.values == {"Name": "new"}


def test_equal_rows_and_unmatched_targets_give_no_operation():
    desired = [row("A", Name="x", Limit=Decimal("5000"))]
    actual = [row("A", Name="x", Limit=Decimal("5000.0000")), row("B", Name="not ours")]
    assert diff("CustomersV2", KEY, desired, actual) == []


def test_key_is_matched_on_every_part():
    ops = diff("CustomersV2", KEY, [row("A", Name="x")], [{"dataAreaId": "demf", "CustomerAccount": "A", "Name": "x"}])
    assert [o.action for o in ops] == ["insert"]


def test_numbers_compare_by_value_but_strings_exactly():
    assert same(5000, Decimal("5000.0000"))
    assert same(12.5, Decimal("12.50"))
    assert not same("", None)
    assert not same("10", 10)
