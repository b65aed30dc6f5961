"""`$filter` text -> a sqlglot predicate over an entity's table.

One parser for both services; `FilterRules` carries what differs between them.
Values become typed sqlglot literals, never spliced text. String comparisons are
case-insensitive (both services sit on case-insensitive SQL Server collations).
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from emulate.errors import BadRequest
from emulate.schema import Column, EntitySet
from emulate.store import literal

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}\b)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
  | (?P<name>[A-Za-z_$@][\w./$@]*)
  | (?P<punct>[(),])
""", re.VERBOSE)

_COMPARISONS = {"eq": exp.EQ, "ne": exp.NEQ, "gt": exp.GT, "ge": exp.GTE, "lt": exp.LT, "le": exp.LTE}
_OPERATOR_KINDS = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
                   "lt": "LessThan", "le": "LessThanOrEqual"}
# OData arithmetic: mul/div/divby/mod bind tighter than add/sub, which bind tighter than comparisons.
_ARITHMETIC_KINDS = {"add": "Add", "sub": "Subtract", "mul": "Multiply", "div": "Divide", "divby": "Divide", "mod": "Modulo"}
_ADDITIVE, _MULTIPLICATIVE = ("add", "sub"), ("mul", "div", "divby", "mod")
_INTEGER_TYPES = {"Edm.Int32", "Edm.Int64"}
_NUMERIC_TYPES = {"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double"}
_STRING_FUNCTIONS = {"contains": "contains", "startswith": "starts_with", "endswith": "ends_with"}
_LITERAL_TYPES = {"string": "Edm.String", "guid": "Edm.Guid", "datetime": "Edm.DateTimeOffset",
                  "date": "Edm.Date", "bool": "Edm.Boolean"}
_ACCEPTS = {"string": {"string"}, "guid": {"guid"}, "datetime": {"datetime", "date"}, "date": {"date"},
            "int": {"number"}, "bigint": {"number"}, "decimal": {"number"}, "money": {"number"}, "real": {"number"},
            "bool": {"bool"}}


@dataclass(frozen=True)
class FilterRules:
    """What a service's `$filter` accepts, and how its errors are labelled."""

    string_functions: bool  # contains/startswith/endswith (Dataverse yes, F&O no)
    wildcard_eq: bool  # F&O: '*' inside an eq/ne string literal is a wildcard
    arithmetic: bool = False  # add sub mul div divby mod (F&O yes, protocols.md 2.2; Dataverse no: "Arithmetic
    #                           operators and the comparison has operator are not supported in the Web API", Web API docs)
    error_code: str = ""
    error_kind: str = ""

    def error(self, message: str) -> BadRequest:
        return BadRequest(message, code=self.error_code, kind=self.error_kind)


@dataclass
class _Operand:
    expr: exp.Expression
    column: Column | None = None
    kind: str = ""  # literal kind: string number guid datetime date null bool enum
    value: object = None
    computed: str = ""  # the Edm type of an arithmetic result

    @property
    def edm_type(self) -> str:
        if self.computed:
            return self.computed
        if self.column:
            return self.column.edm_type
        if self.kind == "number":
            return "Edm.Int32" if isinstance(self.value, int) else "Edm.Decimal"
        if self.kind == "enum":
            return self.value[0]
        return _LITERAL_TYPES.get(self.kind, "null")


def _tokens(text: str, rules: FilterRules) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise rules.error(f"Syntax error at position {position} in '{text}'.")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


def parse_filter(text: str, entity: EntitySet, rules: FilterRules) -> exp.Expression:
    """Translate `$filter` text into a predicate over `entity`'s columns."""
    return _Parser(text, entity, rules).parse()


