"""Build `$batch` request bodies and read multipart responses, independently of the emulator's code."""

import json
import re
import uuid
from dataclasses import dataclass, field

CRLF = "\r\n"


def request_part(method: str, url: str, body: object = None, headers: dict[str, str] | None = None,
                 content_id: str | None = None) -> str:
    """One `application/http` part (without its boundary line)."""
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1"]
    if body is not None:
        lines.append("Content-Type: application/json; type=entry")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("")
    lines.append("" if body is None else json.dumps(body))
    return CRLF.join(lines)


def change_set(*parts: str, boundary: str | None = None) -> str:
    boundary = boundary or f"changeset_{uuid.uuid4()}"
    inner = "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts) + f"--{boundary}--"
    return f'Content-Type: multipart/mixed; boundary="{boundary}"{CRLF}{CRLF}{inner}'


def batch(*items: str, quoted: bool = True) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a batch request holding `items` (request parts and change sets)."""
    boundary = f"batch_{uuid.uuid4()}"
    body = "".join(f"--{boundary}{CRLF}{item}{CRLF}" for item in items) + f"--{boundary}--{CRLF}"
    value = f'"{boundary}"' if quoted else boundary
    return {"Content-Type": f"multipart/mixed; boundary={value}"}, body.encode()


@dataclass
class Part:
    status: int
    reason: str
    headers: dict[str, str]
    body: str
    content_id: str | None = None
    change_set: str | None = None  # the changesetresponse boundary it came under

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class BatchReply:
    boundary: str
    parts: list[Part] = field(default_factory=list)


def _sections(text: str, boundary: str) -> list[str]:
    pieces = re.split(rf"(?:^|\r\n)--{re.escape(boundary)}(?:--)?(?:\r\n|$)", text)
    return [piece for piece in pieces[1:] if piece.strip()]


def read_batch(response) -> BatchReply:
    """Every inner response of a multipart batch response, change-set parts flattened in order."""
    match = re.fullmatch(r"multipart/mixed; boundary=(batchresponse_[0-9a-f-]{36})", response.headers["Content-Type"])
    assert match, response.headers["Content-Type"]
    reply = BatchReply(match.group(1))
    for section in _sections(response.text, reply.boundary):
        head, _, rest = section.partition(CRLF * 2)
        inner = re.search(r"boundary=(changesetresponse_[0-9a-f-]{36})", head)
        if inner:
            for part in _sections(rest, inner.group(1)):
                reply.parts.append(_part(part, inner.group(1)))
        else:
            reply.parts.append(_part(section, None))
    return reply


def _part(section: str, change_set_boundary: str | None) -> Part:
    head, _, message = section.partition(CRLF * 2)
    mime = dict(line.split(": ", 1) for line in head.split(CRLF) if line)
    assert mime["Content-Type"] == "application/http" and mime["Content-Transfer-Encoding"] == "binary", mime
    status_head, _, body = message.partition(CRLF * 2)
    status_line, *header_lines = status_head.split(CRLF)
    _, status, reason = status_line.split(" ", 2)
    assert status_line.startswith("HTTP/1.1 ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return Part(int(status), reason, headers, body.strip(), mime.get("Content-ID"), change_set_boundary)
