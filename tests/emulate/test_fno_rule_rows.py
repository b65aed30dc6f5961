"""The F&O rules' row access binds its values (`rule_rows.Condition`): it finds and changes
exactly the rows the literal SQL it replaced did (emulate/fno/rule_rows.py)."""

from sqlglot import exp

from emulate.catalog.fno_documents import ORDER_LINES
from emulate.fno import rule_rows as rows
from emulate.store import literal, sql


def _literal_where(entity, **values) -> exp.Expression:
    """The condition as rule_rows built it before: values written into the SQL as literals."""
    conditions = []
    for name, value in values.items():
        column = entity.stored_column(name)
        if column.type == "string":
            conditions.append(exp.EQ(this=exp.Lower(this=rows.col(name)), expression=exp.Lower(this=exp.Literal.string(str(value)))))
        else:
            conditions.append(exp.EQ(this=rows.col(name), expression=literal(column, value)))
    return exp.and_(*conditions)


def test_bound_conditions_find_what_literal_ones_found(tenant):
    names = ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber", "ProductNumber", "OrderedSalesQuantity")
    with tenant.fno.store.writing() as cur:
        line = rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, dataAreaId="usmf"), *names, order_by=names[:3])[0]
        cases = [
            {"dataAreaId": "USMF", "SalesOrderNumber": line["SalesOrderNumber"].lower()},
            {"dataAreaId": "usmf", "SalesOrderNumber": line["SalesOrderNumber"], "LineCreationSequenceNumber": line["LineCreationSequenceNumber"]},
            {"OrderedSalesQuantity": line["OrderedSalesQuantity"], "ProductNumber": line["ProductNumber"].upper()},
            {"ProductNumber": None},
            {"LineCreationSequenceNumber": True},
        ]
        for values in cases:
            bound = rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, **values), *names, order_by=names[:3])
            query = exp.select(*(rows.col(n) for n in names)).from_(rows.table(ORDER_LINES)) \
                .where(_literal_where(ORDER_LINES, **values)).order_by(*(rows.col(n) for n in names[:3]))
            assert bound == [dict(zip(names, row)) for row in cur.execute(sql(query)).fetchall()], values
        assert rows.fetch(cur, ORDER_LINES, "ProductNumber", dataAreaId="USMF", SalesOrderNumber=line["SalesOrderNumber"],
                          LineCreationSequenceNumber=line["LineCreationSequenceNumber"]) == {"ProductNumber": line["ProductNumber"]}


def test_bound_updates_change_what_literal_ones_changed(tenant):
    key = {"dataAreaId": "USMF"}
    with tenant.fno.store.writing() as cur:
        before = rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, dataAreaId="usmf"), "RecId", "RecVersion", "SalesPrice")
        target = before[0]
        rows.update(cur, ORDER_LINES, rows.where(ORDER_LINES, RecId=target["RecId"], **key), {"SalesPrice": 12.5})
        after = {row["RecId"]: row for row in rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, dataAreaId="usmf"),
                                                            "RecId", "RecVersion", "SalesPrice")}
    changed = [r for r in before if after[r["RecId"]] != r]
    assert [r["RecId"] for r in changed] == [target["RecId"]]
    assert float(after[target["RecId"]]["SalesPrice"]) == 12.5 and after[target["RecId"]]["RecVersion"] > target["RecVersion"]
