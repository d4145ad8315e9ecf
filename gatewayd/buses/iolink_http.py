"""The only code that talks HTTP: a client of a JSON IO-Link master in the style of ifm's IoT Core.

Requests are POSTed as `{"code": "request", "cid": N, "adr": "<data point>/<service>", "data": ...}`
and answered with `{"cid": N, "code": <diagnostic code>, "data": {...}}`. httpx errors, HTTP
errors, undecodable answers and diagnostic codes are translated into gatewayd's error tree here,
naming the master. Per-data-point codes of `getdatamulti` are returned, not raised: a port with
no device is data, not a failed poll.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from ..errors import CommError, DeviceException, ProtocolError
from ..model import Quality

CODE_TEXT = {
    400: "bad request", 401: "unauthorized", 403: "forbidden", 500: "internal error",
    503: "service unavailable (no device, or port not in IO-Link mode)",
    530: "process data invalid", 531: "IO-Link error", 532: "locked by the fieldbus PLC",
}


# An answer for every port of an 8-port master is a few KB; a master (or anything answering in
# its place) sending more is refused after this many bytes instead of being read into memory.
MAX_BODY_BYTES = 1 << 20


class IotCoreClient:
    """One master. Not thread-safe by itself: the supervisor polls one bus from one thread."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.label = f"IO-Link master {self.url}"
        self._cid = itertools.count(1)
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s))

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
        try:
            status, raw = self._post_capped(body, adr)
        except httpx.TimeoutException:
            raise CommError(f"{self.label}: {adr}: no answer in time",
                            Quality.BAD_TIMEOUT) from None
        except httpx.HTTPError as e:
            raise CommError(f"{self.label}: {adr}: {type(e).__name__}: {e}") from None
        if status != 200:
            raise ProtocolError(f"{self.label}: {adr}: HTTP {status}")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ProtocolError(f"{self.label}: {adr}: answer is not JSON") from None
        if not isinstance(answer, dict) or answer.get("cid") != body["cid"]:
            raise ProtocolError(f"{self.label}: {adr}: answer does not match the request")
        return answer

    def _post_capped(self, body: dict[str, Any], adr: str) -> tuple[int, bytes]:
        """Status and body, read as it arrives and refused past MAX_BODY_BYTES."""
        with self._http.stream("POST", self.url + "/", json=body) as resp:
            got = bytearray()
            for chunk in resp.iter_bytes():
                got += chunk
                if len(got) > MAX_BODY_BYTES:
                    raise ProtocolError(f"{self.label}: {adr}: answer larger than "
                                        f"{MAX_BODY_BYTES} bytes")
            return resp.status_code, bytes(got)

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
        self._http.close()
