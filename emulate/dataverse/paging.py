"""Dataverse `Prefer` header parsing and the `$skiptoken` paging cookie (protocols.md 1.1, 1.3)."""

import re
from urllib.parse import quote, unquote

from emulate.errors import BadRequest

MAX_PAGE_SIZE = 5000
_OUTER = re.compile(r'<cookie pagenumber="(\d+)" pagingcookie="([^"]*)" istracking="(?:True|False)" />')
_LAST = re.compile(r'<(\w+) last="\{([0-9A-Fa-f-]{36})\}"')


def parse_prefer(headers: list[str]) -> dict[str, str]:
    """Preferences from every `Prefer` header, split on commas outside quotes; keys lower-cased."""
    preferences: dict[str, str] = {}
    for header in headers:
        for item in re.findall(r'(?:[^,"]|"[^"]*")+', header):
            name, _, value = item.strip().partition("=")
            if name:
                preferences[name.strip().lower()] = value.strip()
    return preferences


def page_size(preferences: dict[str, str]) -> int | None:
    """The honoured `odata.maxpagesize` (at most 5,000), or None when not asked for."""
    value = preferences.get("odata.maxpagesize", "").strip('"')
    if not value.isdigit() or int(value) == 0:
        return None
    return min(int(value), MAX_PAGE_SIZE)


def make_skiptoken(page_number: int, key_name: str, first: str, last: str) -> str:
    """The opaque cookie for page `page_number`, shaped like the real one."""
    inner = f'<cookie page="{page_number - 1}"><{key_name} last="{{{last.upper()}}}" first="{{{first.upper()}}}" /></cookie>'
    return f'<cookie pagenumber="{page_number}" pagingcookie="{quote(inner, safe="")}" istracking="False" />'


def read_skiptoken(token: str, key_name: str) -> tuple[int, str]:
    """(page number, last key of the previous page) from a `$skiptoken`."""
    outer = _OUTER.fullmatch(token.strip())
    last = _LAST.search(unquote(outer.group(2))) if outer else None
    if not outer or not last or last.group(1) != key_name:
        raise BadRequest("The $skiptoken query option value is not valid.", code="0x80060888")
    return int(outer.group(1)), last.group(2).lower()
