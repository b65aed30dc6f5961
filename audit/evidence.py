"""What the staging database holds for the records a trace found: raw versions, plan entries, pushes."""

from __future__ import annotations

import json

from sqlglot import exp

from audit.db import column, has_table, key_where, match_where, rows, table, table_columns
from audit.plan_json import changes_of, conflicts_of
from audit.story import Record, Story


def collect(con, story: Story) -> None:
    unique: list[Record] = []
    for record in story.records:  # one record reached twice: keep the fuller match (usmf/X over X)
        if any(r.entity is record.entity and record.match.items() <= r.match.items() for r in unique):
            continue
        unique = [r for r in unique if not (r.entity is record.entity and r.match.items() < record.match.items())]
        unique.append(record)
    story.records = unique
    for record in story.records:
        story.versions += _versions(con, record)
    targets = {(m["target"], json.dumps(m["key"], sort_keys=True)): m for m in story.model_rows}
    targets.update({(r.entity.label, json.dumps(r.match, sort_keys=True)): {"target": r.entity.label, "key": r.match}
                    for r in story.records if r.side in ("asked", "target")})
    for target in targets.values():
        system, _, entity = target["target"].partition(".")
        story.plans += _plan_entries(con, system, entity, target["key"])
        story.pushes += [{**p, "key": target["key"]} for p in _push_entries(con, system, entity, target["key"])]
        story.pushed += _pushed(con, system, entity, target["key"])
    if has_table(con, "p2c_meta", "runs"):
        story.run_times = dict(con.execute(
            "SELECT run_id, min(finished_at) FROM p2c_meta.runs WHERE stage = 'extract' GROUP BY run_id").fetchall())
    _mark_read_backs(story)


def _mark_read_backs(story: Story) -> None:
    """A push lands what it read back in the raw table and ``__history`` like an extract, with the push's run:
    the newest version of a run that wrote the record is that read-back, timed by the push."""
    for version in story.versions:
        if version["origin"] != "extract" or version["valid_to_run"] == version["valid_from_run"]:
            continue  # replaced within its own run: what that run's extract saw, before its push
        landed = [p for p in story.pushes if p["status"] == "ok" and p["run_id"] == version["valid_from_run"]
                  and f"{p['system']}.{p['entity']}" == version["entity"] and p["key"] == version["match"]]
        if landed:
            version["origin"], version["at"] = "read_back", max(p["sent_at"] for p in landed)


def _versions(con, record: Record) -> list[dict]:
    """The record's versions from its ``__history`` table, oldest first, each with the fields that changed."""
    entity = record.entity
    name = f"{entity.entity_set}__history"
    present = table_columns(con, entity.schema, name)
    if not present or not set(record.match) <= set(present):
        return []
    values = [c for c in entity.column_names if c in present]
    query = (exp.select(*(column(c) for c in values), column("_p2c_deleted"), column("_p2c_valid_from_run"),
                        column("_p2c_valid_to_run"))
             .from_(table(entity.schema, name)).where(match_where(record.match))
             .order_by(column("_p2c_valid_from_run")))
    found = []
    previous: dict | None = None
    for row in rows(con, query, list(record.match.values())):
        current = {c: row[c] for c in values}
        changed = [{"field": c, "old": previous[c], "new": current[c]} for c in values
                   if previous is not None and previous[c] != current[c]]
        found.append({"entity": entity.label, "side": record.side, "match": record.match, "origin": "extract", "at": None,
                      "valid_from_run": row["_p2c_valid_from_run"], "valid_to_run": row["_p2c_valid_to_run"],
                      "deleted": row["_p2c_deleted"], "first": previous is None, "changed": changed, "values": current})
        previous = current
    return found + _read_back(con, record, values, previous)


def _read_back(con, record: Record, values: list[str], previous: dict | None) -> list[dict]:
    """The raw row when it differs from the newest history version: what a push read back into it."""
    entity = record.entity
    present = set(table_columns(con, entity.schema, entity.entity_set))
    if not present or not set(record.match) <= present:
        return []
    query = (exp.select(*(column(c) for c in values), column("_p2c_run_id"), column("_p2c_extracted_at"), column("_p2c_deleted"))
             .from_(table(entity.schema, entity.entity_set)).where(match_where(record.match)))
    found = []
    for row in rows(con, query, list(record.match.values())):
        current = {c: row[c] for c in values}
        if previous is not None and current == previous:
            continue
        changed = [{"field": c, "old": previous[c], "new": current[c]} for c in values
                   if previous is not None and previous[c] != current[c]]
        found.append({"entity": entity.label, "side": record.side, "match": record.match, "origin": "read_back",
                      "at": row["_p2c_extracted_at"], "valid_from_run": row["_p2c_run_id"], "valid_to_run": None,
                      "deleted": row["_p2c_deleted"], "first": previous is None, "changed": changed, "values": current})
    return found


def _plan_entries(con, system: str, entity: str, key: dict[str, str]) -> list[dict]:
    if not has_table(con, "p2c_meta", "plan") or not has_table(con, "p2c_meta", "plans"):
        return []
    found = rows(con, f"""
        SELECT p.plan_id, s.run_id, s.created_at, p.seq, p.model, p.system, p.entity, p.action,
               p.key::VARCHAR AS key, p.changes::VARCHAR AS changes, p.conflicts::VARCHAR AS conflicts,
               p.notes::VARCHAR AS notes, p.target_id
        FROM p2c_meta.plan AS p JOIN p2c_meta.plans AS s ON s.plan_id = p.plan_id
        WHERE p.system = ? AND p.entity = ? AND {key_where(key, "p").sql("duckdb")}
        ORDER BY s.created_at, p.seq""", [system, entity, *key.values()])
    for item in found:
        item["key"] = json.loads(item["key"])
        item["changes"] = changes_of(item["changes"])
        item["conflicts"] = conflicts_of(item["conflicts"])
        item["notes"] = json.loads(item["notes"]) if item["notes"] else {}
    return found


def _push_entries(con, system: str, entity: str, key: dict[str, str]) -> list[dict]:
    if not has_table(con, "p2c_meta", "push_log"):
        return []
    query = (exp.select("plan_id", "seq", "run_id", "system", "entity", "action", "status", "http_status", "target_id",
                        "error_code", "error_message", "attempt", "sent_at")
             .from_(table("p2c_meta", "push_log"))
             .where(exp.and_(exp.column("system").eq(exp.Placeholder()), exp.column("entity").eq(exp.Placeholder()),
                             key_where(key)))
             .order_by("sent_at", "seq"))
    return rows(con, query, [system, entity, *key.values()])


def _pushed(con, system: str, entity: str, key: dict[str, str]) -> list[dict]:
    if not has_table(con, "p2c_meta", "pushed"):
        return []
    query = (exp.select("system", "entity", "key", "target_id", exp.cast(column("fields"), "VARCHAR").as_("fields"),
                        "run_id", "pushed_at")
             .from_(table("p2c_meta", "pushed"))
             .where(exp.and_(exp.column("system").eq(exp.Placeholder()), exp.column("entity").eq(exp.Placeholder()),
                             key_where(key))))
    found = rows(con, query, [system, entity, *key.values()])
    for item in found:
        item["key"] = json.loads(item["key"])
        item["fields"] = json.loads(item["fields"] or "{}")
    return found
