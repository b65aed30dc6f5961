"""Text lines the CLI prints for builds and checks (the data comes from ``as_dict()``)."""

from __future__ import annotations

from collections.abc import Iterable


def build_lines(results: Iterable[dict]) -> list[str]:
    lines = []
    for r in results:
        lines.append(f"build    {r['model']:<34} {r['status']:<12} {r['rows']:>7} rows  {r['seconds']:.2f}s")
        if r["status"] in ("error", "skipped"):
            lines.append(f"           {r['message']}")
        for check in r.get("failed_checks", []):
            lines += check_detail(check)
    return lines


def check_lines(results: Iterable[dict]) -> list[str]:
    lines = []
    for c in results:
        lines.append(f"check    {c['model']:<34} {c['status']:<5} {c['check']}")
        if c["status"] != "pass":
            lines += check_detail(c)
    return lines


def check_detail(check: dict) -> list[str]:
    """The failure message, then the offending rows kept (the first ten)."""
    lines = [f"           {check['message']}"]
    if check["failing"]:
        lines.append(f"           {check['failing']} offending row(s); first {len(check['sample'])}:")
        lines += [f"             {', '.join(f'{k}={v!r}' for k, v in row.items())}" for row in check["sample"]]
    return lines
