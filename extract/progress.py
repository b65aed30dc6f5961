"""Progress of a running extract: rows received per entity and their rate.

Shown with rich on stderr, and only when stderr is a terminal, so ``--json`` output and
logs stay clean. Worker threads report pages as they land; rich serialises the drawing.
"""

from __future__ import annotations

from typing import IO, Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress as RichBar, TaskID, TextColumn, TimeElapsedColumn


class Progress(Protocol):
    def start(self, entity: str) -> None: ...
    def advance(self, entity: str, rows: int) -> None: ...
    def finish(self, entity: str, rows: int) -> None: ...


class NoProgress:
    """Reports nothing (no terminal, tests, ``--json``)."""

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def start(self, entity: str) -> None:
        pass

    def advance(self, entity: str, rows: int) -> None:
        pass

    def finish(self, entity: str, rows: int) -> None:
        pass


class BarProgress:
    """One line per entity: a pulsing bar, rows received, rows per second, time elapsed."""

    def __init__(self, stream: IO[str]) -> None:
        self._bar = RichBar(
            TextColumn("{task.description}"), BarColumn(bar_width=10),
            TextColumn("{task.completed:>9,.0f} rows"), TextColumn("{task.fields[rate]:>7} rows/s"), TimeElapsedColumn(),
            console=Console(file=stream), transient=True,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> BarProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def start(self, entity: str) -> None:
        self._tasks[entity] = self._bar.add_task(entity, total=None, rate="")

    def advance(self, entity: str, rows: int) -> None:
        task = self._tasks[entity]
        self._bar.advance(task, rows)
        speed = next(t.speed for t in self._bar.tasks if t.id == task)  # rich's own moving average; None until two samples
        self._bar.update(task, rate=f"{speed:,.0f}" if speed else "")

    def finish(self, entity: str, rows: int) -> None:
        self._bar.update(self._tasks[entity], total=rows, completed=rows)


def wants_rows(progress: Progress) -> bool:
    """Whether ``progress`` does anything with rows (counting them costs a scan of every page)."""
    return getattr(type(progress), "advance", None) is not NoProgress.advance


def progress_for(stream: IO[str], *, quiet: bool = False) -> BarProgress | NoProgress:
    """A bar on ``stream`` when it is a terminal (and not ``quiet``), otherwise nothing."""
    return BarProgress(stream) if stream.isatty() and not quiet else NoProgress()
