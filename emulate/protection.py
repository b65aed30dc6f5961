"""Service protection: per-user sliding windows of requests, execution time and concurrency.

Follows protocols.md 1.8 (Dataverse, doc D1 `api-limits.md`) and 2.6 (F&O, doc F2
`service-protection-api-limits.md`): each user is limited independently over a sliding
window (300 s); the request-count and execution-time limits are checked against what the
window already holds, so the request that crosses a limit still runs and the ones after it
get `429` until the window has slid far enough; too many concurrent requests fail at once.
While a user is blocked, every further request lengthens the block by `push_penalty_s`.
A `$batch` is one HTTP request: it counts once, with all of its execution time.
"""

import math
import threading
from collections import deque
from dataclasses import dataclass, field

from emulate.errors import TooManyRequests
from emulate.settings import ProtectionLimits


@dataclass(frozen=True)
class Dialect:
    """How one service words its three limit errors (Dataverse adds hex codes)."""

    requests: tuple[str, str]
    execution: tuple[str, str]
    concurrency: tuple[str, str]

    def error(self, which: str, limits: ProtectionLimits) -> TooManyRequests:
        code, template = getattr(self, which)
        return TooManyRequests(template.format(
            requests=limits.max_requests, window=f"{limits.window_s:g}", concurrent=limits.max_concurrent,
            execution_s=f"{limits.max_execution_s:g}", execution_ms=f"{round(limits.max_execution_s * 1000):,}"), code=code)


DATAVERSE = Dialect(  # hex codes and messages from D1, "Service protection API limit errors returned"
    requests=("0x80072322", "Number of requests exceeded the limit of {requests} over time window of {window} seconds."),
    execution=("0x80072321", "Combined execution time of incoming requests exceeded limit of {execution_ms} milliseconds "
               "over time window of {window} seconds. Decrease number of concurrent requests or reduce the duration of "
               "requests and try again later."),
    concurrency=("0x80072326", "Number of concurrent requests exceeded the limit of {concurrent}."),
)
FNO = Dialect(  # messages from F2, "Service protection API response" (the "exeeded" typo is theirs)
    requests=("", "Number of requests exeeded the limit of {requests} over the time window of {window} seconds."),
    execution=("", "Combined execution time of incoming requests exceeded limit of {execution_s} seconds over time "
               "window of {window} seconds. Decrease number of concurrent requests or reduce the duration of requests "
               "and try again later."),
    concurrency=("", "Number of concurrent requests exceeded the limit of {concurrent}."),
)


@dataclass
class _User:
    arrivals: deque[float] = field(default_factory=deque)
    executions: deque[tuple[float, float]] = field(default_factory=deque)  # (finished at, seconds)
    execution_s: float = 0.0
    in_flight: int = 0
    blocked_until: float = 0.0
    blocked_by: str = ""

    def slide(self, now: float, window_s: float) -> None:
        while self.arrivals and self.arrivals[0] <= now - window_s:
            self.arrivals.popleft()
        while self.executions and self.executions[0][0] <= now - window_s:
            self.execution_s -= self.executions.popleft()[1]
        if not self.executions:
            self.execution_s = 0.0  # no float drift once the window is empty


@dataclass(frozen=True)
class Budget:
    """What a user has left in the window, as the informational headers report it."""

    requests: int
    execution_s: float


class Refused(Exception):
    """A request over a limit; `retry_after_s` is what the client should wait."""

    def __init__(self, which: str, retry_after_s: float, budget: Budget) -> None:
        super().__init__(which)
        self.which = which
        self.retry_after_s = retry_after_s
        self.budget = budget

    @property
    def retry_after(self) -> str:
        """The `Retry-After` header: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


class ServiceProtection:
    """The windows of every user of one service (one web server, in the real service's terms)."""

    def __init__(self) -> None:
        self._users: dict[str, _User] = {}
        self._lock = threading.Lock()

    def admit(self, user: str, now: float, limits: ProtectionLimits) -> Budget:
        """Count a request that starts now, or raise `Refused`; admitted requests must `finish`."""
        with self._lock:
            state = self._users.setdefault(user, _User())
            state.slide(now, limits.window_s)
            if state.in_flight >= limits.max_concurrent:
                raise Refused("concurrency", 1, self._budget(state, limits))
            if now < state.blocked_until:
                state.blocked_until += limits.push_penalty_s
                raise Refused(state.blocked_by, state.blocked_until - now, self._budget(state, limits))
            reopens = self._reopens(state, limits)
            if reopens is not None:
                state.blocked_until, state.blocked_by = reopens
                raise Refused(state.blocked_by, state.blocked_until - now, self._budget(state, limits))
            state.arrivals.append(now)
            state.in_flight += 1
            return self._budget(state, limits)

    def finish(self, user: str, started: float, now: float, limits: ProtectionLimits) -> Budget:
        """Record an admitted request's execution time; what the user has left."""
        with self._lock:
            state = self._users[user]
            state.in_flight -= 1
            state.executions.append((now, now - started))
            state.execution_s += now - started
            return self._budget(state, limits)

    @staticmethod
    def _reopens(state: _User, limits: ProtectionLimits) -> tuple[float, str] | None:
        """When the window lets this user in again, if a limit is reached now."""
        over = len(state.arrivals) - limits.max_requests
        if over >= 0:
            return state.arrivals[over] + limits.window_s, "requests"
        if state.execution_s >= limits.max_execution_s:
            remaining = state.execution_s
            for finished, seconds in state.executions:
                remaining -= seconds
                if remaining < limits.max_execution_s:
                    return finished + limits.window_s, "execution"
        return None

    @staticmethod
    def _budget(state: _User, limits: ProtectionLimits) -> Budget:
        return Budget(max(0, limits.max_requests - len(state.arrivals)), max(0.0, limits.max_execution_s - state.execution_s))


def ratelimit_headers(budget: Budget) -> dict[str, str]:
    """Dataverse's informational headers (D1 "HTTP Response headers"); live responses format the
    time as seconds with a grouping separator and two decimals, e.g. `1,199.46`."""
    return {"x-ms-ratelimit-burst-remaining-xrm-requests": str(budget.requests),
            "x-ms-ratelimit-time-remaining-xrm-requests": f"{budget.execution_s:,.2f}"}
