"""Checks run on a freshly built model, inside its transaction: a failure keeps the old table."""

from __future__ import annotations

import duckdb

from extract.sql import column_list, ident
from transform.render import Model

SHOW = 10


def check_model(con: duckdb.DuckDBPyConnection, model: Model, target: str) -> list[str]:
    """A flow model's target key must be present, unique and never null."""
    target_config = model.config.get("target")
    if not target_config:
        return []
    key = list(target_config.get("key", []))
    columns = {r[0] for r in con.execute(f"DESCRIBE {target}").fetchall()}
    missing = [k for k in key if k not in columns]
    if missing:
        return [f"{model.path}: target key column(s) {', '.join(missing)} not in the model's output"]
    failures = []
    null_rows = con.execute(
        f"SELECT {column_list(key)} FROM {target} WHERE {' OR '.join(f'{ident(k)} IS NULL' for k in key)} LIMIT {SHOW}"
    ).fetchall()
    if null_rows:
        failures.append(f"{model.name}: key {'/'.join(key)} is null in {len(null_rows)} row(s), e.g. {null_rows[0]}")
    duplicates = con.execute(
        f"SELECT {column_list(key)}, count(*) FROM {target} GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT {SHOW}"
    ).fetchall()
    if duplicates:
        shown = ", ".join("/".join(map(str, d[:-1])) for d in duplicates)
        failures.append(f"{model.name}: key {'/'.join(key)} is not unique: {shown}")
    return failures
