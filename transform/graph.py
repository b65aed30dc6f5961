"""The model DAG: dependency order, cycle reports, and selection."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping

from transform.errors import GraphError
from transform.render import Model


def build_order(models: Mapping[str, Model]) -> list[str]:
    """Model names so that every model comes after the models it refs; ties broken by name."""
    sorter = graphlib.TopologicalSorter({name: sorted(m.refs) for name, m in sorted(models.items())})
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise GraphError(f"models form a cycle: {' -> '.join(cycle)}") from exc


def downstream(models: Mapping[str, Model], roots: Iterable[str]) -> set[str]:
    """``roots`` and every model that depends on them, directly or not."""
    children: dict[str, set[str]] = {name: set() for name in models}
    for name, model in models.items():
        for parent in model.refs:
            children[parent].add(name)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(children.get(name, ()))
    return seen
