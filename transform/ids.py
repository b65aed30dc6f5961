"""Deterministic ids for records p2c creates in Sales (spec/decisions.md 12).

A record's id is a UUID version 5 of its entity set and natural key, so a retried or resumed
create upserts the same record instead of making a second one. The SQL form (for models,
through the ``deterministic_id`` helper) and the Python form give the same UUID.
"""

from __future__ import annotations

import uuid

from sqlglot import exp

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://p2c.invalid/deterministic-id")
SEPARATOR = "|"


def deterministic_id(entity_set: str, *parts: object) -> str:
    """The UUID p2c gives the ``entity_set`` record whose natural key is ``parts``."""
    return str(uuid.uuid5(NAMESPACE, f"{entity_set}:{SEPARATOR.join(str(p) for p in parts)}"))


def deterministic_id_sql(entity_set: str, parts: list[exp.Expression]) -> exp.Expression:
    """The same UUID computed in DuckDB SQL: sha1(namespace bytes || name), version and variant bits set."""
    name: exp.Expression = exp.Literal.string(f"{entity_set}:")
    for i, part in enumerate(parts):
        if i:
            name = exp.DPipe(this=name, expression=exp.Literal.string(SEPARATOR), safe=True)
        name = exp.DPipe(this=name, expression=exp.cast(part, "VARCHAR"), safe=True)
    digest = exp.func(
        "sha1",
        exp.DPipe(
            this=exp.func("from_hex", exp.Literal.string(NAMESPACE.hex)),
            expression=exp.Anonymous(this="encode", expressions=[name]),
            safe=True,
        ),
    )

    def hex_slice(start: int, length: int) -> exp.Expression:
        return exp.Substring(this=digest.copy(), start=exp.Literal.number(start), length=exp.Literal.number(length))

    nibble = exp.Sub(
        this=exp.func("strpos", exp.Literal.string("0123456789abcdef"), hex_slice(17, 1)),
        expression=exp.Literal.number(1),
    )
    variant = exp.Substring(
        this=exp.Literal.string("89ab"),
        start=exp.Add(this=exp.Mod(this=exp.Paren(this=nibble), expression=exp.Literal.number(4)), expression=exp.Literal.number(1)),
        length=exp.Literal.number(1),
    )
    pieces = [
        hex_slice(1, 8), exp.Literal.string("-"), hex_slice(9, 4), exp.Literal.string("-5"), hex_slice(14, 3),
        exp.Literal.string("-"), variant, hex_slice(18, 3), exp.Literal.string("-"), hex_slice(21, 12),
    ]
    return exp.func("concat", *pieces)
