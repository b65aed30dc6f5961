"""Text lines for the audit commands (``--json`` prints the same content as data)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

_SHOWN_VALUES = 60  # characters of a value before it is cut in text output


def status_lines(found: dict) -> list[str]:
    if not found["runs"]:
        return ["no runs recorded yet: `p2c run` makes the first"]
    lines = []
    for run in found["runs"]:
        lines.append(f"run {run['run_id']:<4} {_when(run['started_at'])}  profile {run['profile']}  "
                     f"{run['status']}  {_secs(run['seconds'])}")
        lines += [f"  {s['stage']:<8} {s['status']:<7} {_secs(s['seconds']):>8}  {_counts(s['counts'])}"
                  + (f"\n           error: {s['error']}" if s["error"] else "") for s in run["stages"]]
    retries = found["pending_retries"]
    lines.append(f"pending retries: {len(retries)}" + (" (the next push sends them again)" if retries else ""))
    lines += [f"  {r['system']}.{r['entity']} {_key(r['key'])}: {r['status']} in run {r['run_id']}"
              f" (attempt {r['attempt']}, HTTP {r['http_status']}): {r['error_message']}" for r in retries]
    return lines


def run_lines(run: dict) -> list[str]:
    lines = [f"run {run['run_id']}  {_when(run['started_at'])} → {_when(run['finished_at'])}  profile {run['profile']}  "
             f"{run['status']}  {_secs(run['seconds'])}"]
    for s in run["stages"]:
        lines.append(f"  {s['stage']:<8} {s['status']:<7} {_secs(s['seconds']):>8}  {_counts(s['counts'])}")
        if s["error"]:
            lines.append(f"           error: {s['error']}")
    if run["extract"]:
        lines.append("extracted")
        lines += [f"  {e['entity']:<40} {e.get('received', 0):>6} received  {e.get('new', 0)} new  "
                  f"{e.get('changed', 0)} changed  {e.get('deleted', 0)} deleted  ({e.get('read', '?')})"
                  for e in run["extract"]]
    if run["builds"]:
        failed = [b for b in run["builds"] if b["status"] != "ok"]
        lines.append(f"built {len(run['builds'])} model(s), {len(failed)} not ok")
        lines += [f"  {b['model']}: {b['status']}: {b['message']}" for b in failed]
    lines += [f"  check failed {c['model']} {c['check']}: {c['message']}" for c in run["failed_checks"]]
    for plan in run["plans"]:
        pushed = f", pushed by run {plan['pushed_by_run']}" if plan["pushed_by_run"] else ", not pushed"
        lines.append(f"plan {plan['plan_id']} at {_when(plan['created_at'])}{pushed}")
        lines += [f"  {b.get('flow') or '-':<9} {b['system']}.{b['entity']:<32} company {b.get('company') or '-':<5} "
                  f"{b['count']:>5} {b['action']}" for b in plan["breakdown"]]
        lines += [f"  skipped {reason}" for reason in plan["skipped"]]
    if run["pushes"]:
        lines.append("pushed")
        lines += [f"  {p['flow'] or '-':<9} {p['system']}.{p['entity']:<32} {p['action']:<8} {p['status']:<12} {p['records']:>5}"
                  for p in run["pushes"]]
    for p in run["push_problems"]:
        lines.append(f"  {p['status']} {p['system']}.{p['entity']} {_key(p['key'])} ({p['action']}, HTTP {p['http_status']}): "
                     f"{p['error_message']}")
    for c in run["conflicts"]:
        for field in c["conflicts"]:
            lines.append(f"  conflict {c['system']}.{c['entity']} {_key(c['key'])} {field.get('field')}: p2c wrote "
                         f"{field.get('base')!r}, target had {field.get('actual')!r}, model wants {field.get('desired')!r}"
                         f" → {field.get('resolution')}")
    return lines


def trace_lines(story: dict) -> list[str]:
    lines = [f"trace {story['entity']} {story['key']}"]
    lines += [f"  {r['side']:<6} {r['entity']} {_match(r['match'])}" for r in story["records"]]
    lines += [f"  note   {note}" for note in story["notes"]]
    for event in story["timeline"]:
        lines += _event_lines(event)
    for row in story["model_rows"]:
        lines.append(f"model row {row['model']} (flow {row['flow']}) → {row['target']} {_match(row['key'])}")
        for f in row["fields"]:
            origin = [*f["sources"], *(f"seed {s}" for s in f["seeds"]), *(f"literal {v}" for v in f["literals"])]
            lines.append(f"  {f['field']:<36} {_value(f['value']):<30} ← {', '.join(origin) or '(no inputs found)'}")
    for pushed in story["pushed"]:
        lines.append(f"last written to {pushed['system']}.{pushed['entity']} {_match(pushed['key'])} by run {pushed['run_id']} "
                     f"at {_when(pushed['pushed_at'])}: {len(pushed['fields'])} field(s) p2c owns")
    return lines


def _event_lines(e: dict) -> list[str]:
    at = f"{_when(e['at'])}  run {e.get('run_id') or '-':<4}"
    if e["kind"] in ("extracted", "read back"):
        what = "deleted" if e["deleted"] else "first version" if e["first"] else f"{len(e['changed'])} field(s) changed"
        verb = "extracted" if e["kind"] == "extracted" else "read back after push"
        lines = [f"{at} {verb} {e['entity']} {_match(e['match'])}: {what}"]
        lines += [f"      {c['field']}: {_value(c['old'])} → {_value(c['new'])}" for c in e["changed"]]
        return lines
    if e["kind"] == "planned":
        lines = [f"{at} planned {e['action']} {e['system']}.{e['entity']} {_match(e['key'])} "
                 f"(plan {e['plan_id']}, model {e['model']}, {len(e['changes'])} field(s))"]
        if e["action"] != "insert":
            lines += [f"      {c['field']}: {_value(c['old'])} → {_value(c['new'])}" for c in e["changes"]]
        lines += [f"      conflict {c.get('field')}: p2c wrote {_value(c.get('base'))}, target had {_value(c.get('actual'))}, "
                  f"model wants {_value(c.get('desired'))} → {c.get('resolution')}" for c in e["conflicts"]]
        return lines
    error = f": {e['error_message']}" if e.get("error_message") else ""
    return [f"{at} pushed {e['action']} {e['system']}.{e['entity']} → {e['status']} (HTTP {e['http_status']}, "
            f"attempt {e['attempt']}, plan {e['plan_id']}){error}"]


def prune_lines(result: dict) -> list[str]:
    if not result["runs_removed"]:
        return [f"nothing to prune: {result['kept_from_run'] and 'every run is kept' or 'no runs recorded'}"]
    verb = "would remove" if result["dry_run"] else "removed"
    lines = [f"keeping runs {result['kept_from_run']} and later; {verb} what only {result['runs_removed']} older run(s) needed"]
    lines += [f"  {name:<60} {count:>8} row(s)" for name, count in result["removed"].items()]
    return lines


def _counts(counts: dict[str, Any]) -> str:
    return "  ".join(f"{v} {k}" if k != "plan_id" else f"plan {v}" for k, v in counts.items())


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value or "-")


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _key(text: str) -> str:
    try:
        return "/".join(str(v) for v in json.loads(text).values())
    except (TypeError, ValueError, AttributeError):
        return str(text)


def _match(match: dict) -> str:
    return "/".join(str(v) for v in match.values()) + f" ({', '.join(match)})"


def _value(value: Any) -> str:
    text = repr(value) if isinstance(value, str) or value is None else str(value)
    return text if len(text) <= _SHOWN_VALUES else text[:_SHOWN_VALUES - 1] + "…"
