"""The model DAG: dependency order, cycle reports, and selection."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping

from transform.errors import GraphError
from transform.render import Model


def build_order(models: Mapping[str, Model]) -> list[str]:
    """Model names so that every model comes after the models it refs; ties broken by name."""
    sorter = graphlib.TopologicalSorter(
        {name: sorted(m.depends_on & set(models)) for name, m in sorted(models.items())}
    )
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise GraphError(f"models form a cycle: {' -> '.join(cycle)}") from exc


def order_without_cycles(models: Mapping[str, Model]) -> tuple[list[str], dict[str, GraphError]]:
    """Build order of the models outside any cycle, and an error for each model on a cycle."""
    remaining = dict(models)
    errors: dict[str, GraphError] = {}
    while True:
        try:
            return build_order(remaining), errors
        except GraphError as exc:
            cycle = exc.__cause__.args[1]
            for name in set(cycle):
                errors[name] = GraphError(f"{remaining[name].path}: {exc}")
                del remaining[name]


def downstream(models: Mapping[str, Model], roots: Iterable[str]) -> set[str]:
    """``roots`` and every model that depends on them, directly or not."""
    children: dict[str, set[str]] = {name: set() for name in models}
    for name, model in models.items():
        for parent in model.depends_on:
            children.setdefault(parent, set()).add(name)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(children.get(name, ()))
    return seen


def upstream(models: Mapping[str, Model], roots: Iterable[str]) -> set[str]:
    """``roots`` and every model they depend on, directly or not."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen and name in models:
            seen.add(name)
            stack.extend(models[name].depends_on)
    return seen


def select(models: Mapping[str, Model], selectors: Iterable[str]) -> set[str]:
    """Models matching any selector: ``name``, ``flow:<flow>``, with ``+`` before (and ancestors)
    and/or after (and descendants), e.g. ``+customers_from_accounts``, ``stg_sales__accounts+``."""
    chosen: set[str] = set()
    for selector in selectors:
        text = selector.strip()
        ancestors, descendants = text.startswith("+"), text.endswith("+")
        core = text.strip("+")
        if core.startswith("flow:"):
            flow = core.removeprefix("flow:")
            roots = {n for n, m in models.items() if m.config.get("flow") == flow}
            if not roots:
                flows = sorted({str(m.config["flow"]) for m in models.values() if m.config.get("flow")})
                raise GraphError(f"--select {selector}: no model has flow={flow!r} (flows: {', '.join(flows) or 'none'})")
        elif core in models:
            roots = {core}
        else:
            raise GraphError(f"--select {selector}: no model named {core!r}")
        chosen |= roots
        if ancestors:
            chosen |= upstream(models, roots)
        if descendants:
            chosen |= downstream(models, roots)
    return chosen
