"""Large tables stored in page order, so that reading one page touches a few row groups, not the whole table.

A collection read pages in key order (Dataverse: the primary key, after the last key of the
previous page). DuckDB keeps min/max statistics per row group and its top-N pushes the page's
bound into the scan, so when rows are stored in that order a page of 5,000 reads about one
row group of 122,880 rows; stored in the order they were generated (random GUIDs), every
page reads and sorts the whole table. The seeded tables are rewritten once in key order
(rows written later are appended, as SQL Server's heap-less clustered index would not, but a
tail of new rows is small next to the seeded millions). Clustering changes no row: only
where rows sit in the file.

A tenant seeded before clustering existed is clustered the first time it is opened
(`SETTING` marks it done).
"""

from collections.abc import Iterable

from sqlglot import exp

from emulate.odata.query import sort_terms
from emulate.schema import EntitySet
from emulate.store import Cursor, Store, sql

SETTING = "clustered"
ROW_GROUP = 122_880  # DuckDB's row group: smaller tables have one, and nothing to skip


def cluster(store: Store, cur: Cursor, entity_sets: Iterable[EntitySet], *, at_least: int = ROW_GROUP) -> list[str]:
    """Rewrite each table of `entity_sets` holding `at_least` rows in key order (inside the caller's transaction);
    returns the tables rewritten. Columns, types, constraints and rows stay as they were."""
    rewritten = []
    for entity in entity_sets:
        stored = exp.to_table(entity.table, quoted=True)
        if cur.execute(sql(exp.select(exp.Count(this=exp.Star())).from_(stored))).fetchone()[0] < at_least:
            continue
        old = exp.to_table(f"{entity.table}__unclustered", quoted=True)
        cur.execute(sql(exp.Alter(this=stored, kind="TABLE", actions=[exp.AlterRename(this=old)])))
        store.create_tables(cur, [entity])  # the same definition, primary key included
        ordered = exp.select(exp.Star()).from_(old).order_by(
            *(exp.Ordered(this=subject, desc=descending, nulls_first=not descending)
              for subject, descending in sort_terms([], entity)))
        cur.execute(sql(exp.insert(ordered, stored)))
        cur.execute(sql(exp.Drop(tables=[old], kind="TABLE")))
        rewritten.append(entity.table)
    return rewritten


def ensure_clustered(store: Store, entity_sets: Iterable[EntitySet]) -> list[str]:
    """Cluster a tenant's large tables once (a tenant seeded before clustering existed); returns the tables rewritten."""
    if store.settings().get(SETTING) == "1":
        return []
    with store.writing() as cur:
        rewritten = cluster(store, cur, entity_sets)
        cur.execute("INSERT OR REPLACE INTO tenant_settings VALUES (?, '1')", [SETTING])
    return rewritten
