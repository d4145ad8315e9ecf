"""IO-Link masters over HTTP: the only code that talks HTTP to a device.

A JSON master in the style of ifm's IoT Core is POSTed `{"code": "request", "cid": N, "adr":
"<data point>/<service>", "data": ...}` and answers `{"cid": N, "code": <diagnostic code>,
"data": {...}}`. An `HttpBus` is one master's endpoint with one connection pool (httpcore, the
transport under httpx: it has no request logging to silence, and takes a network backend);
each device gets an `IotCoreClient` port with its own URL and timeout.

Every exchange has an overall deadline, not only a timeout per read: a master that trickles
its answer a byte at a time would otherwise hold the bus for ever. Each socket operation may
wait only for what is left of the exchange's time (`_DeadlineBackend`), so the exchange ends
as a timeout at its deadline, whatever phase it is in. Bodies are capped too.

Errors (httpcore's, HTTP statuses, undecodable answers, diagnostic codes) become gatewayd's
here, naming the master. Per-data-point codes of `getdatamulti` are returned, not raised: a
port with no device is data, not a failed poll.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

import httpcore

from ..errors import CommError, DeviceException, ProtocolError
from ..model import Quality
from . import Bus

MAX_BODY_BYTES = 1 << 20  # a master's answer to one poll is a few KB
CODE_TEXT = {
    400: "bad request", 401: "unauthorized", 403: "forbidden", 500: "internal error",
    503: "service unavailable (no device, or port not in IO-Link mode)",
    530: "process data invalid", 531: "IO-Link error", 532: "locked by the fieldbus PLC",
}


class _Deadline(threading.local):
    at: float | None = None

    def clamp(self, timeout: float | None) -> float | None:
        if self.at is None:
            return timeout
        left = max(0.001, self.at - time.monotonic())
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(*args, **kwargs), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    """TCP streams whose every operation waits at most until the current exchange's deadline."""

    def __init__(self) -> None:
        self.deadline = _Deadline()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        stream = super().connect_tcp(host, port, self.deadline.clamp(timeout), local_address,
                                     socket_options)
        return _DeadlineStream(stream, self.deadline)


class HttpBus(Bus):
    """One master's HTTP endpoint: its connection pool, under the bus lock."""

    kind = "HTTP"

    def __init__(self, key: str, url: str = "") -> None:
        super().__init__(key)
        self._backend = _DeadlineBackend()
        self._pool: httpcore.ConnectionPool | None = None

    def port(self, url: str, timeout_s: float) -> IotCoreClient:
        return IotCoreClient(url, timeout_s, self)

    def post(self, url: str, body: bytes, timeout_s: float, what: str) -> tuple[int, bytes]:
        """(status, body) of one POST that ends by `timeout_s` from now, or a CommError."""
        with self.lock:
            if self._pool is None:
                self._pool = httpcore.ConnectionPool(network_backend=self._backend)
            self._backend.deadline.at = time.monotonic() + timeout_s
            try:
                return self._exchange(self._pool, url, body, timeout_s, what)
            except httpcore.TimeoutException:
                self._reset()  # what was left of the answer must not meet the next request
                raise CommError(f"{what}: no answer within {timeout_s:g} s",
                                Quality.BAD_TIMEOUT) from None
            except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as e:
                self._reset()
                raise CommError(f"{what}: {type(e).__name__}: {e}") from None
            finally:
                self._backend.deadline.at = None

    def _exchange(self, pool: httpcore.ConnectionPool, url: str, body: bytes, timeout_s: float,
                  what: str) -> tuple[int, bytes]:
        timeouts = {"connect": timeout_s, "read": timeout_s, "write": timeout_s,
                    "pool": timeout_s}
        headers = [(b"Content-Type", b"application/json"), (b"Accept", b"application/json")]
        with pool.stream("POST", url, headers=headers, content=body,
                         extensions={"timeout": timeouts}) as resp:
            data = bytearray()
            for chunk in resp.iter_stream():
                data += chunk
                if len(data) > MAX_BODY_BYTES:
                    self._reset()
                    raise ProtocolError(f"{what}: answer larger than {MAX_BODY_BYTES} bytes")
            return resp.status, bytes(data)

    def _reset(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def close(self) -> None:
        with self.lock:
            self._reset()


class IotCoreClient:
    """One device's port to a master: its URL and timeout, requests under the bus lock."""

    def __init__(self, url: str, timeout_s: float, bus: HttpBus | None = None) -> None:
        from . import keys

        self.url = url.rstrip("/")
        self.label = f"IO-Link master {self.url}"
        self.timeout_s = timeout_s
        self._cid = itertools.count(1)
        self._own = bus is None  # a client made on its own (probe, tests) closes its bus
        self.bus = bus or HttpBus(keys.url(url))

    def request(self, adr: str, data: dict[str, Any] | None = None) -> Any:
        """POST one service request; the answer's `data`. Raises a DeviceError subclass."""
        cid = next(self._cid)
        body: dict[str, Any] = {"code": "request", "cid": cid, "adr": adr}
        if data is not None:
            body["data"] = data
        answer = self._post(body, adr)
        code = answer.get("code")
        if code != 200:
            what = CODE_TEXT.get(code, f"code {code}") if isinstance(code, int) else repr(code)
            raise DeviceException(f"{self.label}: {adr}: {what}")
        return answer.get("data")

    def _post(self, body: dict[str, Any], adr: str) -> dict[str, Any]:
        what = f"{self.label}: {adr}"
        status, raw = self.bus.post(self.url + "/", json.dumps(body).encode(), self.timeout_s,
                                    what)
        if status != 200:
            raise ProtocolError(f"{what}: HTTP {status}")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ProtocolError(f"{what}: answer is not JSON") from None
        if not isinstance(answer, dict) or answer.get("cid") != body["cid"]:
            raise ProtocolError(f"{what}: answer does not match the request")
        return answer

    def getdata(self, point: str) -> Any:
        data = self.request(f"{point}/getdata")
        if not isinstance(data, dict) or "value" not in data:
            raise ProtocolError(f"{self.label}: {point}: answer has no data.value")
        return data["value"]

    def getdatamulti(self, points: list[str]) -> dict[str, tuple[int, Any]]:
        """Several data points in one request: {point: (diagnostic code, value)}."""
        data = self.request("/getdatamulti", {"datatosend": points})
        if not isinstance(data, dict):
            raise ProtocolError(f"{self.label}: getdatamulti: answer data is not an object")
        out: dict[str, tuple[int, Any]] = {}
        for point in points:
            entry = data.get(point)
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), int):
                raise ProtocolError(f"{self.label}: getdatamulti: no answer for {point}")
            out[point] = (entry["code"], entry.get("data"))
        return out

    def read_isdu(self, port: int, index: int, subindex: int) -> bytes:
        """One ISDU parameter of the device on `port` (iolreadacyclic), as raw octets."""
        adr = f"/iolinkmaster/port[{port}]/iolinkdevice/iolreadacyclic"
        data = self.request(adr, {"index": index, "subindex": subindex})
        try:
            return bytes.fromhex(data["value"])
        except (TypeError, KeyError, ValueError):
            raise ProtocolError(f"{self.label}: {adr}: value is not hex octets") from None

    def close(self) -> None:
        if self._own:
            self.bus.close()
