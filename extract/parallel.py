"""How many requests p2c keeps in flight per service, and the gate that holds the rest back.

Both services allow 52 concurrent requests per user (protocols.md 1.8, 2.6); Dataverse also
recommends a degree of parallelism in every answer's ``x-ms-dop-hint``. A service's gate
admits one request until the service has answered, then ``min(max_requests, 52, latest
hint)`` at a time, re-read before each one: the extractor ramps up to the hint.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from extract.retry import RetryStats

SERVICE_CONCURRENCY_LIMIT = 52  # concurrent requests per user, both services (protocols.md 1.8, 2.6)


@dataclass(frozen=True)
class Parallelism:
    """``max_requests`` per service (capped at the service limit); ``split_fno`` reads large F&O
    entities as concurrent key-ordered ranges (``$skip``/``$top``) instead of one chain of pages."""

    max_requests: int = 8
    split_fno: bool = True

    def __post_init__(self) -> None:
        if self.max_requests < 1:
            raise ValueError("At least one request at a time is needed.")

    @property
    def workers(self) -> int:
        return min(self.max_requests, SERVICE_CONCURRENCY_LIMIT)


class Gate:
    """Admits at most ``limit()`` holders at once; the limit may change while others wait.

    A freed place goes to the waiter of highest ``rank`` (tuples compare element by element),
    the earliest among equals. The extractor ranks a request by the rows its entity's full read
    is expected to return (what its raw table held, or on a first read the service's record
    count: the chain's length, roughly), then by the pages its chain has already fetched: long
    chains of nextLinks, which no parallelism can shorten, start first, and a chain keeps its
    place between its requests (``Place``).
    """

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._cond = threading.Condition()
        self._busy = 0
        self._waiting: list[tuple[tuple[int, ...], int]] = []  # (negated rank, arrival): smallest goes next
        self._arrivals = itertools.count()
        self.peak = 0  # the most holders seen at once (for tests and benchmarks)

    @property
    def waiting(self) -> int:
        """Holders-to-be queued now."""
        with self._cond:
            return len(self._waiting)

    @contextmanager
    def slot(self, rank: tuple[int, ...] = ()) -> Iterator[None]:
        self.enter(rank)
        try:
            yield
        finally:
            self.leave()

    def enter(self, rank: tuple[int, ...] = ()) -> None:
        """Wait for a place (the highest rank first, then the earliest) and take it."""
        with self._cond:
            me = (tuple(-r for r in rank), next(self._arrivals))
            heapq.heappush(self._waiting, me)
            try:
                while self._busy >= self._cap() or self._waiting[0] != me:
                    self._cond.wait(0.05)
            finally:
                self._waiting.remove(me)
                heapq.heapify(self._waiting)
                self._cond.notify_all()  # the next waiter may now be first
            self._busy += 1
            self.peak = max(self.peak, self._busy)

    def leave(self) -> None:
        """Give a place back."""
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def over_limit(self) -> bool:
        """Whether more places are taken than the limit now allows (it was lowered)."""
        with self._cond:
            return self._busy > self._cap()

    def _cap(self) -> int:
        """Places allowed now: the limit, never below one."""
        return max(1, self._limit())


class Place:
    """A chain's place at a gate, kept from one of its requests to the next.

    A chain of nextLinks sends its next request as soon as a page's link is known; were its
    place given back in between, a request queued behind (another entity's first page) could
    take it, and the chain, which nothing else can shorten, would wait a whole request for
    the next free one. So the place stays with the chain until it ends (``release``), and is
    given back between two requests only when the gate's limit has dropped below the places
    taken (a lower ``x-ms-dop-hint``): then the chain queues again, by its rank.
    """

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.held = False

    @contextmanager
    def request(self, rank: tuple[int, ...] = ()) -> Iterator[None]:
        """The span of one request: the place is taken first if the chain does not hold it."""
        if self.held and self.gate.over_limit():
            self.release()
        if not self.held:
            self.gate.enter(rank)
            self.held = True
        yield

    def release(self) -> None:
        if self.held:
            self.held = False
            self.gate.leave()


def service_limit(parallelism: Parallelism, stats: RetryStats | None) -> Callable[[], int]:
    """The gate limit for one service: one request until the service has answered once (its answer
    may carry a hint), then the configured bound, lowered to the latest ``x-ms-dop-hint`` if any."""

    def limit() -> int:
        if stats is None:
            return parallelism.workers
        counts = stats.snapshot()
        if counts.dop_hint:
            return min(parallelism.workers, counts.dop_hint)
        return parallelism.workers if counts.requests else 1

    return limit
