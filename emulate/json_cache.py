"""Served rows' JSON text, kept between requests so a page already served costs a pick and a join, or a join alone.

A row's text (for one row shape: the `$select`ed members in a fixed order) depends only on
the row's own stored values, and every write path gives the row a new version (Dataverse
`versionnumber`, F&O `RecVersion`, both from tenant-wide sequences). So a text is reused
only while the row still has the version it was built from; a changed row is rebuilt when
a page next holds it, and a deleted row is never picked again (its text is dropped with its
shape once the cache is over budget). Shapes that read other rows (formatted values,
`$expand`) are never cached.

The cache also remembers which pages (a request shape's page and its parameters) it has
built: a page never built is built whole in one query with its pick (emulate/odata/query.py), a page built
before is picked first so that only its changed rows are rebuilt. And it keeps each shape's
pages as last served, with the store's write generation they were read at (`Store.generation`,
renewed by every committed write transaction): while no write has committed since, a page is
served again as it was, without a query.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

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

    The least recently served shapes are dropped once the texts exceed `budget` bytes.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._shapes: OrderedDict[Hashable, _Shape] = OrderedDict()
        self._pages: OrderedDict[Hashable, None] = OrderedDict()  # pages built, most recent last
        self._lock = threading.Lock()

    def page(self, shape_key: Hashable, picked: Picked, build: Callable[[list[RowId]], list[bytes]]) -> list[bytes]:
        """The picked rows' texts, `build` making those of rows not cached at their version."""
        shape = self._shape(shape_key)
        texts = list(map(shape.texts.get, picked))
        missing = [i for i, text in enumerate(texts) if text is None]
        if missing:
            built = build([picked[i][0] for i in missing])
            if len(built) != len(missing):
                raise RuntimeError(f"built {len(built)} row texts for {len(missing)} rows")
            for i, text in zip(missing, built):
                texts[i] = text
            self._keep(shape_key, shape, [picked[i] for i in missing], built)
        return texts

    def put(self, shape_key: Hashable, rows: Picked, texts: list[bytes]) -> None:
        """Cache texts built for `rows` ((identity, version) each) outside `page`."""
        if len(rows) != len(texts):
            raise RuntimeError(f"built {len(texts)} row texts for {len(rows)} rows")
        self._keep(shape_key, self._shape(shape_key), rows, texts)

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

    def _keep(self, shape_key: Hashable, shape: _Shape, rows: Picked, built: list[bytes]) -> None:
        """Cache `built` (dropping texts of the same rows at other versions); over budget, drop the least recently served shapes."""
        with self._lock:
            for row_id, version in rows:
                old = shape.versions.get(row_id)
                if old is not None:
                    shape.size -= len(shape.texts.pop((row_id, old), b""))
                    if old != version:
                        shape.served.clear()  # a row was written since those pages were read: let go of its old text
            shape.versions.update(rows)
            shape.texts.update(zip(rows, built))
            shape.size += sum(map(len, built))
            total = sum(s.size for s in self._shapes.values())
            while total > self.budget and self._shapes:
                oldest_key, oldest = next(iter(self._shapes.items()))
                del self._shapes[oldest_key]
                total -= oldest.size


def split_texts(joined: bytes | None) -> list[bytes]:
    """Texts built in one query and joined with `SEPARATOR`."""
    return joined.split(SEPARATOR) if joined else []
