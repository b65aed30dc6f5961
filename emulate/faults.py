"""Injected faults: which request fails, and how the failure reaches the client.

`FaultPlan` decides per request, deterministically: explicit `FaultRule`s first (the
`nth` matching request), then the seeded `fault_rate` draw. How each kind looks:

- `500`: the service's own error envelope (`ServiceError` rendered by the service).
- `502`/`503`/`504`: answered by the web front end before the service sees the request,
  as IIS/HTTP.sys and the Azure gateway answer: a small `text/html` page.
- `reset`: the connection is dropped without an answer (TCP reset).
- `busy` (F&O only): resource-based throttling, 429 + `Retry-After` in F&O's envelope.
- `timeout`, `slow`, `truncate`: the service answers, then the delivery goes wrong
  (late, trickled, or cut short after a full Content-Length).
"""

import random
import threading

from emulate.errors import InternalServerError, TooManyRequests
from emulate.server import Delivery, Request, Response
from emulate.settings import EmulatorSettings, FaultRule

# F2/F4 (resource-based limits, priority-based throttling): what F&O answers when the environment is overloaded.
RESOURCE_BUSY_MESSAGE = ("This request could not be processed at this time due to system experiencing high resource "
                         "utilization.")
RESOURCE_BUSY_RETRY_AFTER_S = 5


def resource_busy() -> TooManyRequests:
    """F&O's resource-based 429, rendered in its error envelope; the front adds `Retry-After`."""
    return TooManyRequests(RESOURCE_BUSY_MESSAGE)


def server_error() -> InternalServerError:
    """Dataverse's generic failure (0x80040216 "An unexpected error occurred."); F&O renders
    the same error in its envelope ("An error has occurred." + innererror)."""
    return InternalServerError("An unexpected error occurred.", code="0x80040216")

# HTTP.sys answers 503 with this page when the application pool is down (Dataverse and F&O run on IIS).
_HTTP_SYS_503 = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
                 '<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n'
                 '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
                 '<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n'
                 '</BODY></HTML>\r\n')


def _gateway_page(status: int, title: str) -> str:
    return (f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n"
            "<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n")


_GATEWAY_PAGES = {502: _gateway_page(502, "Bad Gateway"), 503: _HTTP_SYS_503, 504: _gateway_page(504, "Gateway Time-out")}


def gateway_response(status: int) -> Response:
    """A 502/503/504 from the front end: HTML, no OData headers."""
    return Response(status, _GATEWAY_PAGES[status].encode(), {"Content-Type": "text/html"})


def delivery(kind: str, settings: EmulatorSettings) -> Delivery:
    """How the answer to a request with a delivery fault goes out."""
    return {"reset": Delivery(reset=True), "timeout": Delivery(stall_s=settings.stall_s),
            "slow": Delivery(spread_s=settings.slow_s), "truncate": Delivery(truncate=True)}[kind]


class FaultPlan:
    """Counts matching requests per rule and draws random faults, under one lock."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.rules = settings.faults
        self.rate = settings.fault_rate
        self.kinds = settings.fault_kinds
        self.seed = settings.seed
        self._matched = [0] * len(self.rules)
        self._random = random.Random(settings.seed)
        self._lock = threading.Lock()

    def fits(self, settings: EmulatorSettings) -> bool:
        """Whether this plan still serves `settings` (else counters start over)."""
        return (self.rules, self.rate, self.kinds, self.seed) == (settings.faults, settings.fault_rate, settings.fault_kinds, settings.seed)

    def fault_for(self, service: str, request: Request) -> str | None:
        """The fault kind this request gets, if any."""
        fired = []
        with self._lock:
            for index, rule in enumerate(self.rules):
                if _matches(rule, service, request):
                    self._matched[index] += 1  # every matching rule counts the request, fired or not
                    if rule.nth <= self._matched[index] < rule.nth + rule.times:
                        fired.append(rule.kind)
            drawn = self._random.choice(self.kinds) if self.rate and self._random.random() < self.rate else None
        return fired[0] if fired else drawn


def _matches(rule: FaultRule, service: str, request: Request) -> bool:
    return ((rule.service is None or rule.service == service)
            and (rule.method is None or rule.method.upper() == request.method)
            and (rule.path is None or rule.path in request.path))
