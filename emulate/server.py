"""HTTPS plumbing shared by every emulated service.

An app is a callable `Request -> Response`; `HttpsServer` runs it on a loopback
port with TLS, HTTP/1.1 keep-alive and one thread per connection. A response may
carry a `Delivery` that puts it on the wire badly (injected faults, emulate/faults.py).
"""

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from emulate.errors import BadRequest, ServiceError


@dataclass
class Request:
    """One HTTP request as an app sees it; query values are already decoded."""

    method: str
    path: str
    raw_query: str
    headers: Message
    body: bytes
    origin: str
    refusal: ServiceError | None = None
    """Set by the layers in front of a service: answer with this error, in the service's envelope."""
    arrived: float = field(default_factory=time.monotonic)
    """When the request line was read (``time.monotonic``): emulated latency counts from there."""

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = [value for key, value in self.query if key == name]
        if len(values) > 1:
            raise BadRequest(f"Query option '{name}' was specified more than once, but it must be specified at most once.")
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []

    def json(self) -> object:
        try:
            return json.loads(self.body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"The request body is not valid JSON: {exc}") from exc


@dataclass(frozen=True)
class Delivery:
    """How a response goes out when it does not go out at once and whole."""

    reset: bool = False     # drop the connection without answering (TCP reset)
    stall_s: float = 0.0    # answer only after this long
    spread_s: float = 0.0   # trickle the body out over this long
    truncate: bool = False  # declare the full Content-Length, send half the body, close


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delivery: Delivery | None = None

    @classmethod
    def json(cls, status: int, payload: object, headers: dict[str, str] | None = None) -> "Response":
        return cls.raw_json(status, json.dumps(payload, separators=(",", ":")), headers)

    @classmethod
    def raw_json(cls, status: int, text: str, headers: dict[str, str] | None = None) -> "Response":
        """A response whose JSON text was already built (for example by DuckDB)."""
        return cls(status, text.encode(), {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


App = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; don't wait for an ACK between them
    server: "_Server"

    def parse_request(self) -> bool:
        self.arrived = time.monotonic()  # the request line is in: what follows is the server's own work
        return super().parse_request()

    def _dispatch(self) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command, path=unquote(target.path), raw_query=target.query,
            headers=self.headers, body=self.rfile.read(length) if length else b"",
            origin=self.server.origin, arrived=self.arrived,
        )
        try:
            with self.server.serving():
                response = self.server.app(request)
        except Exception as exc:  # the emulator's own bug: answer like a server would
            response = Response.json(500, {"error": {"code": "", "message": f"{type(exc).__name__}: {exc}"}})
        if response.delivery is None:
            self._send(response, response.body)
        else:
            self._deliver_badly(response, response.delivery)

    def _send(self, response: Response, body: bytes) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _deliver_badly(self, response: Response, delivery: Delivery) -> None:
        if delivery.stall_s and self.server.stopping.wait(delivery.stall_s):
            delivery = Delivery(reset=True)  # the server is stopping: give up on the stalled answer
        if delivery.reset or (delivery.truncate and not response.body):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if delivery.truncate:
            self._send(response, response.body[: len(response.body) // 2])
            self.close_connection = True
            return
        if delivery.spread_s and response.body and self.command != "HEAD":
            self._send(response, b"")
            chunks = [response.body[start:start + 8192] for start in range(0, len(response.body), 8192)]
            for chunk in chunks:
                if self.server.stopping.wait(delivery.spread_s / len(chunks)):
                    break
                self.wfile.write(chunk)
            return
        self._send(response, response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet; tests and the CLI own the console."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, app: App, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self.context = context
        self.origin = f"https://127.0.0.1:{self.server_address[1]}"
        self.connections: set[socket.socket] = set()
        self.stopping = threading.Event()  # wakes handlers that stall or trickle on purpose
        self._busy = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Count a request in flight, so stop() can wait until the app is done with the store."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def finish_request(self, request, client_address) -> None:
        """Do the TLS handshake in the connection's own thread, not in accept()."""
        with self.context.wrap_socket(request, server_side=True) as tls:
            self.connections.add(tls)
            try:
                self.RequestHandlerClass(tls, client_address, self)
            finally:
                self.connections.discard(tls)

    def drop_connections(self) -> None:
        """End idle keep-alive connections so their threads finish."""
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        """Dropped connections and failed handshakes are normal; say nothing."""


class HttpsServer:
    """One app served over HTTPS on an ephemeral 127.0.0.1 port."""

    def __init__(self, app: App, context: ssl.SSLContext) -> None:
        self._server = _Server(app, context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"emulate{self.origin}", daemon=True)

    @property
    def origin(self) -> str:
        return self._server.origin

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        self._server.wait_idle(timeout=10)  # requests still inside the app finish before the store closes
