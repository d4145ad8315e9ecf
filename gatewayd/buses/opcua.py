"""The only code that talks to asyncua: one OPC UA session with one server, on its own thread.

asyncua is asyncio. The link runs an event loop on a thread of its own and the runner's thread
calls into it with a deadline (`_call`), so a server that hangs costs its device a timeout and
never stalls another bus. Subscriptions deliver on the loop thread into a bounded buffer that
the device drains each poll.

asyncua's own reconnect is off: a lost connection is reported (`lost`), the device raises
CommError, and the runner's failure policy (backoff, device_down/up) applies as for every kind.
The next open() makes a new session and re-creates the subscription.

Library errors become gatewayd's here, by status code (never by message text).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from ..errors import CommError, DeviceError, DeviceException
from ..model import Quality

# asyncua logs every connect and publish at INFO, and a lost server as tracebacks at ERROR from
# several tasks; the device reports the loss once, with the runner's down/up events.
logging.getLogger("asyncua").setLevel(logging.CRITICAL)

T = TypeVar("T")
BUFFER = 100_000  # subscription samples held between two polls; older ones go first

# Status codes that mean the login or the security settings were refused.
LOGIN_REFUSED = {0x80200000: "identity token invalid", 0x80210000: "identity token rejected",
                 0x801F0000: "user access denied"}
SECURITY_REFUSED = {0x80130000: "security checks failed", 0x80550000: "security policy rejected",
                    0x80120000: "certificate invalid", 0x801A0000: "certificate untrusted",
                    0x80140000: "certificate time invalid", 0x80170000: "certificate URI invalid",
                    0x80540000: "security mode rejected"}
TRUST_HINT = ("the server must trust this gateway's certificate: copy certificate_file into the "
              "server's trusted-certificates folder (in many servers: reject list > trust)")


class Sample(NamedTuple):
    point: int  # the point's index
    value: Any
    status: int
    ts_ms: int | None  # the server's source timestamp, if any


@dataclass(frozen=True)
class Security:
    policy: str  # "Basic256Sha256"
    mode: str  # "Sign" or "SignAndEncrypt"
    certificate: Path
    private_key: Path
    server_certificate: Path | None = None


@dataclass(frozen=True)
class Monitor:
    node_id: str
    sampling_interval_ms: float
    deadband: float = 0.0
    deadband_percent: bool = False


class UaLink:
    def __init__(self, endpoint: str, timeout_s: float, security: Security | None = None,
                 username: str | None = None, password: str | None = None,
                 application_uri: str = "urn:gatewayd:client") -> None:
        self.endpoint, self.timeout_s, self.security = endpoint, timeout_s, security
        self.username, self.password, self.application_uri = username, password, application_uri
        self.label = f"OPC UA server {endpoint}"
        self.lock = threading.Lock()
        self.samples: deque[Sample] = deque(maxlen=BUFFER)
        self.dropped = 0
        self.lost: str | None = None
        self.item_status: dict[int, int] = {}  # monitored items the server refused
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._nodes: list[Any] = []

    # -- the loop thread ------------------------------------------------------------------

    def _start_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, name=f"opcua {self.endpoint}",
                                            daemon=True)
            self._thread.start()
            self._loop = loop
        return self._loop

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run `coro` on the loop thread; CommError (bad_timeout) past the deadline."""
        loop = self._start_loop()
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout_s or self.timeout_s * 2)
        except TimeoutError:
            future.cancel()
            raise CommError(f"{self.label}: no answer within {timeout_s or self.timeout_s * 2:g} s",
                            Quality.BAD_TIMEOUT) from None

    # -- session --------------------------------------------------------------------------

    def connect(self, node_ids: list[str], monitors: list[Monitor] | None = None,
                publishing_interval_ms: float = 1000, queue_size: int = 10) -> None:
        """A new session (and subscription, with `monitors`); DeviceError saying what was refused."""
        with self.lock:
            self._disconnect()
            self.lost = None
            self.item_status = {}
            try:
                self._call(self._connect(node_ids, monitors, publishing_interval_ms, queue_size),
                           self.timeout_s * 4 + 1)
            except DeviceError:
                self._disconnect()
                raise
            except Exception as e:
                self._disconnect()
                raise translate(e, self.label) from None

    async def _connect(self, node_ids: list[str], monitors: list[Monitor] | None,
                       publishing_interval_ms: float, queue_size: int) -> None:
        from asyncua.client.client import Client

        client = Client(self.endpoint, timeout=self.timeout_s, watchdog_intervall=max(0.5, self.timeout_s))
        client.application_uri = self.application_uri
        client.connection_lost_callback = self._on_lost
        if self.security is not None:
            await self._secure(client)
        if self.username is not None:
            client.set_user(self.username)
            client.set_password(self.password or "")
        self._client = client
        await asyncio.wait_for(client.connect(auto_reconnect=False), self.timeout_s * 3)
        self._nodes = [client.get_node(n) for n in node_ids]
        if monitors:
            await self._subscribe(client, monitors, publishing_interval_ms, queue_size)

    async def _secure(self, client: Any) -> None:
        from asyncua import ua
        from asyncua.crypto import security_policies

        sec = self.security
        assert sec is not None
        mode = (ua.MessageSecurityMode.Sign if sec.mode == "Sign"
                else ua.MessageSecurityMode.SignAndEncrypt)
        await client.set_security(security_policies.SecurityPolicyBasic256Sha256, str(sec.certificate),
                                  str(sec.private_key),
                                  server_certificate=str(sec.server_certificate)
                                  if sec.server_certificate else None, mode=mode)

    async def _subscribe(self, client: Any, monitors: list[Monitor], publishing_ms: float,
                         queue_size: int) -> None:
        from asyncua import ua
        from asyncua.ua.attribute_ids import AttributeIds

        sub = await client.create_subscription(publishing_ms, _Handler(self))
        requests = []
        for i, m in enumerate(monitors):
            params = ua.MonitoringParameters()
            params.ClientHandle = i + 1  # the point's index + 1: notifications name their point
            params.SamplingInterval = m.sampling_interval_ms
            params.QueueSize = queue_size
            params.DiscardOldest = True
            if m.deadband > 0:
                flt = ua.DataChangeFilter()
                flt.Trigger = ua.DataChangeTrigger.StatusValue
                flt.DeadbandType = ua.DeadbandType.Percent if m.deadband_percent else ua.DeadbandType.Absolute
                flt.DeadbandValue = m.deadband
                params.Filter = flt
            req = ua.MonitoredItemCreateRequest()
            req.ItemToMonitor = ua.ReadValueId(NodeId=ua.NodeId.from_string(m.node_id),
                                               AttributeId=AttributeIds.Value)
            req.MonitoringMode = ua.MonitoringMode.Reporting
            req.RequestedParameters = params
            requests.append(req)
        for i, result in enumerate(await sub.create_monitored_items(requests)):
            if isinstance(result, ua.StatusCode):
                self.item_status[i] = result.value

    async def _on_lost(self, exc: Exception) -> None:
        self.lost = f"connection lost ({type(exc).__name__})"

    # -- reading --------------------------------------------------------------------------

    def read(self, node_ids: list[str] | None = None) -> list[Sample]:
        """One Read service call for every node of the device (poll mode), or for these."""
        with self.lock:
            self._check()
            nodes = self._nodes if node_ids is None else [self._client.get_node(n) for n in node_ids]
            try:
                values = self._call(self._client.read_attributes(nodes))
            except DeviceError:
                raise
            except Exception as e:
                raise translate(e, self.label) from None
            return [Sample(i, dv.Value.Value if dv.Value is not None else None,
                           dv.StatusCode.value if dv.StatusCode is not None else 0, None)
                    for i, dv in enumerate(values)]

    def take(self) -> list[Sample]:
        """The changes the subscription delivered since the last take (subscription mode)."""
        with self.lock:
            self._check()
            out = list(self.samples)
            self.samples.clear()
            return out

    def _check(self) -> None:
        if self._client is None:
            raise CommError(f"{self.label}: not connected")
        if self.lost is not None:
            raise CommError(f"{self.label}: {self.lost}")

    def browse(self, node_id: str | None, depth: int) -> list[tuple[int, str, str, str]]:
        """(depth, node id, browse name, node class) under a node (Objects by default)."""
        with self.lock:
            self._check()
            return self._call(self._browse(node_id, depth), self.timeout_s * 10)

    async def _browse(self, node_id: str | None, depth: int) -> list[tuple[int, str, str, str]]:
        start = self._client.get_node(node_id) if node_id else self._client.nodes.objects
        out: list[tuple[int, str, str, str]] = []

        async def walk(node: Any, level: int) -> None:
            for child in await node.get_children():
                name = (await child.read_browse_name()).to_string()
                cls = (await child.read_node_class()).name
                out.append((level, child.nodeid.to_string(), name, cls))
                if level + 1 < depth and len(out) < 2000:
                    await walk(child, level + 1)

        await walk(start, 0)
        return out

    # -- closing --------------------------------------------------------------------------

    def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is not None:
            try:
                self._call(client.disconnect(), self.timeout_s + 1)
            except Exception:  # a dead server cannot be told goodbye; the socket goes anyway
                self._call(_close_transport(client), 2)

    def close(self) -> None:
        with self.lock:
            self._disconnect()
            loop, self._loop = self._loop, None
            if loop is not None:
                self._call_on(loop, _cancel_all())
                loop.call_soon_threadsafe(loop.stop)
                assert self._thread is not None
                self._thread.join(5)
                loop.close()
                self._thread = None

    @staticmethod
    def _call_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, loop).result(5)


