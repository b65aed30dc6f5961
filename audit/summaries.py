"""Text summaries of runs, plans and pushes, as the CLI prints them (pure: data in, lines out)."""

from __future__ import annotations

from typing import Any

from load.plan import Plan
from transform.report import build_lines


def colour(line: str) -> str | None:
    """The colour a summary line gets on a terminal, by what it reports (None: plain)."""
    tokens = line.replace(":", " ").split()
    words = {w for i, w in enumerate(tokens) if i == 0 or tokens[i - 1] != "0"}  # "0 failed" reports nothing
    if words & {"failed", "error", "check_failed"}:
        return "red"
    if words & {"conflict", "skipped", "held", "blocked", "waiting"}:
        return "yellow"
    if words & {"insert", "update", "ok"}:
        return "green"
    return None


def extract_line(e: dict) -> str:
    retried = f"  {e['retries']} retried, {e['seconds_throttled']:.1f}s throttled" if e["retries"] else ""
    return (f"extract  {e['entity']:<34} {e['received']:>7} rows  {e['new']} new  {e['changed']} changed  "
            f"{e['deleted']} deleted  {e['requests']} requests ({e['read']}){retried}  {e['seconds']:.2f}s")


def plan_lines(planned: dict) -> list[str]:
    lines = [f"plan     {planned['plan_id']}: {planned['operations']} operation(s)"]
    if planned.get("as_of") is not None:
        lines.append(f"plan     replayed: today's models on the raw state at the end of run {planned['as_of']};"
                     " not stored, cannot be pushed")
    lines += [f"plan     {entity:<34} " + "  ".join(f"{n} {a}" for a, n in sorted(actions.items()))
              for entity, actions in planned["counts"].items()]
    lines += [f"plan       {b['flow'] or '-'}  {b['system']}.{b['entity']}  company {b['company'] or '-'}: {b['count']} {b['action']}"
              for b in planned.get("breakdown", [])]
    lines += [f"plan     skipped {reason}" for reason in planned["skipped"]]
    return lines


def change_lines(plan: Plan, action: str | None = None) -> list[str]:
    lines = []
    for item in plan.items:
        op = item.operation
        if action is not None and op.action != action:
            continue
        notes = "  " + " ".join(f"{k}={v}" for k, v in item.notes.items() if v is not None) if item.notes else ""
        lines.append(f"  {op.action} {item.system}.{op.entity} {'/'.join(str(v) for _, v in op.key)}{notes}")
        lines += [f"      {c.field}: {c.old!r} → {c.new!r}" if op.action != "insert" else f"      {c.field} = {c.new!r}"
                  for c in op.changes]
        lines += [f"      conflict {c.field}: p2c wrote {c.base!r}, target now {c.actual!r}, model wants {c.desired!r}"
                  f" → {c.resolution}" for c in op.conflicts]
    return lines


def item_json(item: Any) -> dict:
    op = item.operation
    return {"seq": item.seq, "model": item.model, "system": item.system, "entity": op.entity, "action": op.action,
            "key": dict(op.key), "target_id": op.target_id, "notes": item.notes,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in op.changes],
            "conflicts": [vars(c) for c in op.conflicts]}


def push_lines(pushed: dict) -> list[str]:
    if not pushed["counts"]:
        return [f"push     {pushed['plan_id']}: nothing to send"]
    return [f"push     {entity:<34} " + "  ".join(f"{n} {a}" for a, n in sorted(counts.items()))
            for entity, counts in pushed["counts"].items()]


def demo_lines(summary: dict) -> list[str]:
    """A run in a few lines: totals for extract and build, then what went where per flow."""
    read = {k: sum(e[k] for e in summary["extract"]) for k in ("received", "new", "changed", "deleted", "requests")}
    built = [b for b in summary["build"] if b["status"] == "ok"]
    lines = [f"extract  {len(summary['extract'])} entity sets: {read['received']} records read ({read['new']} new, "
             f"{read['changed']} changed, {read['deleted']} deleted) in {read['requests']} requests",
             f"build    {len(built)} of {len(summary['build'])} model builds ok"]
    if not summary["targets"]:
        return [*lines, "push     nothing to send: targets already match"]
    return lines + [f"push     {entity:<34} " + "  ".join(f"{n} {a}" for a, n in counts.items() if n)
                    for entity, counts in summary["targets"].items()]


def run_lines(summary: dict) -> list[str]:
    lines = [f"run {summary['run_id']}"]
    lines += [extract_line(e) for e in summary["extract"]]
    lines += build_lines(summary["build"])
    lines += plan_lines(summary["plan"])
    lines += [f"plan     wave {w['wave']} ({w['plan_id']}): {w['operations']} operation(s) that needed what wave "
              f"{w['wave'] - 1} wrote" for w in summary.get("waves", [])[1:]]
    if not summary["targets"]:
        lines.append("push     nothing to send: targets already match")
    for entity, c in summary["targets"].items():
        lines.append(f"push     {entity:<34} {c['insert']} insert  {c['update']} update  "
                     f"{c['conflict']} conflict  {c['failed']} failed")
    return lines
