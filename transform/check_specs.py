"""The checks a model declares in ``config(checks=[...])``, validated into ``Check`` values.

    {"unique": ["col", ...]}            {"not_null": ["col", ...]}
    {"accepted_values": {"column": "c", "values": [...]}}
    {"relationships": {"column": "c", "to": "<model>", "field": "f"}}
    {"row_count": {"min": 1, "max": 1000}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transform.errors import ModelError

KINDS = ("unique", "not_null", "accepted_values", "relationships", "row_count")


@dataclass(frozen=True)
class Check:
    kind: str
    args: Mapping[str, Any]
    implied: str = ""  # why p2c added it (target key, value map), empty when declared

    @property
    def label(self) -> str:
        if self.kind in ("unique", "not_null"):
            return f"{self.kind}({', '.join(self.args['columns'])})"
        if self.kind == "accepted_values":
            return f"accepted_values({self.args['column']})"
        if self.kind == "relationships":
            return f"relationships({self.args['column']} -> {self.args['to']}.{self.args['field']})"
        if self.kind == "value_map_coverage":
            return f"value_map_coverage({self.args['seed']}: {self.args['expression']})"
        bounds = ", ".join(f"{k}={self.args[k]}" for k in ("min", "max") if k in self.args)
        return f"row_count({bounds})"


def parse_checks(path: Path | None, declared: Any) -> tuple[Check, ...]:
    """Validate ``checks=[...]``; a malformed entry is a ModelError naming it."""
    where = f"{path}: " if path else ""
    if not isinstance(declared, (list, tuple)):
        raise ModelError(f"{where}checks must be a list of {{kind: ...}} entries")
    checks = []
    for entry in declared:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ModelError(f"{where}check {entry!r}: each check is one {{kind: arguments}} entry")
        [(kind, args)] = entry.items()
        if kind not in KINDS:
            raise ModelError(f"{where}check {kind!r}: unknown kind (known: {', '.join(KINDS)})")
        checks.append(Check(kind, _arguments(f"{where}check {kind}", kind, args)))
    return tuple(checks)


def _arguments(where: str, kind: str, args: Any) -> dict[str, Any]:
    if kind in ("unique", "not_null"):
        columns = [args] if isinstance(args, str) else args
        if not isinstance(columns, (list, tuple)) or not columns or not all(isinstance(c, str) for c in columns):
            raise ModelError(f"{where}: give a column name or a list of them")
        return {"columns": tuple(columns)}
    if not isinstance(args, Mapping):
        raise ModelError(f"{where}: give a table of arguments")
    required = {"accepted_values": ("column", "values"), "relationships": ("column", "to", "field"), "row_count": ()}[kind]
    allowed = set(required) | ({"min", "max"} if kind == "row_count" else set())
    missing = [k for k in required if k not in args]
    unknown = sorted(set(args) - allowed)
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown argument(s) {', '.join(unknown)}"
        raise ModelError(f"{where}: {problem}")
    if kind == "accepted_values" and not isinstance(args["values"], (list, tuple)):
        raise ModelError(f"{where}: values must be a list")
    if kind == "row_count":
        if not args or not all(isinstance(v, int) and not isinstance(v, bool) for v in args.values()):
            raise ModelError(f"{where}: give min and/or max as whole numbers")
    return dict(args)
