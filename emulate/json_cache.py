"""Served rows' JSON text, kept between requests so a page already served costs a pick and a join, or a join alone.

A row's text (for one row shape: the `$select`ed members in a fixed order) depends only on
the row's own stored values, and every write path gives the row a new version (Dataverse
`versionnumber`, F&O `RecVersion`, both from tenant-wide sequences). So a text is reused
only while the row still has the version it was built from; a changed row is rebuilt when
a page next holds it, and a deleted row is never picked again (its text is dropped with its
shape once the cache is over budget). Shapes that read other rows (formatted values,
`$expand`) are never cached.

The cache also remembers which pages (a request shape's page and its parameters) it has
built: a page never built is built whole in one query with its pick (emulate/odata/pages.py), a page built
before is picked first so that only its changed rows are rebuilt. And it keeps each shape's
pages as last served, with the store's write generation they were read at (`Store.generation`,
renewed by every committed write transaction): while no write has committed since, a page is
served again as it was, without a query.

Pages read in key order are kept whole instead (`PageTexts`): a page's body filed under a
digest of its rows' (identity, version) pairs, on disk, so that a scan larger than any
memory budget (a million rows: some 800 MB of text) is built once and read back after, even
after the tenant restarts. The same rule holds: a written row has a new version, so its page
a new digest, and its body is built again.
"""

import os
import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

RowId = object  # a row's identity: its primary key text (Dataverse) or RecId (F&O)
Picked = Sequence[tuple[RowId, int]]  # a page's rows in page order: (identity, version) tuples
SEPARATOR = b"\n"  # joins texts built in one query: JSON text never holds a raw newline
DEFAULT_BUDGET = 256 << 20  # bytes of row text kept per tenant: the emulator often shares a process with p2c
PAGES = 4096  # pages remembered as built
SERVED_PAGES = 256  # pages kept as served, per shape (their texts are the shape's own: no bytes beyond the budget)


@dataclass(frozen=True)
class Page:
    """A page as served: its rows' texts, the rows picked (one more than the page when another follows),
    and, when another follows, the identities of its first and last rows."""

    rows: list[bytes]
    fetched: int
    first: RowId | None
    last: RowId | None


class _Shape:
    """The texts of one row shape: (identity, version) -> text, and each identity's cached version."""

    def __init__(self) -> None:
        self.texts: dict[tuple[RowId, int], bytes] = {}
        self.versions: dict[RowId, int] = {}
        self.size = 0
        self.served: dict[Hashable, tuple[int, Page]] = {}  # page key -> (write generation, page)