class _Handler:
    """Subscription callbacks, on the loop thread: into the buffer, nothing else."""

    def __init__(self, link: UaLink) -> None:
        self.link = link

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        item = data.monitored_item
        dv = item.Value
        samples = self.link.samples
        if len(samples) == samples.maxlen:
            self.link.dropped += 1
        samples.append(Sample(item.ClientHandle - 1, dv.Value.Value if dv.Value is not None else None,
                              dv.StatusCode.value if dv.StatusCode is not None else 0,
                              to_ms(dv.SourceTimestamp or dv.ServerTimestamp)))

    def status_change_notification(self, status: Any) -> None:
        code = getattr(getattr(status, "Status", None), "value", 0)
        if code & 0x80000000:  # BadShutdown, BadTimeout...: the subscription is gone
            self.link.lost = f"subscription ended (status 0x{code:08X})"


def to_ms(stamp: dt.datetime | None) -> int | None:
    """A DataValue timestamp (UTC) in ms since the epoch; None when the server sent none."""
    if stamp is None or stamp.year < 1971:  # the spec's "no time" is 1601-01-01
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return int(stamp.timestamp() * 1000)


async def _close_transport(client: Any) -> None:
    client.disconnect_socket()


async def _cancel_all() -> None:
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def translate(e: BaseException, label: str) -> DeviceError:
    """An asyncua (or socket) error as gatewayd's, by type and status code."""
    from asyncua.ua.uaerrors import UaError, UaStatusCodeError

    if isinstance(e, UaStatusCodeError):
        code = e.code & 0xFFFF0000
        if code in LOGIN_REFUSED:
            return DeviceException(f"{label}: login refused ({LOGIN_REFUSED[code]}): check username and "
                                   "password_file", Quality.BAD_CONFIG)
        if code in SECURITY_REFUSED:
            return DeviceException(f"{label}: {SECURITY_REFUSED[code]}: {TRUST_HINT}", Quality.BAD_CONFIG)
        return DeviceException(f"{label}: refused with status 0x{e.code:08X} ({type(e).__name__})")
    if isinstance(e, TimeoutError | asyncio.TimeoutError):
        return CommError(f"{label}: no answer in time", Quality.BAD_TIMEOUT)
    if isinstance(e, OSError | ConnectionError | asyncio.CancelledError):
        return CommError(f"{label}: {type(e).__name__}: {e}")
    if isinstance(e, UaError):
        return CommError(f"{label}: {type(e).__name__}: {e}")
    return CommError(f"{label}: {type(e).__name__}: {e}")
