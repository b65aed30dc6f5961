"""Waves: what `p2c run` plans and pushes again after a push, within the same run.

A push reads what it wrote back into the raw tables, so a model reading one of those
entities (``source()``) may now want more, e.g. contact persons need the party number F&O
assigned to their parent customer on insert. ``p2c run`` then rebuilds the models reading
the written entities (and their descendants), plans their flow models again and pushes,
until a plan is empty, a push writes nothing, or ``MAX_WAVES`` pushes were made.
"""

from __future__ import annotations

from collections.abc import Mapping

from transform.graph import downstream
from transform.render import Model

MAX_WAVES = 4  # pushes per run: parents, then records needing what F&O assigned them, then theirs


def written_entities(pushed: Mapping) -> set[tuple[str, str]]:
    """(system, entity set) of every target a push summary says records landed in (inserted or updated)."""
    found = set()
    for name, counts in (pushed.get("counts") or {}).items():
        if counts.get("insert", 0) or counts.get("update", 0):
            system, _, entity = name.partition(".")
            found.add((system, entity))
    return found


def affected_models(models: Mapping[str, Model], written: set[tuple[str, str]]) -> set[str]:
    """Models reading any of ``written`` through ``source()``, and every model downstream of them."""
    return downstream(models, [name for name, model in models.items() if model.sources & written])


def affected_targets(models: Mapping[str, Model], written: set[tuple[str, str]]) -> list[str]:
    """The flow models (those with a target) among ``affected_models``, in name order."""
    return sorted(n for n in affected_models(models, written) if "target" in models[n].config)


def total_targets(waves: list[dict]) -> dict[str, dict[str, int]]:
    """A run's counts per target entity and action, summed over its waves."""
    totals: dict[str, dict[str, int]] = {}
    for wave in waves:
        for entity, counts in wave["targets"].items():
            total = totals.setdefault(entity, dict.fromkeys(counts, 0))
            for action, n in counts.items():
                total[action] = total.get(action, 0) + n
    return totals
