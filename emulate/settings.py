"""What a tenant adds in front of its services: latency, service protection, faults.

One frozen `EmulatorSettings` value holds all of it and everything is off by default,
so benchmarks see bare services. Tests and the CLI dial it up:

    EmulatorSettings(latency_ms=100, throttle="real",
                     limits=ProtectionLimits(window_s=2, max_requests=20),
                     faults=(FaultRule("503", service="sales", method="GET", path="/accounts", nth=2),))

A running tenant takes new settings with `tenant.configure(...)`.
"""

import dataclasses
from dataclasses import dataclass
from typing import Literal

SERVICES = ("sales", "fno")
FAULT_KINDS = ("500", "502", "503", "504", "reset", "timeout", "slow", "truncate", "busy")
"""5xx answers; `reset` drops the connection unanswered; `timeout` answers only after
`stall_s`; `slow` trickles the body out over `slow_s`; `truncate` declares the full
Content-Length and closes half way through the body; `busy` is F&O's resource-based
throttling (a 429 whatever the user's own budget), so rules with it name service "fno"."""
RANDOM_FAULT_KINDS = tuple(kind for kind in FAULT_KINDS if kind != "busy")


@dataclass(frozen=True)
class ProtectionLimits:
    """Per-user service protection limits (protocols.md 1.8, 2.6); the defaults are the real ones.

    Scale them down for tests (`window_s=2, max_requests=20`); the logic stays the same.
    `push_penalty_s` is how much longer a block lasts for each request that arrives while
    it holds ("Retry-After grows if the client keeps pushing"; the real amount is not
    published).
    """

    window_s: float = 300.0
    max_requests: int = 6000
    max_execution_s: float = 1200.0
    max_concurrent: int = 52
    push_penalty_s: float = 0.1

    def __post_init__(self) -> None:
        if min(self.window_s, self.max_requests, self.max_execution_s, self.max_concurrent) <= 0 or self.push_penalty_s < 0:
            raise ValueError(f"Service protection limits must be positive: {self}")


@dataclass(frozen=True)
class FaultRule:
    """Fail the `nth` request (1-based) that matches, and the `times - 1` matching ones after it.

    A request matches when each given field does: `service` ("sales" or "fno"), `method`,
    and `path`, a substring of the decoded request path (so "/accounts" matches every page
    of accounts, nextLinks included).
    """

    kind: str
    service: str | None = None
    method: str | None = None
    path: str | None = None
    nth: int = 1
    times: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}.")
        if self.service is not None and self.service not in SERVICES:
            raise ValueError(f"Unknown service {self.service!r}; expected one of {', '.join(SERVICES)}.")
        if self.nth < 1 or self.times < 1:
            raise ValueError("A fault rule's nth and times count from 1.")
        if self.kind == "busy" and self.service != "fno":
            raise ValueError("The 'busy' fault is F&O's resource-based throttling: give service='fno'.")


@dataclass(frozen=True)
class EmulatorSettings:
    """Latency, service protection and faults for both services; the default changes nothing.

    - `latency_ms` (+ up to `latency_jitter_ms`, drawn from `seed`) is the least time every
      request takes, its own work included (a real service's response time includes its
      processing; work that takes longer is answered when done), as server time, so it counts
      toward the execution-time limit like a slow server would.
    - `throttle="real"` enforces `limits` per user (the token's object id) and sends the
      Dataverse `x-ms-ratelimit-*` headers, as the real service does on every response;
      `"off"` is an environment without protection, so those headers are absent too (the real
      values would describe limits nobody enforces). `x-ms-dop-hint` is always sent by Sales.
    - Faults come from `faults` (explicit rules, checked first) and from `fault_rate`, the
      fraction of other requests that fail with a kind drawn from `fault_kinds`; draws use
      a generator seeded with `seed`, so a sequence of requests fails the same way each run.
    - `read_ahead`: after serving a collection page, build the next page's row texts in the
      background (emulate/read_ahead.py), as a database reads ahead on a scan; off, every
      page's rows are built when asked for. Pages are the same either way.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    throttle: Literal["real", "off"] = "off"
    limits: ProtectionLimits = ProtectionLimits()
    faults: tuple[FaultRule, ...] = ()
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("503",)
    seed: int = 0
    stall_s: float = 120.0
    slow_s: float = 10.0
    dop_hint: int = 4
    read_ahead: bool = True

    def __post_init__(self) -> None:
        if self.throttle not in ("real", "off"):
            raise ValueError(f"throttle must be 'real' or 'off', not {self.throttle!r}.")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0 or self.stall_s < 0 or self.slow_s < 0:
            raise ValueError("Latencies and durations cannot be negative.")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate is a fraction between 0 and 1, not {self.fault_rate}.")
        unknown = set(self.fault_kinds) - set(RANDOM_FAULT_KINDS)
        if unknown or not self.fault_kinds:
            raise ValueError(f"fault_kinds must be some of {', '.join(RANDOM_FAULT_KINDS)}.")
        object.__setattr__(self, "faults", tuple(self.faults))

    @property
    def faulty(self) -> bool:
        return bool(self.faults) or self.fault_rate > 0

    @property
    def quiet(self) -> bool:
        """Nothing to add: requests go straight to the service."""
        return not self.faulty and self.throttle == "off" and self.latency_ms == 0 and self.latency_jitter_ms == 0

    def replace(self, **changes: object) -> "EmulatorSettings":
        return dataclasses.replace(self, **changes)
