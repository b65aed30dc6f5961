"""Dataverse `Prefer` header parsing and the `$skiptoken` paging cookie (protocols.md 1.1, 1.3)."""

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from emulate.errors import BadRequest

MAX_PAGE_SIZE = 5000
_OUTER = re.compile(r'<cookie pagenumber="(\d+)" pagingcookie="([^"]*)" istracking="(True|False)" />')
_INNER = re.compile(r'<cookie page="\d+"(?: tracking="([^"]*)")?(?: phase="(\w+)")?><(\w+) last="\{([0-9A-Fa-f-]{36})\}"')


@dataclass(frozen=True)
class SkipToken:
    page_number: int  # the page this token asks for
    last: str  # the last key of the previous page
    tracking: str | None = None  # change tracking: the version range being served
    phase: str = ""  # a delta page: "changed" rows, then "deleted" ones


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


def preference_applied(applied: list[str]) -> dict[str, str]:
    """The `Preference-Applied` header for the preferences honoured, if any."""
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def make_skiptoken(page_number: int, key_name: str, first: str, last: str, tracking: str | None = None, phase: str = "") -> str:
    """The opaque cookie for page `page_number`, shaped like the real one."""
    state = (f' tracking="{tracking}"' if tracking else "") + (f' phase="{phase}"' if phase else "")
    inner = f'<cookie page="{page_number - 1}"{state}><{key_name} last="{{{last.upper()}}}" first="{{{first.upper()}}}" /></cookie>'
    return f'<cookie pagenumber="{page_number}" pagingcookie="{quote(inner, safe="")}" istracking="{tracking is not None}" />'


def read_skiptoken(token: str, key_name: str) -> SkipToken:
    """The paging state a `$skiptoken` carries."""
    outer = _OUTER.fullmatch(token.strip())
    inner = _INNER.search(unquote(outer.group(2))) if outer else None
    if not outer or not inner or inner.group(3) != key_name or (inner.group(1) is not None) != (outer.group(3) == "True"):
        raise BadRequest("The $skiptoken query option value is not valid.", code="0x80060888")
    return SkipToken(int(outer.group(1)), inner.group(4).lower(), inner.group(1), inner.group(2) or "")