class _Parser:
    def __init__(self, text: str, entity: EntitySet, rules: FilterRules) -> None:
        self.text, self.entity, self.rules = text, entity, rules
        self.tokens = _tokens(text, rules)
        self.position = 0

    # -- token helpers ----------------------------------------------------------
    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take_word(self, *words: str) -> str | None:
        token = self._peek()
        if token and token[0] == "name" and token[1].lower() in words:
            self.position += 1
            return token[1].lower()
        return None

    def _expect(self, text: str) -> None:
        token = self._peek()
        if not token or token[1] != text:
            self._syntax_error()
        self.position += 1

    def _syntax_error(self) -> None:
        token = self._peek()
        at = token[2] if token else len(self.text)
        raise self.rules.error(f"Syntax error at position {at} in '{self.text}'.")

    # -- grammar: or > and > not > comparison -------------------------------------
    def parse(self) -> exp.Expression:
        result = self._or()
        if self._peek():
            self._syntax_error()
        return result

    def _or(self) -> exp.Expression:
        terms = [self._and()]
        while self._take_word("or"):
            terms.append(self._and())
        if len(terms) > 1 and _one_subject_equalities(terms):
            return exp.In(this=terms[0].this, expressions=[_in_list_constant(term.expression) for term in terms])
        result = terms[0]
        for term in terms[1:]:
            result = exp.Or(this=result, expression=term)
        return result

    def _and(self) -> exp.Expression:
        result = self._not()
        while self._take_word("and"):
            result = exp.And(this=result, expression=self._not())
        return result

    def _not(self) -> exp.Expression:
        if self._take_word("not"):
            return exp.Not(this=exp.Paren(this=self._not()))
        return self._comparison()

    def _comparison(self) -> exp.Expression:
        token = self._peek()
        if token and token[1] == "(":
            return self._group()
        if token and token[0] == "name" and token[1].lower() in _STRING_FUNCTIONS:
            return self._string_function()
        return self._compared(self._sum())

    def _group(self) -> exp.Expression:
        """`( boolean )`, or an arithmetic operand in parentheses such as `(Price add 5) gt 10`."""
        start = self.position
        try:
            self.position += 1
            inner = self._or()
            self._expect(")")
            return exp.Paren(this=inner)
        except BadRequest as first:
            if not self.rules.arithmetic:
                raise
            self.position = start
            try:
                return self._compared(self._sum())
            except BadRequest:
                raise first from None

    def _compared(self, left: _Operand) -> exp.Expression:
        operator = self._take_word(*_COMPARISONS, "has", "in")
        if operator in ("has", "in"):
            raise self.rules.error(f"The '{operator}' operator is not supported.")
        if operator is None:
            self._syntax_error()
        return self._compare(left, operator, self._sum())

    # -- arithmetic: sum > product > operand ------------------------------------------
    def _sum(self) -> _Operand:
        result = self._product()
        while operator := self._arithmetic_word(_ADDITIVE):
            result = self._arithmetic(result, operator, self._product())
        return result

    def _product(self) -> _Operand:
        result = self._factor()
        while operator := self._arithmetic_word(_MULTIPLICATIVE):
            result = self._arithmetic(result, operator, self._factor())
        return result

    def _factor(self) -> _Operand:
        token = self._peek()
        if self.rules.arithmetic and token and token[1] == "(":
            self.position += 1
            inner = self._sum()
            self._expect(")")
            return _Operand(exp.Paren(this=inner.expr), inner.column, inner.kind, inner.value, inner.computed)
        return self._operand()

    def _arithmetic_word(self, words: tuple[str, ...]) -> str | None:
        operator = self._take_word(*words)
        if operator and not self.rules.arithmetic:
            raise self.rules.error(f"The '{operator}' operator is not supported.")
        return operator

    def _arithmetic(self, left: _Operand, operator: str, right: _Operand) -> _Operand:
        """`left <operator> right` over numbers; `div` of two integers truncates (SQL Server), `divby` never does."""
        for operand in (left, right):
            if operand.kind != "null" and operand.edm_type not in _NUMERIC_TYPES:
                raise self.rules.error(
                    f"A binary operator with incompatible types was detected. Found operand types "
                    f"'{left.edm_type}' and '{right.edm_type}' for operator kind '{_ARITHMETIC_KINDS[operator]}'.")
        types = {left.edm_type, right.edm_type} - {"null"}
        integral = bool(types) and types <= _INTEGER_TYPES
        node = {"add": exp.Add, "sub": exp.Sub, "mul": exp.Mul, "mod": exp.Mod,
                "div": exp.IntDiv if integral else exp.Div, "divby": exp.Div}[operator]
        result_type = ("Edm.Int64" if "Edm.Int64" in types else "Edm.Int32") if integral and operator != "divby" else \
            "Edm.Double" if "Edm.Double" in types else "Edm.Decimal"
        divisor = exp.cast(right.expr, "DECIMAL(38,10)") if operator == "divby" else right.expr
        return _Operand(exp.Paren(this=node(this=left.expr, expression=divisor)), kind="number", computed=result_type)

    def _string_function(self) -> exp.Expression:
        name = self.tokens[self.position][1].lower()
        if not self.rules.string_functions:
            raise self.rules.error(f"The function '{name}' is not supported.")
        self.position += 1
        self._expect("(")
        subject = self._operand()
        self._expect(",")
        needle = self._operand()
        self._expect(")")
        for operand in (subject, needle):
            if operand.edm_type != "Edm.String":
                raise self.rules.error(f"No function signature for the function with name '{name}' matches the specified arguments.")
        return exp.Anonymous(this=_STRING_FUNCTIONS[name], expressions=[exp.Lower(this=subject.expr), exp.Lower(this=needle.expr)])

    def _operand(self) -> _Operand:
        token = self._peek()
        if token is None:
            self._syntax_error()
        kind, text, _ = token
        self.position += 1
        if kind == "string":
            return _Operand(exp.Literal.string(text[1:-1].replace("''", "'")), kind="string", value=text[1:-1].replace("''", "'"))
        if kind == "number":
            number = text.rstrip("mMdDfFlL")
            value = int(number) if re.fullmatch(r"-?\d+", number) else Decimal(number)
            return _Operand(exp.Literal.number(str(value)), kind="number", value=value)
        if kind in ("guid", "datetime", "date"):
            return _Operand(exp.Literal.string(text), kind=kind, value=self._checked_stamp(kind, text))
        if kind == "enum":
            type_name, _, member = text.partition("'")
            return _Operand(exp.Literal.string(member[:-1]), kind="enum", value=(type_name, member[:-1].replace("''", "'")))
        if kind == "name":
            lowered = text.lower()
            if lowered == "null":
                return _Operand(exp.null(), kind="null")
            if lowered in ("true", "false"):
                return _Operand(exp.Boolean(this=lowered == "true"), kind="bool", value=lowered == "true")
            column = self.entity.column(text)
            if column is None:
                raise self.rules.error(f"Could not find a property named '{text}' on type '{self.entity.type_name}'.")
            return _Operand(exp.column(column.name, quoted=True), column=column)
        self._syntax_error()

    def _checked_stamp(self, kind: str, text: str) -> str:
        if kind == "datetime":
            try:
                dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError as exc:
                raise self.rules.error(f"The DateTimeOffset text '{text}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.") from exc
        return text

    # -- typing --------------------------------------------------------------------
    def _compare(self, left: _Operand, operator: str, right: _Operand) -> exp.Expression:
        if "null" in (left.kind, right.kind) and operator in ("eq", "ne"):
            subject = right if left.kind == "null" else left
            is_null = exp.Is(this=subject.expr, expression=exp.null())
            return is_null if operator == "eq" else exp.Not(this=is_null)
        if right.column and not left.column:
            left, right = right, left
            operator = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}.get(operator, operator)
        left_expr, right_expr = self._typed(left, operator, right), self._typed(right, operator, left)
        if left.edm_type == "Edm.String":
            if self.rules.wildcard_eq and right.kind == "string" and "*" in right.value and operator in ("eq", "ne"):
                return self._wildcard(left_expr, right.value, operator)
            left_expr, right_expr = exp.Lower(this=left_expr), exp.Lower(this=right_expr)
        return _COMPARISONS[operator](this=left_expr, expression=right_expr)

    def _typed(self, operand: _Operand, operator: str, other: _Operand) -> exp.Expression:
        """`operand` as SQL, checked against (and converted to) the type of `other`."""
        if operand.column or operand.kind == "null":
            return operand.expr
        column = other.column
        incompatible = self.rules.error(
            f"A binary operator with incompatible types was detected. Found operand types "
            f"'{other.edm_type}' and '{operand.edm_type}' for operator kind '{_OPERATOR_KINDS[operator]}'.")
        if column is None:
            if operand.edm_type != other.edm_type and {operand.kind, other.kind} != {"number"}:
                raise incompatible
            return operand.expr
        if column.type == "enum":
            return self._enum_literal(column, operand, operator, incompatible)
        if operand.kind not in _ACCEPTS[column.type]:
            raise incompatible
        return operand.expr if operand.kind == "number" else literal(column, operand.value)

    def _enum_literal(self, column: Column, operand: _Operand, operator: str, incompatible: BadRequest) -> exp.Expression:
        if operand.kind != "enum" or operand.value[0] != column.edm_type:
            raise incompatible
        if operator not in ("eq", "ne"):
            raise self.rules.error(f"The operator '{operator}' is not supported on enumeration '{column.edm_type}'; use eq or ne.")
        if operand.value[1] not in self.entity.enums[column.enum]:
            raise self.rules.error(f"The string '{operand.value[1]}' is not a valid enumeration type constant.")
        return exp.Literal.string(operand.value[1])

    @staticmethod
    def _wildcard(subject: exp.Expression, pattern: str, operator: str) -> exp.Expression:
        escaped = re.sub(r"([!%_])", r"!\1", pattern).replace("*", "%")
        match = exp.Anonymous(this="ilike_escape", expressions=[subject, exp.Literal.string(escaped), exp.Literal.string("!")])
        return match if operator == "eq" else exp.Not(this=match)


