"""Clustering rewrites large tables in page order and changes nothing else (emulate/cluster.py)."""

from pathlib import Path

import duckdb
import pytest

from emulate import cluster
from emulate.catalog import FNO_ENTITY_SETS, SALES_ENTITY_SETS
from emulate.odata.query import sort_terms
from emulate.store import Store, sql
from emulate.tenant import EmulatedTenant

ENTITY_SETS = [*SALES_ENTITY_SETS.values(), *FNO_ENTITY_SETS.values()]


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A scale-1 tenant's state directory, not being served."""
    with EmulatedTenant.start(tmp_path / "state", seed=3):
        pass
    return tmp_path / "state"


def _contents(store: Store) -> dict[str, list[dict]]:
    return {entity.name: store.rows(entity) for entity in ENTITY_SETS}


def _in_page_order(store: Store, entity) -> bool:
    """Whether the rows sit in the file (rowid order) in the order pages read them."""
    order = ", ".join(f"{sql(subject)} {'DESC' if descending else 'ASC'} NULLS {'LAST' if descending else 'FIRST'}"
                      for subject, descending in sort_terms([], entity))
    with store.reading() as cur:
        return cur.execute(f'SELECT list(rowid ORDER BY rowid) IS NOT DISTINCT FROM list(rowid ORDER BY {order}) FROM "{entity.table}"').fetchone()[0]


def test_a_seeded_tenant_is_marked_clustered(seeded: Path) -> None:
    store = Store(seeded / "tenant.duckdb")
    try:
        assert store.settings()[cluster.SETTING] == "1"
        assert cluster.ensure_clustered(store, ENTITY_SETS) == []  # nothing left to do
    finally:
        store.close()


def test_clustering_keeps_every_row_and_constraint_and_stores_rows_in_page_order(seeded: Path) -> None:
    store = Store(seeded / "tenant.duckdb")
    try:
        before = _contents(store)
        scrambled = [e for e in ENTITY_SETS if store.rows(e) and not _in_page_order(store, e)]
        assert scrambled, "the generator writes some table out of key order (else this test shows nothing)"
        with store.writing() as cur:
            rewritten = cluster.cluster(store, cur, ENTITY_SETS, at_least=1)
        assert set(rewritten) >= {e.table for e in scrambled}
        assert _contents(store) == before
        assert all(_in_page_order(store, e) for e in ENTITY_SETS)
        accounts = SALES_ENTITY_SETS["accounts"]
        with store.reading() as cur, pytest.raises(duckdb.ConstraintException):
            cur.execute(f'INSERT INTO "{accounts.table}" SELECT * FROM "{accounts.table}" LIMIT 1')
    finally:
        store.close()


def test_small_tables_are_left_alone(seeded: Path) -> None:
    store = Store(seeded / "tenant.duckdb")
    try:
        with store.writing() as cur:
            assert cluster.cluster(store, cur, ENTITY_SETS) == []  # scale 1: no table fills a row group
    finally:
        store.close()


def test_a_tenant_seeded_before_clustering_is_clustered_when_opened(seeded: Path) -> None:
    store = Store(seeded / "tenant.duckdb")
    with store.writing() as cur:
        cur.execute("DELETE FROM tenant_settings WHERE name = ?", [cluster.SETTING])
    store.close()
    with EmulatedTenant.start(seeded):
        pass
    store = Store(seeded / "tenant.duckdb")
    try:
        assert store.settings()[cluster.SETTING] == "1"
    finally:
        store.close()
