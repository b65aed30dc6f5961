"""What stands in front of each service: injected faults, service protection, latency.

`ServiceFront` wraps a service app (`Request -> Response`) and applies the tenant's
`EmulatorSettings`, outermost first:

1. faults: a 502/503/504 or a reset comes from the web front end, so the service never
   sees the request and it does not count against protection; a 500 is the service failing;
   `timeout`/`slow`/`truncate` spoil the delivery of an answer the service did give;
2. service protection (per user, `throttle="real"`): 429 + `Retry-After` in the service's
   own error envelope; Dataverse responses also report the remaining budget;
3. latency: the least server time a request takes, its own work included (so it counts as execution time).

With the default settings a request costs one attribute read and a header more.
"""

import random
import threading
import time
from dataclasses import dataclass

from emulate.authority import TokenAuthority
from emulate.errors import Unauthorized
from emulate.faults import RESOURCE_BUSY_RETRY_AFTER_S, FaultPlan, delivery, gateway_response, resource_busy, server_error
from emulate.protection import DATAVERSE, Budget, Dialect, Refused, ServiceProtection, ratelimit_headers
from emulate.server import App, Delivery, Request, Response
from emulate.settings import EmulatorSettings

_GATEWAY_FAULTS = {"502": 502, "503": 503, "504": 504}


@dataclass(frozen=True)
class _Setting:
    settings: EmulatorSettings
    faults: FaultPlan
    jitter: random.Random


class Dial:
    """The tenant's current settings, shared by the fronts of both services (so a fault rule
    without a service counts the requests of both)."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.current = _Setting(settings, FaultPlan(settings), random.Random(settings.seed))
        self.jitter_lock = threading.Lock()

    @property
    def settings(self) -> EmulatorSettings:
        return self.current.settings

    def configure(self, settings: EmulatorSettings) -> None:
        """Apply to the next requests; fault counters and draws start over only when the fault settings change."""
        current = self.current
        faults = current.faults if current.faults.fits(settings) else FaultPlan(settings)
        jitter = current.jitter if settings.seed == current.settings.seed else random.Random(settings.seed)
        self.current = _Setting(settings, faults, jitter)


class ServiceFront:
    """One service behind the tenant's latency, protection and fault settings; its protection
    windows are its own (each service is its own web server) and outlive setting changes."""

    def __init__(self, name: str, app: App, authority: TokenAuthority, dialect: Dialect, dial: Dial) -> None:
        self.name = name
        self.app = app
        self.authority = authority
        self.dialect = dialect
        self.dial = dial
        self.protection = ServiceProtection()

    def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        current = self.dial.current
        if current.settings.quiet:
            response = self._serve(request, current.settings)
        else:
            response = self._through_front(request, current)
        # the server's own time, as F&O reports it (protocols.md 2.5); Dataverse gets it too, for benchmarks
        response.headers["server-timing"] = f"dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    def _serve(self, request: Request, settings: EmulatorSettings) -> Response:
        response = self.app(request)
        if self.dialect is DATAVERSE:  # D2: the recommended degree of parallelism, on Web API responses
            response.headers.setdefault("x-ms-dop-hint", str(settings.dop_hint))
        return response

    def _through_front(self, request: Request, current: _Setting) -> Response:
        settings = current.settings
        fault = current.faults.fault_for(self.name, request) if settings.faulty else None
        if fault in _GATEWAY_FAULTS:
            return gateway_response(_GATEWAY_FAULTS[fault])
        if fault == "reset":
            return Response(0, delivery=Delivery(reset=True))  # no status line ever goes out
        if fault == "500":
            request.refusal = server_error()
        if fault == "busy":
            request.refusal = resource_busy()
            response = self._serve(request, settings)
            response.headers["Retry-After"] = str(RESOURCE_BUSY_RETRY_AFTER_S)
            return response
        user = self._user(request) if settings.throttle == "real" else None
        response = self._answer(request, current) if user is None else self._protected(request, current, user)
        if fault is not None and fault != "500":
            response.delivery = delivery(fault, settings)
        return response

    def _protected(self, request: Request, current: _Setting, user: str) -> Response:
        settings = current.settings
        started = time.monotonic()
        try:
            self.protection.admit(user, started, settings.limits)
        except Refused as refused:
            request.refusal = self.dialect.error(refused.which, settings.limits)
            response = self._serve(request, settings)
            response.headers["Retry-After"] = refused.retry_after
            return self._report(response, refused.budget)
        try:
            response = self._answer(request, current)
        finally:
            budget = self.protection.finish(user, started, time.monotonic(), settings.limits)
        return self._report(response, budget)

    def _answer(self, request: Request, current: _Setting) -> Response:
        """Serve, answering no sooner than the configured latency after the request came (its request line was
        read): the request's own work, parsing included, counts towards it, as a real service's response time
        includes its processing."""
        settings = current.settings
        delay_ms = settings.latency_ms
        if settings.latency_jitter_ms:
            with self.dial.jitter_lock:
                delay_ms += current.jitter.uniform(0, settings.latency_jitter_ms)
        response = self._serve(request, settings)
        remaining = delay_ms / 1000 - (time.monotonic() - request.arrived)
        if remaining > 0:
            time.sleep(remaining)
        return response

    def _report(self, response: Response, budget: Budget) -> Response:
        if self.dialect is DATAVERSE:
            response.headers.update(ratelimit_headers(budget))
        return response

    def _user(self, request: Request) -> str | None:
        """Whom the limits count against: the token's object id (an application user's too).
        A request without a valid token is not counted; the service answers it 401."""
        try:
            claims = self.authority.verify(request.headers.get("Authorization"), audience=request.origin)
        except Unauthorized:
            return None
        return claims.get("oid") or claims.get("appid")
