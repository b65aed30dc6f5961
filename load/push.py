"""Push: apply a stored plan in ``$batch`` requests, journaled so an interrupted push resumes.

Order of work: guardrails (nothing sent on a breach), then the affected target records are
re-read and the plan refused if any changed since planning, then batches are sent level by
level (parents before children), at most ``parallel`` at a time. Each batch is journaled in
``p2c_meta.push_batches`` before it is sent. The records read back land in the raw tables
first (extract's own merge, its own transaction); then the answer, every record's outcome
(``p2c_meta.push_log``) and what was written (``p2c_meta.pushed``) are stored in one
transaction with the batch marked answered. A batch left ``sending`` by a killed process
(at any point, including between those two) is reconciled on the next push of the plan: its
records are re-read and those already holding the planned values count as written.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from extract.errors import ServiceError
from extract.registry import Entity
from extract.runs import utcnow
from extract.land import PageSpool, ensure_all_raw_tables, merge_into_raw
from extract.sql import ident, table
from load import guardrails
from load.config import Target
from load.diff import same
from load.errors import PushError, StalePlanError
from load.plan import Plan, PlanItem, ensure_plan_tables, json_value, settle
from load.writers import BatchWriter, Outcome

MAX_OPERATIONS = 1000  # per $batch: the Dataverse limit (protocols.md 1.6)
MAX_PARALLEL = 4       # batches in flight at once, lowered to the service's x-ms-dop-hint


@dataclass
class PushResult:
    plan_id: str
    counts: dict[str, Counter] = field(default_factory=dict)  # entity → {"insert": n, "update": n, "failed": n, ...}
    failures: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # held back (block) or refused by ETag (412): not overwritten
    batches: int = 0
    requests: int = 0
    resumed: int = 0  # records found already written when reconciling an interrupted push

    def as_dict(self) -> dict:
        return {"plan_id": self.plan_id, "counts": {e: dict(c) for e, c in self.counts.items()}, "failures": self.failures,
                "conflicts": self.conflicts, "batches": self.batches, "requests": self.requests, "resumed": self.resumed}


def ensure_push_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_plan_tables(con)
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.push_log ("
        " plan_id VARCHAR, seq INTEGER, run_id BIGINT, system VARCHAR, entity VARCHAR, action VARCHAR,"
        " key JSON, status VARCHAR, http_status INTEGER, target_id VARCHAR, error_code VARCHAR,"
        " error_message VARCHAR, attempt INTEGER, sent_at TIMESTAMP)"
    )
    con.execute("ALTER TABLE p2c_meta.push_log ADD COLUMN IF NOT EXISTS batch_id BIGINT")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.push_batches ("
        " batch_id BIGINT, plan_id VARCHAR, run_id BIGINT, system VARCHAR, seqs JSON, operations INTEGER,"
        " state VARCHAR, sent_at TIMESTAMP, answered_at TIMESTAMP, error VARCHAR)"
    )


def push(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    writers: Mapping[str, BatchWriter],
    targets: Mapping[str, Target],
    entities: Mapping[tuple[str, str], Entity],
    *,
    run_id: int,
    max_operations: int = MAX_OPERATIONS,
    parallel: int = MAX_PARALLEL,
    progress: Callable[[str], None] = lambda _: None,
) -> PushResult:
    ensure_push_tables(con)
    # the raw tables records read back land in (a staging file an older p2c extracted gets the history view first)
    ensure_all_raw_tables(con, {entities[(t.system, t.entity)] for t in targets.values() if (t.system, t.entity) in entities})
    result = PushResult(plan.plan_id)
    done = {seq for (seq,) in con.execute(
        "SELECT seq FROM p2c_meta.push_log WHERE plan_id = ? AND status IN ('ok', 'conflict')", [plan.plan_id]).fetchall()}
    by_seq = {i.seq: i for i in plan.items}
    _reconcile(con, plan, by_seq, done, writers, targets, entities, run_id, result, progress)
    blocked = [i for i in plan.items if i.operation.action == "conflict" and i.seq not in done]
    if blocked:
        _record(con, plan, run_id, None, [(i, Outcome("conflict", None, i.operation.target_id or "", "blocked",
                "the target changed fields p2c wrote; on_conflict = block holds the record back")) for i in blocked],
                targets, entities, result)
    pending = [i for i in plan.items if i.seq not in done and i.operation.action in ("insert", "update")]
    if pending:
        guardrails.check(pending, targets, _target_sizes(con, targets, entities))
        already = _refuse_if_stale(plan, pending, writers, targets)
        if already:  # e.g. created by a killed push whose plan was replaced: count them written, do not create twice
            _record(con, plan, run_id, None, [(i, Outcome("ok", None, writers[i.system].target_id(i, row), row=row))
                                              for i, row in already], targets, entities, result)
            written = {i.seq for i, _ in already}
            pending = [i for i in pending if i.seq not in written]
    doc_level: dict[str, int] = {}
    for i in pending:  # a document goes at the level of its latest record: after everything any of them binds to
        doc_level[i.doc] = max(doc_level.get(i.doc, 0), i.level)
    for level in sorted(set(doc_level.values())):
        batches = _batches([i for i in pending if doc_level[i.doc] == level], max_operations)
        _send(con, plan, batches, writers, targets, entities, run_id, parallel, result, progress)
    result.requests = sum(w.requests_sent for w in writers.values())
    settle(con, plan.plan_id, run_id)
    return result


def _batches(items: Sequence[PlanItem], limit: int) -> list[tuple[str, list[list[PlanItem]]]]:
    """(system, documents) per batch: a document's records stay together, in plan order (headers first)."""
    docs: dict[tuple[str, str], list[PlanItem]] = {}
    for item in sorted(items, key=lambda i: i.seq):
        docs.setdefault((item.system, item.doc or str(item.seq)), []).append(item)
    batches: list[tuple[str, list[list[PlanItem]]]] = []
    for system in sorted({s for s, _ in docs}):
        current: list[list[PlanItem]] = []
        size = 0
        for (doc_system, _), records in docs.items():
            if doc_system != system:
                continue
            for start in range(0, len(records), limit):  # a document over the limit cannot be one change set
                chunk = records[start:start + limit]
                if size + len(chunk) > limit and current:
                    batches.append((system, current))
                    current, size = [], 0
                current.append(chunk)
                size += len(chunk)
        if current:
            batches.append((system, current))
    return batches


