"""The IoT Core client translates every way an HTTP master can fail into gatewayd's errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from gatewayd.buses.iolink_http import IotCoreClient
from gatewayd.errors import DeviceException, ProtocolError


class _Scripted(BaseHTTPRequestHandler):
    """Answers every POST with the scripted status and body (the request's cid substituted)."""

    script: ClassVar[dict[str, Any]] = {}

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, body = self.script["status"], self.script["body"]
        raw = body.replace("$CID", str(request["cid"])).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[dict[str, Any], IotCoreClient]]:
    """A one-thread HTTP server answering as scripted, and a client of it."""
    handler = type("Handler", (_Scripted,), {"script": {}})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    client = IotCoreClient(f"http://127.0.0.1:{server.server_address[1]}", 2.0)
    yield handler.script, client
    client.close()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (500, "{}", ProtocolError, "HTTP 500"),
        (200, "not json", ProtocolError, "not JSON"),
        (200, '{"cid": 999999, "code": 200}', ProtocolError, "does not match"),
        (200, '{"cid": $CID, "code": 503}', DeviceException, "service unavailable"),
        (200, '{"cid": $CID, "code": 200, "data": {}}', ProtocolError, "no data.value"),
    ],
)
def test_failures_are_translated(
    scripted: tuple[dict[str, Any], IotCoreClient], status: int, body: str,
    error: type[Exception], message: str,
) -> None:
    """HTTP errors, garbage, foreign answers and diagnostic codes raise named gatewayd errors."""
    script, client = scripted
    script.update(status=status, body=body)
    with pytest.raises(error, match=message) as err:
        client.getdata("/devicetag/applicationtag")
    assert client.url in str(err.value)


def test_getdatamulti_needs_every_point(scripted: tuple[dict[str, Any], IotCoreClient]) -> None:
    """A getdatamulti answer missing a requested point is a ProtocolError naming the point."""
    script, client = scripted
    script.update(status=200, body='{"cid": $CID, "code": 200, "data": {"/a": {"code": 200}}}')
    assert client.getdatamulti(["/a"]) == {"/a": (200, None)}
    with pytest.raises(ProtocolError, match="no answer for /b"):
        client.getdatamulti(["/a", "/b"])


def test_isdu_value_must_be_hex(scripted: tuple[dict[str, Any], IotCoreClient]) -> None:
    """An ISDU answer is hex octets; anything else is a ProtocolError."""
    script, client = scripted
    script.update(status=200, body='{"cid": $CID, "code": 200, "data": {"value": "012C"}}')
    assert client.read_isdu(1, 88, 0) == b"\x01\x2c"
    script.update(body='{"cid": $CID, "code": 200, "data": {"value": "zz"}}')
    with pytest.raises(ProtocolError, match="not hex"):
        client.read_isdu(1, 88, 0)


def test_an_oversized_answer_is_refused(scripted: tuple[dict[str, Any], IotCoreClient]) -> None:
    """An answer past the body cap is a ProtocolError, not megabytes read into memory."""
    from gatewayd.buses.iolink_http import MAX_BODY_BYTES

    script, client = scripted
    pad = "x" * (MAX_BODY_BYTES + 1)
    script.update(status=200, body='{"cid": $CID, "code": 200, "data": {"value": "' + pad + '"}}')
    with pytest.raises(ProtocolError, match="larger than"):
        client.getdata("/devicetag/applicationtag")