class RowTextCache:
    """Per row shape, each served row's JSON text at the version it was built from.

    The least recently served shapes are dropped once the texts exceed `budget` bytes; texts that still do not
    fit are not cached.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._shapes: OrderedDict[Hashable, _Shape] = OrderedDict()
        self._pages: OrderedDict[Hashable, None] = OrderedDict()  # pages built, most recent last
        self._lock = threading.Lock()

    def page(self, shape_key: Hashable, picked: Picked, build: Callable[[list[RowId]], list[bytes]]) -> tuple[list[bytes], bool]:
        """The picked rows' texts, `build` making those of rows not cached at their version; and whether all are
        cached now (see `put`)."""
        shape = self._shape(shape_key)
        texts = list(map(shape.texts.get, picked))
        missing = [i for i, text in enumerate(texts) if text is None]
        if not missing:
            return texts, True
        built = build([picked[i][0] for i in missing])
        if len(built) != len(missing):
            raise RuntimeError(f"built {len(built)} row texts for {len(missing)} rows")
        for i, text in zip(missing, built):
            texts[i] = text
        return texts, self._keep(shape_key, shape, [picked[i] for i in missing], built)

    def put(self, shape_key: Hashable, rows: Picked, texts: list[bytes]) -> bool:
        """Cache texts built for `rows` ((identity, version) each) outside `page`; False when they did not fit
        (they are not cached: a scan larger than the budget keeps the texts cached first, rather than dropping
        its own shape over and over)."""
        if len(rows) != len(texts):
            raise RuntimeError(f"built {len(texts)} row texts for {len(rows)} rows")
        return self._keep(shape_key, self._shape(shape_key), rows, texts)

    def served(self, shape_key: Hashable, page_key: Hashable, generation: int) -> Page | None:
        """The page as served at write generation `generation`, if it was."""
        with self._lock:
            shape = self._shapes.get(shape_key)
            found = shape.served.get(page_key) if shape is not None else None
            if found is None or found[0] != generation:
                return None
            self._shapes.move_to_end(shape_key)  # served again: the shape is recent
            return found[1]

    def keep_served(self, shape_key: Hashable, page_key: Hashable, generation: int, page: Page) -> None:
        """Keep `page` as read at write generation `generation` (dropping the shape's pages of other generations)."""
        with self._lock:
            shape = self._shapes.get(shape_key)
            if shape is None:
                return  # dropped over budget meanwhile
            if any(kept != generation for kept, _ in shape.served.values()) or len(shape.served) >= SERVED_PAGES:
                shape.served = {key: kept for key, kept in shape.served.items() if kept[0] == generation}
                while len(shape.served) >= SERVED_PAGES:
                    del shape.served[next(iter(shape.served))]
            shape.served[page_key] = (generation, page)

    def built(self, page_key: Hashable) -> bool:
        """Whether the page `page_key` names was built before (and may hold cached rows)."""
        with self._lock:
            if page_key in self._pages:
                self._pages.move_to_end(page_key)
                return True
            return False

    def note_built(self, page_key: Hashable) -> None:
        with self._lock:
            self._pages[page_key] = None
            self._pages.move_to_end(page_key)
            while len(self._pages) > PAGES:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._shapes.clear()
            self._pages.clear()

    @property
    def size(self) -> int:
        """Bytes of row text held."""
        with self._lock:
            return sum(shape.size for shape in self._shapes.values())

    def _shape(self, shape_key: Hashable) -> _Shape:
        with self._lock:
            shape = self._shapes.get(shape_key)
            if shape is None:
                shape = self._shapes[shape_key] = _Shape()
            self._shapes.move_to_end(shape_key)
            return shape

    def _keep(self, shape_key: Hashable, shape: _Shape, rows: Picked, built: list[bytes]) -> bool:
        """Cache `built` (dropping texts of the same rows at other versions); over budget, drop the least recently
        served other shapes, and if that is not enough keep none of `built` (returns False)."""
        with self._lock:
            for row_id, version in rows:
                old = shape.versions.pop(row_id, None)
                if old is not None:
                    shape.size -= len(shape.texts.pop((row_id, old), b""))
                    if old != version:
                        shape.served.clear()  # a row was written since those pages were read: let go of its old text
            added = sum(map(len, built))
            if shape.size + added > self.budget:
                return False  # no room even alone: the other shapes stay
            total = sum(s.size for s in self._shapes.values()) + added
            for other_key in [key for key in self._shapes if key != shape_key]:
                if total <= self.budget:
                    break
                total -= self._shapes.pop(other_key).size
            if total > self.budget:
                return False
            shape.versions.update(rows)
            shape.texts.update(zip(rows, built))
            shape.size += added
            return True


def split_texts(joined: bytes | None) -> list[bytes]:
    """Texts built in one query and joined with `SEPARATOR`."""
    return joined.split(SEPARATOR) if joined else []


# -- pages read by key: whole bodies by content ----------------------------------------------------

PAGE_BUDGET = 2 << 30  # bytes of page bodies kept on disk per tenant (a 1M-row accounts scan is some 800 MB)
SERVED_BUDGET = 64 << 20  # bytes of bodies kept in memory as served (the read-ahead pages and the ones just served)
HINT_CHAINS = 64  # scans whose later pages' bounds are kept
DATA_FILE, INDEX_FILE = "page_texts.bin", "page_texts.index"
_HEADER = "p2c-page-texts 1"


@dataclass(frozen=True)
class Stamp:
    """What a stored body was built from, for the check at `attach`: the table and its version column, and the
    highest version among its rows (a tenant whose table no longer reaches it went back in time: a restored file)."""

    table: str
    column: str
    version: int


class PageTexts:
    """Bodies of pages read in key order (their rows' JSON texts, comma-joined), filed by what they hold.

    A page's content key names its row shape and its rows' (identity, version) in order
    (emulate/odata/pages.py computes it inside the page's read transaction), so a body found
    under it is the page as it reads now: any write gives a row a new version, hence the page a
    new key. Bodies go to one append-only file, read back with `os.pread` (a 5,000-row page is a
    few MB: the OS page cache holds them, not this process). Attached to a tenant's state
    directory (`attach`) the file and its index outlive the process, so a scan served before a
    restart is read, not built again; otherwise the file is anonymous and goes with the process.
    Over `budget` the file starts again empty.

    Two more things for scans read by key, both in memory: pages as served at a write
    generation (`served`, as `RowTextCache.served`), and each scan's later page bounds
    (`hint`): the bound of the page after a given key, computed for many pages in one query.
    A bound is only a hint: the page's read checks it (emulate/odata/pages.py).
    """

    def __init__(self, budget: int = PAGE_BUDGET, served_budget: int = SERVED_BUDGET) -> None:
        self.budget, self.served_budget = budget, served_budget
        self._lock = threading.Lock()  # the file and its index (held across a body's read or write)
        self._memory = threading.Lock()  # pages as served and bounds: never waits on the file
        self._index: dict[str, tuple[int, int, int]] = {}  # content key -> (offset, length, crc32)
        self._checked: set[str] = set()  # bodies read back (or written) by this process: their checksum held
        self._data: int | None = None  # file descriptor of the bodies
        self._index_file: int | None = None  # file descriptor of the index (attached only)
        self._end = 0
        self._identity = ""  # the tenant the attached index belongs to
        self._served: OrderedDict[Hashable, tuple[int, Page]] = OrderedDict()
        self._served_bytes = 0
        self._hints: OrderedDict[Hashable, dict[object, object]] = OrderedDict()
        self.built = 0  # bodies written (tests, benchmarks)
        self.reused = 0  # bodies read back

    # -- the file ----------------------------------------------------------------------------------
    def attach(self, directory: Path, identity: str, highest: Callable[[str, str], int | None]) -> None:
        """Keep the bodies in `directory` (their index too), reusing those stored there for the same tenant
        `identity` unless a table went back below a version they hold (`highest(table, column)`, None: gone)."""
        with self._lock:
            self._close()
            directory.mkdir(parents=True, exist_ok=True)
            data = os.open(directory / DATA_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            index = os.open(directory / INDEX_FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            self._data, self._index_file = data, index
            entries, stamps = _read_index(directory / INDEX_FILE, identity, os.fstat(data).st_size)
            if entries is None or any(_below(highest(table, column), version) for (table, column), version in stamps.items()):
                self._truncate(identity)
                return
            self._index, self._end = entries, os.fstat(data).st_size
            self._identity = identity

    def find(self, key: str) -> bytes | None:
        """The body stored under content key `key`, if any (and intact)."""
        with self._lock:
            found = self._index.get(key)
            if found is None or self._data is None:
                return None
            offset, length, checksum = found
            body = os.pread(self._data, length, offset)
            if key not in self._checked:
                if len(body) != length or zlib.crc32(body) != checksum:
                    del self._index[key]  # torn by a crash: built again
                    return None
                self._checked.add(key)
            self.reused += 1
            return body

    def add(self, key: str, body: bytes, stamp: Stamp) -> None:
        """Store `body` under content key `key`."""
        with self._lock:
            if self._data is None:
                self._data = _anonymous_file()
            if self._end + len(body) > self.budget:
                self._truncate(self._identity)
            if len(body) > self.budget:
                return
            checksum = zlib.crc32(body)
            os.pwrite(self._data, body, self._end)
            self._index[key] = (self._end, len(body), checksum)
            self._checked.add(key)
            if self._index_file is not None:  # after the body: an index line never names bytes not written
                os.write(self._index_file, f"{key} {self._end} {len(body)} {checksum} {stamp.table} {stamp.column} {stamp.version}\n".encode())
            self._end += len(body)
            self.built += 1

    @property
    def size(self) -> int:
        """Bytes of bodies stored."""
        with self._lock:
            return sum(length for _, length, _ in self._index.values())

    def clear(self) -> None:
        """Forget every body, page as served and bound (the file starts again empty)."""
        with self._lock:
            self._truncate(self._identity)
        with self._memory:
            self._served.clear()
            self._served_bytes = 0
            self._hints.clear()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        for descriptor in (self._data, self._index_file):
            if descriptor is not None:
                os.close(descriptor)
        self._data = self._index_file = None
        self._index, self._end = {}, 0
        self._checked.clear()

    def _truncate(self, identity: str) -> None:
        """Empty the file (and the index, headed by `identity`)."""
        self._index, self._end = {}, 0
        self._checked.clear()
        self._identity = identity
        if self._data is not None:
            os.ftruncate(self._data, 0)
        if self._index_file is not None:
            os.ftruncate(self._index_file, 0)
            os.write(self._index_file, f"{_HEADER} {identity}\n".encode())

    # -- pages as served -----------------------------------------------------------------------------
    def served(self, page_key: Hashable, generation: int) -> Page | None:
        """The page as served at write generation `generation`, if it was (and is still held)."""
        with self._memory:
            found = self._served.get(page_key)
            if found is None or found[0] != generation:
                return None
            self._served.move_to_end(page_key)
            return found[1]

    def keep_served(self, page_key: Hashable, generation: int, page: Page) -> None:
        """Keep `page` as read at write generation `generation`; the least recently served go over `served_budget`."""
        size = sum(map(len, page.rows))
        with self._memory:
            old = self._served.pop(page_key, None)
            if old is not None:
                self._served_bytes -= sum(map(len, old[1].rows))
            if size > self.served_budget:
                return
            self._served[page_key] = (generation, page)
            self._served_bytes += size
            while self._served_bytes > self.served_budget:
                _, (_, dropped) = self._served.popitem(last=False)
                self._served_bytes -= sum(map(len, dropped.rows))

    # -- bounds of a scan's pages --------------------------------------------------------------------
    def hint(self, chain: Hashable, after: object) -> object | None:
        """The bound of the page of scan `chain` after key `after` (None: its first page), if known."""
        with self._memory:
            bounds = self._hints.get(chain)
            return bounds.get(after) if bounds is not None else None

    def keep_hints(self, chain: Hashable, bounds: dict[object, object]) -> None:
        """Remember bounds of scan `chain`'s pages: the key before each page -> its bound (added to those known:
        each page's read checks its bound, and `forget_hints` drops a scan's bounds once one is wrong)."""
        if not bounds:
            return  # a scan's last page has none: keep the scan's other bounds
        with self._memory:
            self._hints.setdefault(chain, {}).update(bounds)
            self._hints.move_to_end(chain)
            while len(self._hints) > HINT_CHAINS:
                self._hints.popitem(last=False)

    def forget_hints(self, chain: Hashable) -> None:
        with self._memory:
            self._hints.pop(chain, None)


def _below(highest: int | None, version: int) -> bool:
    """Whether a table whose highest version is `highest` (None: no such table or no rows) is below `version`."""
    return highest is None or highest < version


def _anonymous_file() -> int:
    """A file descriptor of a temporary file gone with the process."""
    handle = tempfile.TemporaryFile()
    descriptor = os.dup(handle.fileno())
    handle.close()
    return descriptor


def _read_index(path: Path, identity: str, data_size: int):
    """(content key -> (offset, length, crc32), (table, column) -> highest version) from an index file,
    or (None, {}) when it belongs to another tenant (or to none)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, ValueError):
        return None, {}
    if not lines or lines[0] != f"{_HEADER} {identity}":
        return None, {}
    entries, stamps = {}, {}
    for line in lines[1:]:
        parts = line.split(" ")
        if len(parts) != 7 or not all(part.isdigit() for part in (parts[1], parts[2], parts[3], parts[6])):
            continue  # a line torn by a crash
        key, offset, length, checksum, table, column, version = parts
        if int(offset) + int(length) > data_size:
            continue
        entries[key] = (int(offset), int(length), int(checksum))
        stamps[(table, column)] = max(stamps.get((table, column), -1), int(version))
    return entries, stamps
