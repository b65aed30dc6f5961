"""Start-up warm-up: a reopened tenant pays its first pages' costs before they are asked for.

A client scanning a collection asks for page one first, and no read-ahead can have built it;
a freshly opened database also pays once for its JSON functions. So the tenant remembers, in
its state directory (`FILE`), the first pages of the scans it served (`ReadAhead.first_pages`,
written at stop), and when it starts again each service's read-ahead worker builds those
pages and the next ones as read-ahead would (emulate/read_ahead.py): into the row-text cache,
or for a scan read by key its stored bodies, read back when the tenant stored them before it
stopped rather than built. Start
waits for them up to `START_WAIT_S`, so that a client asking at once finds them built; what
is left goes on in the background. Like read-ahead it caches texts under each row's version,
so it can make a page cheaper, never different; it is off when read-ahead is off, and a
request for a page still queued builds the page itself.
"""

import json
import time
from pathlib import Path

from emulate.dataverse import reads as dataverse_reads
from emulate.fno import reads as fno_reads
from emulate.read_ahead import ReadAhead
from emulate.store import Store

FILE = "served_scans.json"  # {"sales": [scan, ...], "fno": [first page, ...]}, most recent last
START_WAIT_S = 1.0  # longest start waits for the warm-up (a page of 5,000 rows takes some 40 ms)


def begin(state_dir: Path, store: Store, sales: ReadAhead, fno: ReadAhead) -> None:
    """Pay the database's one-time costs now and queue, on each service's read-ahead worker, the first pages served before.

    Call `wait` before serving."""
    with store.reading() as cur:
        cur.execute("SELECT json_object('warm', 1)").fetchall()  # the JSON functions' first use
    remembered = _load(state_dir / FILE)
    for scan in _scans(remembered.get("sales")):
        dataverse_reads.warm_first_page(sales, store, scan)
    for first_page in _scans(remembered.get("fno")):
        fno_reads.warm_first_page(fno, store, first_page)


def wait(sales: ReadAhead, fno: ReadAhead) -> None:
    """Let the warm-up build its pages (both workers at once), up to `START_WAIT_S` in all."""
    deadline = time.monotonic() + START_WAIT_S
    for read_ahead in (sales, fno):
        read_ahead.warmed_up(max(0.0, deadline - time.monotonic()))


def save(state_dir: Path, sales: ReadAhead, fno: ReadAhead) -> None:
    """Remember the first pages served (and those remembered before) for the next start."""
    scans = {"sales": list(sales.first_pages), "fno": list(fno.first_pages)}
    path = state_dir / FILE
    try:
        if any(scans.values()) or path.exists():
            path.write_text(json.dumps(scans))
    except OSError:
        pass  # a read-only state directory: the next start is not warmed


def _load(path: Path) -> dict:
    """The remembered first pages; none when the file is missing or unreadable (warm-up is only an optimization)."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _scans(listed: object) -> list[tuple]:
    """The remembered scans as tuples of plain values (anything else in the file is skipped)."""
    if not isinstance(listed, list):
        return []
    return [tuple(scan) for scan in listed
            if isinstance(scan, list) and scan and all(value is None or isinstance(value, (str, int)) for value in scan)]
