"""A flow model's target settings (the ``target`` of its config), checked once, with defaults.

See the flow-model contract: key, id, binds, parent, create, on_conflict, guardrails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from load.errors import PlanError

RULES = ("source_wins", "target_wins", "fill_if_empty", "block")
DEFAULT_GUARDRAILS = {"max_update_share": 0.5, "min_updates_checked": 20, "allow_null": ()}


@dataclass(frozen=True)
class Bind:
    column: str      # the model column holding the GUID (the raw `_x_value` column)
    property: str    # the single-valued navigation property, e.g. customerid_account
    entity: str      # the entity set it points at, e.g. accounts
    entity_column: str | None = None   # polymorphic lookups: a _p2c_ column naming the entity set per row
    properties: tuple[tuple[str, str], ...] = ()  # ... and the navigation property for each entity set

    def for_row(self, notes: Mapping[str, Any] | None) -> tuple[str, str]:
        """(navigation property, entity set) for one record."""
        chosen = (notes or {}).get(self.entity_column) if self.entity_column else None
        found = dict(self.properties).get(chosen) if chosen else None
        return (found, chosen) if found else (self.property, self.entity)

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.entity, *(e for e, _ in self.properties if e != self.entity))


@dataclass(frozen=True)
class Guardrails:
    max_update_share: float = 0.5   # of the target's records, per run
    min_updates_checked: int = 20   # fewer updates than this never trip the share
    allow_null: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    model: str
    system: str
    entity: str
    key: tuple[str, ...]
    id: str | None = None
    binds: tuple[Bind, ...] = ()
    parent_model: str | None = None
    parent_on: tuple[tuple[str, str], ...] = ()   # (this model's column, parent model's column)
    create: bool = True
    on_conflict: str = "source_wins"
    guardrails: Guardrails = field(default_factory=Guardrails)
    always_send: tuple[str, ...] = ()  # fields sent with every update of a record, changed or not

    @property
    def identity(self) -> tuple[str, ...]:
        """Columns never sent as changes: the natural key and the primary-key column."""
        return (*self.key, *((self.id,) if self.id else ()))


def target_of(model_name: str, where: str, config: Mapping[str, Any]) -> Target:
    """The checked ``target`` of a model's config; ``where`` names the model file in errors."""
    raw = config.get("target")
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: config target must be a table of settings")

    def bad(message: str) -> PlanError:
        return PlanError(f"{where}: target {message}")

    system, entity = raw.get("system"), raw.get("entity")
    if system not in ("sales", "fno"):
        raise bad(f"system must be 'sales' or 'fno', not {system!r}")
    if not isinstance(entity, str) or not entity:
        raise bad("entity must name an entity set")
    key = raw.get("key")
    if not isinstance(key, list) or not key or not all(isinstance(k, str) for k in key):
        raise bad("key must be a list of column names")
    rule = raw.get("on_conflict", "source_wins")
    if rule not in RULES:
        raise bad(f"on_conflict must be one of {', '.join(RULES)}, not {rule!r}")
    binds = []
    for column, spec in (raw.get("binds") or {}).items():
        if system != "sales" or not isinstance(spec, Mapping) or not spec.get("property") or not spec.get("entity"):
            raise bad(f"binds.{column} needs a Sales target and both 'property' and 'entity'")
        binds.append(Bind(column, spec["property"], spec["entity"], spec.get("entity_column"),
                          tuple((spec.get("properties") or {}).items())))
    parent = raw.get("parent")
    parent_model, parent_on = None, ()
    if parent is not None:
        if not isinstance(parent, Mapping) or not parent.get("model") or not isinstance(parent.get("on"), Mapping) or not parent["on"]:
            raise bad("parent needs 'model' and a non-empty 'on' table")
        parent_model, parent_on = parent["model"], tuple(parent["on"].items())
    rails = {**DEFAULT_GUARDRAILS, **(raw.get("guardrails") or {})}
    unknown = set(rails) - set(DEFAULT_GUARDRAILS)
    if unknown:
        raise bad(f"guardrails has unknown setting(s) {', '.join(sorted(unknown))}")
    share = rails["max_update_share"]
    if not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise bad(f"guardrails.max_update_share must be between 0 and 1, not {share!r}")
    identifier = raw.get("id")
    if system == "sales" and not identifier:
        raise bad("id (the primary-key column) is required for a Sales target")
    return Target(
        model_name, system, entity, tuple(key), identifier or None, tuple(binds), parent_model, parent_on,
        bool(raw.get("create", True)), rule,
        Guardrails(float(share), int(rails["min_updates_checked"]), tuple(rails["allow_null"])),
        tuple(raw.get("always_send") or ()),
    )