def _one_subject_equalities(terms: list[exp.Expression]) -> bool:
    """Whether `terms` (joined by `or`) all compare one subject for equality with constants of one type:
    `a eq x or a eq y` is then `a IN (x, y)`, the same predicate (what a client reading many records
    by key sends) in a far smaller tree. Constants: a GUID (`CAST('…' AS UUID)`) or a lowered string."""
    if not all(isinstance(term, exp.EQ) for term in terms):
        return False
    subject, first = terms[0].this, terms[0].expression
    return all(term.this == subject and _same_constant_kind(term.expression, first) for term in terms)


def _in_list_constant(value: exp.Expression) -> exp.Expression:
    """A GUID as its bare text literal in an IN list: DuckDB casts it to the column's UUID type as
    the explicit cast would (the text is a checked GUID), and binds a long list of texts far faster."""
    return value.this if isinstance(value, exp.Cast) else value


def _same_constant_kind(value: exp.Expression, first: exp.Expression) -> bool:
    if isinstance(value, exp.Cast):
        return isinstance(first, exp.Cast) and value.to.this == first.to.this == exp.DataType.Type.UUID and isinstance(value.this, exp.Literal)
    return isinstance(value, exp.Lower) and isinstance(first, exp.Lower) and isinstance(value.this, exp.Literal) and value.this.is_string
