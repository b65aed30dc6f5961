"""The JSON members of a served Dataverse row: etag, columns, instance annotations, expansions.

Annotations follow `Prefer: odata.include-annotations="..."` (protocols.md 1.2, doc D4): a
comma list of terms, `*` wildcards and `-` exclusions, the more specific pattern winning.
Each annotation precedes its property, as the real service writes them.
"""

import fnmatch

from sqlglot import exp

from emulate.catalog import SALES_ENTITY_SETS
from emulate.metadata.dataverse import logical_name, lookup_target, primary_name
from emulate.odata.query import ROW, Expansion, Field, Navigation, column_fields, column_ref, expansion_field, json_value
from emulate.schema import Column, EntitySet, Lookup

FORMATTED_VALUE = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
ASSOCIATED_NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"
TOTAL_RECORD_COUNT = "Microsoft.Dynamics.CRM.totalrecordcount"
TOTAL_COUNT_LIMIT_EXCEEDED = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"
CURRENCY_LOOKUP = "_transactioncurrencyid_value"


class AnnotationFilter:
    """Which instance annotations a client asked for (`odata.include-annotations`)."""

    def __init__(self, preference: str | None) -> None:
        self.text = (preference or "").strip().strip('"')
        self._patterns = [p.strip() for p in self.text.split(",") if p.strip()]

    def __bool__(self) -> bool:
        return any(not p.startswith("-") for p in self._patterns)

    def wants(self, term: str) -> bool:
        """The most specific matching pattern decides; exclusions win ties."""
        best: tuple[int, bool] | None = None
        for pattern in self._patterns:
            excluded = pattern.startswith("-")
            body = pattern.lstrip("-")
            if fnmatch.fnmatchcase(term, body):
                rank = (len(body.rstrip("*")), excluded)
                best = rank if best is None or rank > best else best
        return best is not None and not best[1]


def etag(table: str | None = None) -> exp.Expression:
    """`W/"<versionnumber>"` as SQL."""
    version = exp.cast(exp.column("versionnumber", table=exp.to_identifier(table, quoted=True) if table else None, quoted=True), "VARCHAR")
    return exp.DPipe(this=exp.DPipe(this=exp.Literal.string('W/"'), expression=version), expression=exp.Literal.string('"'))


def navigation(entity: EntitySet, name: str) -> Navigation | None:
    """A lookup's single-valued navigation property (`transactioncurrencyid`)."""
    column = entity.lookups.get(name)
    target = lookup_target(column) if column else None
    if target is None:
        return None
    return Navigation(name, target, ((column.name, target.key[0]),), single=True)


def row_fields(entity: EntitySet, columns: list[Column], annotations: AnnotationFilter,
               expansions: list[Expansion] = ()) -> list[Field]:
    """Etag, then each column (with its annotations), then expanded navigation properties."""
    fields: list[Field] = [("@odata.etag", etag())]
    for column in columns:
        fields += _annotations(entity, column, annotations)
        fields += column_fields([column])
    for expansion in expansions:
        target = expansion.navigation.target
        inner = [("@odata.etag", etag()), *column_fields(_with_key(target, expansion.columns))]
        fields.append(expansion_field(expansion, inner))
    return fields


def _with_key(entity: EntitySet, columns: list[Column]) -> list[Column]:
    key = entity.column(entity.key[0])
    return columns if key in columns else [*columns, key]


def _annotations(entity: EntitySet, column: Column, wanted: AnnotationFilter) -> list[Field]:
    if not wanted:
        return []
    fields: list[Field] = []
    targets = _targets(column)
    if targets:
        if wanted.wants(ASSOCIATED_NAVIGATION):
            fields.append((f"{column.name}@{ASSOCIATED_NAVIGATION}", _per_target(column, [(t, l.navigation) for l, t in targets])))
        if wanted.wants(LOOKUP_LOGICAL_NAME):
            fields.append((f"{column.name}@{LOOKUP_LOGICAL_NAME}", _per_target(column, [(t, logical_name(t)) for _, t in targets])))
    if wanted.wants(FORMATTED_VALUE):
        formatted = _formatted(entity, column)
        if formatted is not None:
            fields.append((f"{column.name}@{FORMATTED_VALUE}", formatted))
    return fields


