"""The pieces of a record's story (``p2c trace``): the flows followed, the records found, what they hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from extract.registry import Entity
from transform.errors import TransformError
from transform.lineage import LineageResolver
from transform.render import Model


@dataclass
class Flow:
    """A flow model, the entities it reads (through its upstream models too) and its target key."""

    model: Model
    system: str
    entity: str
    key: list[str]
    reads: frozenset[tuple[str, str]]
    resolver: LineageResolver
    _key_sources: dict[str, set[str]] | None = None

    @property
    def label(self) -> str:
        return f"{self.system}.{self.entity}"

    @property
    def key_sources(self) -> dict[str, set[str]]:
        """Target key column → the raw columns feeding it (``{"sales.accounts.accountnumber"}``), by lineage;
        worked out on first use (qualifying a model's SQL takes a while)."""
        if self._key_sources is None:
            try:
                self._key_sources = {k: set(self.resolver.lineage(self.model.name, k).sources) for k in self.key}
            except TransformError:
                self._key_sources = {k: set() for k in self.key}  # lineage cannot read it: target side only
        return self._key_sources


@dataclass
class Record:
    """A raw record to show: an entity and the column values that pick it out."""

    entity: Entity
    side: str  # "asked", "source" or "target"
    match: dict[str, str]

    def as_dict(self) -> dict:
        return {"entity": self.entity.label, "side": self.side, "match": self.match}


@dataclass
class Story:
    entity: str
    key: str
    records: list[Record] = field(default_factory=list)
    versions: list[dict] = field(default_factory=list)
    model_rows: list[dict] = field(default_factory=list)
    plans: list[dict] = field(default_factory=list)
    pushes: list[dict] = field(default_factory=list)
    pushed: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_times: dict[int, datetime] = field(default_factory=dict)

    def timeline(self) -> list[dict]:
        """Versions, plan entries and pushes in time order (versions at their run's extract)."""
        events = [{**v, "at": v["at"] or self.run_times.get(v["valid_from_run"]), "run_id": v["valid_from_run"],
                   "kind": "extracted" if v["origin"] == "extract" else "read back"} for v in self.versions]
        events += [{"at": p["created_at"], "kind": "planned", **p} for p in self.plans]
        events += [{"at": p["sent_at"], "kind": "pushed", **p} for p in self.pushes]
        order = {"extracted": 0, "planned": 1, "pushed": 2, "read back": 3}
        return sorted(events, key=lambda e: (e["at"] or datetime.min, e.get("run_id") or 0, order[e["kind"]]))

    def as_dict(self) -> dict:
        return {"entity": self.entity, "key": self.key, "records": [r.as_dict() for r in self.records],
                "model_rows": self.model_rows, "pushed": self.pushed, "notes": self.notes, "timeline": self.timeline()}
