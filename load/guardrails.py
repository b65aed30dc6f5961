"""Guardrails: checks on a plan before anything is written (per model, from ``target.guardrails``).

- a run may update at most ``max_update_share`` of a target's records (runs with fewer than
  ``min_updates_checked`` updates are not held to it);
- a populated field is never emptied (set to null) unless the model lists it in ``allow_null``;
- key fields (the natural key and the id) never change.
A breach stops the push before its first request, with every tripped rule in the message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from load.config import Target
from load.errors import GuardrailError
from load.plan import PlanItem


def check(items: Sequence[PlanItem], targets: Mapping[str, Target], target_sizes: Mapping[str, int]) -> None:
    """Raise ``GuardrailError`` naming every breach; ``target_sizes``: records per model's target now."""
    breaches: list[str] = []
    updates = Counter(i.model for i in items if i.operation.action == "update")
    for model, count in sorted(updates.items()):
        rails, size = targets[model].guardrails, target_sizes.get(model, 0)
        if count >= rails.min_updates_checked and size and count / size > rails.max_update_share:
            breaches.append(f"model {model}: {count} updates of {size} {targets[model].system}.{targets[model].entity} "
                            f"records ({count / size:.0%}) exceed max_update_share {rails.max_update_share:.0%}")
    for item in items:
        target, op = targets[item.model], item.operation
        if op.action != "update":
            continue
        for change in op.changes:
            where = f"model {item.model}: {target.system}.{op.entity} {'/'.join(str(v) for _, v in op.key)} field {change.field}"
            if change.field in target.identity:
                breaches.append(f"{where}: is a key field and would change from {change.old!r} to {change.new!r}")
            elif change.new is None and change.old not in (None, "") and change.field not in target.guardrails.allow_null:
                breaches.append(f"{where}: would be emptied (was {change.old!r}); list it in guardrails.allow_null to allow")
    if breaches:
        more = f" (and {len(breaches) - 5} more)" if len(breaches) > 5 else ""
        raise GuardrailError(f"guardrail breached, nothing was pushed: {'; '.join(breaches[:5])}{more}")
