"""`a eq x or a eq y ...` (a client reading many records by key) is answered as one IN list:
the same rows as the equalities one at a time (emulate/odata/filter.py)."""

import uuid

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse.reads import RULES
from emulate.odata.filter import parse_filter


def _ids(sales, query: str) -> set[str]:
    response = sales.get(f"contacts?$select=contactid&$filter={query}")
    assert response.status_code == 200, response.text
    return {row["contactid"] for row in response.json()["value"]}


def test_an_or_chain_of_key_equalities_finds_what_each_equality_finds(sales):
    stored = sorted(_ids(sales, "statecode eq 0"))[:5]
    wanted = [stored[0], stored[1].upper(), str(uuid.uuid4()), stored[2]]
    chain = " or ".join(f"contactid eq {value}" for value in wanted)
    assert _ids(sales, chain) == set().union(*(_ids(sales, f"contactid eq {value}") for value in wanted)) == {*stored[:3]}


def test_an_or_chain_of_string_equalities_stays_case_insensitive(sales):
    rows = sales.get("contacts?$select=lastname&$top=3&$filter=lastname ne null").json()["value"]
    names = [rows[0]["lastname"].upper(), rows[1]["lastname"].lower(), "No such name"]
    chain = " or ".join(f"lastname eq '{name.replace(chr(39), chr(39) * 2)}'" for name in names)
    one_by_one = set().union(*(_ids(sales, f"lastname eq '{name.replace(chr(39), chr(39) * 2)}'") for name in names))
    assert _ids(sales, chain) == one_by_one and one_by_one


def test_only_one_subject_compared_with_constants_of_one_kind_becomes_a_list():
    contacts = SALES_ENTITY_SETS["contacts"]
    guid = str(uuid.uuid4())
    def sql(text: str) -> str:
        return parse_filter(text, contacts, RULES).sql("duckdb")
    assert sql(f"contactid eq {guid} or contactid eq {guid}") == f"\"contactid\" IN ('{guid}', '{guid}')"
    assert " OR " in sql(f"contactid eq {guid} or _parentcustomerid_value eq {guid}")
    assert " OR " in sql("firstname eq 'a' or firstname eq null")
    assert " OR " in sql("statecode eq 0 or statecode eq 1")
    assert " OR " in sql("firstname eq 'a' or lastname eq 'a'")
