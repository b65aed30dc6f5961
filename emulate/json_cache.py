"""Served rows' JSON text, kept between requests so a page already served costs a pick and a join.

A row's text (for one row shape: the `$select`ed members in a fixed order) depends only on
the row's own stored values, and every write path gives the row a new version (Dataverse
`versionnumber`, F&O `RecVersion`, both from tenant-wide sequences). So a text is reused
only while the row still has the version it was built from; a changed row is rebuilt when
a page next holds it, and a deleted row is never picked again (its text is dropped with its
shape once the cache is over budget). Shapes that read other rows (formatted values,
`$expand`) are never cached.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

RowId = object  # a row's identity: its primary key text (Dataverse) or RecId (F&O)
Picked = Sequence[tuple[RowId, int]]  # a page's rows in page order: (identity, version) tuples
SEPARATOR = b"\n"  # joins texts built in one query: JSON text never holds a raw newline
DEFAULT_BUDGET = 256 << 20  # bytes of row text kept per tenant: the emulator often shares a process with p2c


class _Shape:
    """The texts of one row shape: (identity, version) -> text, and each identity's cached version."""

    def __init__(self) -> None:
        self.texts: dict[tuple[RowId, int], bytes] = {}
        self.versions: dict[RowId, int] = {}
        self.size = 0


class RowTextCache:
    """Per row shape, each served row's JSON text at the version it was built from.

    The least recently served shapes are dropped once the texts exceed `budget` bytes.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._shapes: OrderedDict[Hashable, _Shape] = OrderedDict()
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

    def clear(self) -> None:
        with self._lock:
            self._shapes.clear()

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
            ids = [row_id for row_id, _ in rows]
            for row_id, old in zip(ids, map(shape.versions.get, ids)):
                if old is not None:
                    shape.size -= len(shape.texts.pop((row_id, old), b""))
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
