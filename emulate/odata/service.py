"""What both emulated services do around their routing: front-end refusals, 401 challenges,
the error envelope and the OData response headers. Each service supplies its envelope."""

from emulate.authority import TokenAuthority
from emulate.errors import ServiceError, Unauthorized
from emulate.server import Request, Response


class ODataService:
    authority: TokenAuthority

    def __call__(self, request: Request) -> Response:
        return self.respond(request)

    def respond(self, request: Request) -> Response:
        """One request answered: routing, error envelope, headers (each $batch part comes here too)."""
        try:
            if request.refusal is not None:  # refused in front of the service (emulate/front.py)
                raise request.refusal
            response = self._route(request)
        except Unauthorized:
            response = self.authority.challenge(request.origin)
        except ServiceError as exc:
            response = Response.json(exc.status, self.error_body(exc))
        response.headers.update({"OData-Version": "4.0", **self.trace_headers()})
        if response.headers.get("Content-Type", "").startswith("application/json"):
            response.headers["Content-Type"] = "application/json; odata.metadata=minimal"
        return response

    def _route(self, request: Request) -> Response:
        raise NotImplementedError

    def error_body(self, exc: ServiceError) -> dict:
        """The service's error envelope for ``exc``."""
        raise NotImplementedError

    def trace_headers(self) -> dict[str, str]:
        """Per-response correlation headers the service sends."""
        return {}