def _send(con, plan, batches, writers, targets, entities, run_id, parallel, result, progress) -> None:
    queue = list(batches)
    total = len(queue)
    running: dict[Future, tuple[int, str, list[list[PlanItem]]]] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        while queue or running:
            hint = min((w.dop_hint for w in writers.values() if w.dop_hint), default=parallel)
            # the first batch goes alone: its answer carries the service's recommended parallelism
            room = 1 if result.batches == 0 and not running and total > 1 else max(1, min(parallel, hint))
            while queue and len(running) < room:
                system, documents = queue.pop(0)
                batch_id = _journal_sending(con, plan, run_id, system, documents)
                result.batches += 1
                progress(f"batch {batch_id} sent ({system}, {sum(map(len, documents))} records; {total - len(queue)}/{total} of this level)")
                future = pool.submit(writers[system].write_and_read, documents, f"{system} $batch {batch_id}")
                running[future] = (batch_id, system, documents)
                if result.batches == 1 and total > 1:
                    break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                batch_id, system, documents = running.pop(future)
                try:
                    outcomes = future.result()
                except (ServiceError, ValueError) as exc:  # unreachable, throttled past the limit, or an unreadable answer
                    con.execute("UPDATE p2c_meta.push_batches SET error = ? WHERE batch_id = ?", [str(exc), batch_id])
                    for other in running:
                        other.cancel()
                    raise PushError(f"{exc} (batch {batch_id} of plan {plan.plan_id} is journaled; "
                                    "the next `p2c push` reconciles it with the target and resumes)") from exc
                items = [i for doc in documents for i in doc]
                _record(con, plan, run_id, batch_id, [(i, outcomes[i.seq]) for i in items], targets, entities, result)
                progress(f"batch {batch_id} answered")


