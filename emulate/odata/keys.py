"""Resource paths: `Set`, `Set(<guid>)`, `Set(name='v',other='w')`."""

import re
from dataclasses import dataclass

_SEGMENT = re.compile(r"(?P<set>[A-Za-z_]\w*)(?:\((?P<key>.*)\))?", re.DOTALL)
_KEY_PART = re.compile(r"\s*(?:(?P<name>[A-Za-z_]\w*)\s*=\s*)?(?P<value>'(?:[^']|'')*'|[^,'=()]+?)\s*(?:,|$)")


@dataclass(frozen=True)
class KeyValue:
    value: str
    quoted: bool  # a string literal ('...'), as opposed to a guid or number


@dataclass(frozen=True)
class Resource:
    entity_set: str
    key: dict[str | None, KeyValue] | None  # None: the collection; {None: v}: an unnamed key


def parse_resource(segment: str) -> Resource | None:
    """Split `accounts(accountnumber='A''1')` into set name and key values; None if malformed."""
    match = _SEGMENT.fullmatch(segment)
    if not match:
        return None
    if match.group("key") is None:
        return Resource(match.group("set"), None)
    key: dict[str | None, KeyValue] = {}
    text, position = match.group("key"), 0
    while position < len(text):
        part = _KEY_PART.match(text, position)
        if not part or part.end() == position or part.group("name") in key:
            return None
        raw = part.group("value")
        quoted = raw.startswith("'")
        key[part.group("name")] = KeyValue(raw[1:-1].replace("''", "'") if quoted else raw.strip(), quoted)
        position = part.end()
    if not key or (None in key and len(key) > 1):
        return None
    return Resource(match.group("set"), key)


def format_key(values: dict[str, object]) -> str:
    """`(name='v',other=2)`: strings quoted with quotes doubled, numbers bare."""
    def literal(value: object) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"
    return "(" + ",".join(f"{name}={literal(value)}" for name, value in values.items()) + ")"
