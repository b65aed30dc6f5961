"""When to send a request again, how long to wait first, and what the waiting cost.

Both services refuse work with ``429`` + ``Retry-After`` (seconds; protocols.md 1.8, 2.6),
and their front ends answer ``502/503/504`` or drop connections now and then. Which of
these are safe to repeat depends on whether the service may have acted on the request:

- a ``429`` or a ``503`` is a refusal: the request was not processed, any method repeats;
- a connection that could not be opened carried no request: any method repeats;
- a ``502``/``504``, a reset, a truncated body or a read timeout may follow a request the
  service applied: only idempotent methods (GET, PUT, DELETE, PATCH) repeat.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
REFUSED_STATUSES = frozenset({429, 503})  # the service did not process the request
GATEWAY_STATUSES = frozenset({502, 504})  # the service may have processed it


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one request.

    ``max_attempts`` counts every send of one request failing with a 5xx or a connection
    error; throttling (429) is bounded by time instead: a request gives up once honouring
    the next ``Retry-After`` would take its total wait past ``max_throttle_s``.
    Backoff is exponential from ``base_delay_s``, capped at ``max_delay_s``, jittered
    between half and all of that. ``sleep`` and ``jitter`` are there for tests.
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_throttle_s: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("A retry policy needs at least one attempt.")
        if not 0 < self.base_delay_s <= self.max_delay_s or self.max_throttle_s < 0:
            raise ValueError(f"Retry delays must be positive and the base at most the cap: {self}")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before the ``retry``-th repeat (1-based): never above ``max_delay_s``."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** min(retry - 1, 62))
        return ceiling / 2 + ceiling / 2 * self.jitter()


SINGLE_ATTEMPT = RetryPolicy(max_attempts=1, max_throttle_s=0)
"""For clients p2c did not build (``make_client`` attaches a real policy): fail at once."""


def may_repeat(method: str, *, status: int | None = None, error: httpx.TransportError | None = None) -> bool:
    """Whether a request that got ``status`` (or failed with ``error``) is worth and safe to send again."""
    if status is not None:
        if status in REFUSED_STATUSES:
            return True
        return status in GATEWAY_STATUSES and method.upper() in IDEMPOTENT_METHODS
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return not _certificate_problem(error)  # nothing was sent; a certificate will not fix itself
    return error is not None and may_have_been_applied(error) and method.upper() in IDEMPOTENT_METHODS


def may_have_been_applied(error: httpx.TransportError) -> bool:
    """Whether the request went out before the connection failed (reset, truncated answer, read timeout)."""
    return isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ReadTimeout, httpx.WriteTimeout))


def retry_after_s(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number (both services send seconds)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class RetryCounts:
    """A snapshot of ``RetryStats``."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    seconds_throttled: float = 0.0
    dop_hint: int | None = None


class RetryStats:
    """What one client's requests cost, for the run summary; safe to share between threads.

    ``requests`` counts every send (retries included), ``retries`` the repeats,
    ``throttled`` the 429s, ``seconds_throttled`` the time spent honouring them;
    ``dop_hint`` is the latest ``x-ms-dop-hint`` a response carried.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = RetryCounts()

    def snapshot(self) -> RetryCounts:
        return self._counts

    @property
    def requests(self) -> int:
        return self._counts.requests

    @property
    def retries(self) -> int:
        return self._counts.retries

    @property
    def throttled(self) -> int:
        return self._counts.throttled

    @property
    def seconds_throttled(self) -> float:
        return self._counts.seconds_throttled

    @property
    def dop_hint(self) -> int | None:
        return self._counts.dop_hint

    def sent(self, response: httpx.Response | None) -> None:
        """Count one send and read the service's hint from its answer, if it answered."""
        hint = _dop_hint(response) if response is not None else None
        with self._lock:
            c = self._counts
            self._counts = RetryCounts(c.requests + 1, c.retries, c.throttled, c.seconds_throttled,
                                       hint if hint is not None else c.dop_hint)

    def waited(self, seconds: float, *, throttled: bool) -> None:
        """Count one repeat and the wait before it (as throttled time when a 429 asked for it)."""
        with self._lock:
            c = self._counts
            self._counts = RetryCounts(c.requests, c.retries + 1, c.throttled + throttled,
                                       c.seconds_throttled + (seconds if throttled else 0.0), c.dop_hint)


def _dop_hint(response: httpx.Response) -> int | None:
    try:
        hint = int(response.headers.get("x-ms-dop-hint", ""))
    except ValueError:
        return None
    return hint if hint > 0 else None


def _certificate_problem(error: Exception) -> bool:
    text = str(error)
    return "CERTIFICATE_VERIFY_FAILED" in text or "[SSL" in text