def _journal_sending(con, plan: Plan, run_id: int, system: str, documents) -> int:
    seqs = [i.seq for doc in documents for i in doc]
    batch_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM p2c_meta.push_batches").fetchone()[0]
    con.execute("INSERT INTO p2c_meta.push_batches VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, NULL, NULL)",
                [batch_id, plan.plan_id, run_id, system, json.dumps(seqs), len(seqs), utcnow()])
    return batch_id


def _record(con, plan: Plan, run_id: int, batch_id: int | None, outcomes: list[tuple[PlanItem, Outcome]],
            targets, entities, result: PushResult) -> None:
    """Outcomes, what landed and the read-back, with the batch marked answered: one transaction."""
    now = utcnow()
    log, landed = [], []
    for item, outcome in outcomes:
        op = item.operation
        key = item.key_text
        log.append([plan.plan_id, item.seq, run_id, item.system, op.entity, op.action, key, outcome.status,
                    outcome.http_status, outcome.target_id, outcome.error_code, outcome.error_message, batch_id, now])
        counts = result.counts.setdefault(f"{item.system}.{op.entity}", Counter())
        counts[op.action if outcome.ok else outcome.status if outcome.status == "conflict" else "failed"] += 1
        if outcome.ok:
            landed.append((item, outcome))
        elif outcome.status == "conflict":
            result.conflicts.append(f"{item.system}.{op.entity} {'/'.join(str(v) for _, v in op.key)}: {outcome.error_message}")
        elif outcome.status != "rolled_back":
            result.failures.append(f"{item.system}.{op.entity} {'/'.join(str(v) for _, v in op.key)}: {outcome.error_message}")
    pushed, read_back = _read_back(con, landed, targets, entities, run_id, now)
    for (system, entity_set), records in read_back.items():  # raw and history first: they hold what the target holds
        _merge_raw(con, entities[(system, entity_set)], records, run_id, now)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _p2c_log AS SELECT * FROM p2c_meta.push_log LIMIT 0")
        _insert_rows(con, "_p2c_log", ("plan_id", "seq", "run_id", "system", "entity", "action", "key", "status", "http_status",
                                       "target_id", "error_code", "error_message", "batch_id", "sent_at"), log)
        con.execute(
            "INSERT INTO p2c_meta.push_log BY NAME SELECT n.* EXCLUDE (attempt), 1 + (SELECT count(*) FROM p2c_meta.push_log p"
            " WHERE p.system = n.system AND p.entity = n.entity AND p.key::VARCHAR = n.key::VARCHAR"
            " AND p.status NOT IN ('rolled_back')) AS attempt FROM _p2c_log n")
        if pushed:
            _store_pushed(con, pushed)
        if batch_id is not None:
            con.execute("UPDATE p2c_meta.push_batches SET state = 'answered', answered_at = ? WHERE batch_id = ?", [now, batch_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _insert_rows(con, relation: str, names: Sequence[str], rows: list[list]) -> None:
    """Insert ``rows`` in one statement, a list parameter per column (``executemany`` runs one statement per row)."""
    if not rows:
        return
    columns = [list(values) for values in zip(*rows)]
    unnested = ", ".join(f"unnest(?) AS {ident(n)}" for n in names)
    con.execute(f"INSERT INTO {relation} BY NAME SELECT {unnested}", columns)


def _read_back(con, landed: list[tuple[PlanItem, Outcome]], targets, entities, run_id: int,
               now: datetime) -> tuple[list[list], dict[tuple[str, str], list[dict]]]:
    """Rows for ``p2c_meta.pushed`` (each written field's value as read back) and the records read back, per entity."""
    rows = []
    by_entity: dict[tuple[str, str], list[dict]] = {}
    for item, outcome in landed:
        op, target = item.operation, targets[item.model]
        entity = entities[(target.system, target.entity)]
        back = _read_back_row(con, entity, item, outcome)
        written = {c.field: back.get(c.field, c.new) if back is not None else c.new for c in op.changes}
        rows.append([target.system, op.entity, item.key_text, outcome.target_id or None,
                     json.dumps(written, default=json_value), run_id, now])
        if back is not None:
            by_entity.setdefault((target.system, target.entity), []).append(back)
    return rows, by_entity


def _store_pushed(con, rows: list[list]) -> None:
    """Merge what was written into ``p2c_meta.pushed`` (a field keeps its last written value)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _p2c_pushed AS SELECT * FROM p2c_meta.pushed LIMIT 0")
    _insert_rows(con, "_p2c_pushed", ("system", "entity", "key", "target_id", "fields", "run_id", "pushed_at"), rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _p2c_merged AS SELECT n.system, n.entity, n.key, coalesce(n.target_id, o.target_id) AS target_id,"
        " CASE WHEN o.fields IS NULL THEN n.fields ELSE json_merge_patch(o.fields, n.fields) END AS fields, n.run_id, n.pushed_at"
        " FROM _p2c_pushed n LEFT JOIN p2c_meta.pushed o ON o.system = n.system AND o.entity = n.entity AND o.key = n.key")
    con.execute("DELETE FROM p2c_meta.pushed o USING _p2c_merged n WHERE o.system = n.system AND o.entity = n.entity AND o.key = n.key")
    con.execute("INSERT INTO p2c_meta.pushed SELECT * FROM _p2c_merged")


def _read_back_row(con, entity: Entity, item: PlanItem, outcome: Outcome) -> dict | None:
    """The record as the target holds it now: the answer's representation, else the planned values."""
    if outcome.row:
        return {c: outcome.row.get(c) for c in entity.column_names if c in outcome.row}
    if item.operation.action == "insert":
        return None  # nothing certain to land without the service's answer; the next extract reads it
    values = {c.field: c.new for c in item.operation.changes}
    current = con.execute(
        f"SELECT * FROM {table(entity.schema, entity.entity_set)} WHERE "
        + " AND ".join(f"{ident(k)} = ?" for k, _ in item.operation.key),
        [v for _, v in item.operation.key]).fetchone()
    if current is None:
        return None
    names = [d[0] for d in con.description]
    row = {n: v for n, v in zip(names, current) if n in entity.column_names}
    row.update({k: v for k, v in values.items() if k in entity.column_names})
    return row


def _merge_raw(con, entity: Entity, records: list[dict], run_id: int, now: datetime) -> None:
    """The records read back → the raw table and its history (SCD2), the way extract lands a page."""
    spool = PageSpool(con, entity)
    try:
        spool.add_page(json.dumps({"value": records}, default=json_value).encode())
        merge_into_raw(con, entity, spool, run_id=run_id, extracted_at=now, full_read=False)
    finally:
        spool.close()


def _target_sizes(con, targets: Mapping[str, Target], entities) -> dict[str, int]:
    sizes = {}
    for name, target in targets.items():
        entity = entities.get((target.system, target.entity))
        try:
            sizes[name] = con.execute(f"SELECT count(*) FROM {table(entity.schema, entity.entity_set)}"
                                      " WHERE NOT coalesce(_p2c_deleted, FALSE)").fetchone()[0]
        except (duckdb.Error, AttributeError):
            sizes[name] = 0
    return sizes


def _applied(item: PlanItem, row: dict | None) -> bool:
    """Whether the target already holds what ``item`` would write."""
    if row is None:
        return False
    return all(_comparable(row.get(c.field)) == _comparable(c.new) or same(row.get(c.field), c.new) for c in item.operation.changes)


_ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)?")


def _comparable(value: Any) -> Any:
    """A value as both services and the plan can agree on it: UTC timestamps in one form, numbers as floats."""
    if isinstance(value, str) and _ISO_TIMESTAMP.fullmatch(value):
        text = value.replace("T", " ").removesuffix("Z")
        return text[:-6] if text.endswith("+00:00") else text
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _unchanged(item: PlanItem, row: dict | None) -> bool:
    """Whether the target record is as it was when planned (compared on ETag when both have one)."""
    op = item.operation
    if op.action == "insert":
        return row is None or _applied(item, row)
    if row is None:
        return False
    etag = row.get("@odata.etag")
    if item.etag and etag:
        return etag == item.etag
    return all(_comparable(row.get(c.field)) == _comparable(c.old) or same(row.get(c.field), c.old) for c in op.changes)


def _refuse_if_stale(plan: Plan, pending: Sequence[PlanItem], writers, targets) -> list[tuple[PlanItem, dict]]:
    """Re-read the records the plan writes; refuse the plan if any changed on the target since planning.

    Returns the inserts the target already holds exactly as planned (with their rows)."""
    stale, already = [], []
    for system, writer in writers.items():
        items = [i for i in pending if i.system == system]
        if not items:
            continue
        current = writer.read(items, f"{system} stale-plan check")
        stale += [i for i in items if not _unchanged(i, current.get(i.seq))]
        already += [(i, current[i.seq]) for i in items if i.operation.action == "insert" and current.get(i.seq) is not None
                    and _applied(i, current[i.seq])]
    if stale:
        first = stale[0]
        raise StalePlanError(
            f"plan {plan.plan_id} is stale: {len(stale)} target record(s) changed since it was planned, first "
            f"{first.system}.{first.operation.entity} {'/'.join(str(v) for _, v in first.operation.key)}; "
            "nothing was pushed: run `p2c extract` and `p2c plan` again")
    return already


def _reconcile(con, plan: Plan, by_seq, done: set[int], writers, targets, entities, run_id, result, progress) -> None:
    """Batches a killed push left ``sending``: records already holding the planned values count as written."""
    unfinished = con.execute("SELECT batch_id, system, seqs FROM p2c_meta.push_batches WHERE plan_id = ? AND state = 'sending'"
                             " ORDER BY batch_id", [plan.plan_id]).fetchall()
    for batch_id, system, seqs in unfinished:
        items = [by_seq[s] for s in json.loads(seqs) if s in by_seq and s not in done]
        current = writers[system].read(items, f"{system} reconcile batch {batch_id}") if items else {}
        landed = [(i, Outcome("ok", None, writers[system].target_id(i, current[i.seq]), row=current[i.seq]))
                  for i in items if _applied(i, current.get(i.seq))]
        if landed:
            _record(con, plan, run_id, None, landed, targets, entities, result)
            done |= {i.seq for i, _ in landed}
            result.resumed += len(landed)
        con.execute("UPDATE p2c_meta.push_batches SET state = 'reconciled', answered_at = ? WHERE batch_id = ?", [utcnow(), batch_id])
        progress(f"batch {batch_id} reconciled: {len(landed)} of {len(items)} records had landed")


def not_written(failures: list) -> PushError:
    """The one error for records a push could not write."""
    return PushError(f"{len(failures)} record(s) not written, first: {failures[0]} "
                     "(every outcome is in p2c_meta.push_log; failed records are retried by the next run)")


def target_counts(planned: dict, pushed: dict | None) -> dict[str, dict[str, int]]:
    """Per target entity: planned inserts/updates/conflicts, and failures when pushed."""
    counts = {}
    for entity, actions in planned["counts"].items():
        failed = (pushed or {}).get("counts", {}).get(entity, {}).get("failed", 0)
        counts[entity] = {"insert": actions.get("insert", 0), "update": actions.get("update", 0),
                          "conflict": actions.get("conflict", 0), "failed": failed}
    return counts