def _targets(column: Column) -> list[tuple[Lookup, EntitySet]]:
    """The lookup's targets the catalog defines (several for a polymorphic lookup such as customerid)."""
    lookups = [column.lookup, *column.more_lookups] if column.lookup else []
    return [(lookup, SALES_ENTITY_SETS[lookup.target]) for lookup in lookups if lookup.target in SALES_ENTITY_SETS]


def _target_row(column: Column, target: EntitySet, value: str) -> exp.Select:
    """`SELECT <value column> FROM target WHERE target key = this row's lookup value`."""
    inner = "lookup_target"
    return exp.select(exp.column(value, table=exp.to_identifier(inner, quoted=True), quoted=True)) \
        .from_(exp.alias_(exp.to_table(target.table, quoted=True), inner, table=True, quoted=True)) \
        .where(exp.EQ(this=exp.column(target.key[0], table=exp.to_identifier(inner, quoted=True), quoted=True),
                      expression=column_ref(column, ROW))).limit(1)


def _per_target(column: Column, texts: list[tuple[EntitySet, str]]) -> exp.Expression:
    """A literal per target; for a polymorphic lookup, the one whose table holds the referenced row."""
    if len(texts) == 1:
        return exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=column_ref(column, ROW), expression=exp.null())),
                                    true=exp.Literal.string(texts[0][1]))])
    return exp.Case(ifs=[exp.If(this=exp.Exists(this=_target_row(column, target, target.key[0])), true=exp.Literal.string(text))
                         for target, text in texts])


def _formatted(entity: EntitySet, column: Column) -> exp.Expression | None:
    """The en-US display text of a value (choice label, lookup name, currency, date), or None."""
    ref = column_ref(column)
    if column.options:
        return exp.Case(ifs=[exp.If(this=exp.EQ(this=ref, expression=exp.Literal.number(value)), true=exp.Literal.string(text))
                             for value, text in column.options])
    if column.type == "bool":
        return exp.Case(ifs=[exp.If(this=ref, true=exp.Literal.string("Yes")),
                             exp.If(this=exp.Not(this=ref), true=exp.Literal.string("No"))])
    if column.lookup:
        return _lookup_name(column)
    if column.type == "money":
        return _money(entity, column)
    if column.type == "datetime":
        return exp.Anonymous(this="strftime", expressions=[ref, exp.Literal.string("%-m/%-d/%Y %-I:%M %p")])
    if column.type == "date":
        return exp.Anonymous(this="strftime", expressions=[ref, exp.Literal.string("%-m/%-d/%Y")])
    return None


def _lookup_name(column: Column) -> exp.Expression | None:
    """The primary name of the row a lookup points at (whichever target table holds it)."""
    names = [exp.Subquery(this=_target_row(column, target, name))
             for _, target in _targets(column) if (name := primary_name(target)) is not None]
    if not names:
        return None
    return names[0] if len(names) == 1 else exp.Coalesce(this=names[0], expressions=names[1:])


def _money(entity: EntitySet, column: Column) -> exp.Expression:
    """`$20,000.00`: the row's currency symbol, then the amount with two decimals and grouping."""
    amount = exp.Anonymous(this="format", expressions=[exp.Literal.string("{:,.2f}"), exp.Abs(this=json_value(column))])
    symbol: exp.Expression = exp.Literal.string("")
    currencies = SALES_ENTITY_SETS.get("transactioncurrencies")
    currency = entity.column(CURRENCY_LOOKUP)
    if currencies is not None and currency is not None and currencies.column("currencysymbol"):
        inner = "formatted_currency"
        symbol = exp.Coalesce(this=exp.Subquery(this=exp.select(exp.column("currencysymbol", table=exp.to_identifier(inner, quoted=True), quoted=True))
                                                .from_(exp.alias_(exp.to_table(currencies.table, quoted=True), inner, table=True, quoted=True))
                                                .where(exp.EQ(this=exp.column(currencies.key[0], table=exp.to_identifier(inner, quoted=True), quoted=True),
                                                              expression=column_ref(currency, ROW))).limit(1)),
                              expressions=[exp.Literal.string("")])
    sign = exp.Case(ifs=[exp.If(this=exp.LT(this=column_ref(column), expression=exp.Literal.number(0)), true=exp.Literal.string("-"))],
                    default=exp.Literal.string(""))
    text = exp.DPipe(this=exp.DPipe(this=sign, expression=symbol), expression=amount)
    return exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=column_ref(column), expression=exp.null())), true=text)])
