"""The opcua kind against asyncua's own server in its own process (gatewayd.testing.opcua_server),
with Basic256Sha256 certificates made in the test and a username login."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from gatewayd.errors import CommError, ConfigError, DeviceException
from gatewayd.model import Event, Quality, Reading
from gatewayd.sources.base import SourceContext
from gatewayd.sources.opcua.config import Config
from gatewayd.sources.opcua.decode import check_node_id, quality, raw_value
from gatewayd.sources.opcua.source import OpcUaDevice
from gatewayd.testing.opcua_certs import CertPair, make_pair
from gatewayd.testing.plc_process import ServerProcess

POINTS: list[dict[str, Any]] = [
    {"alias": 1, "name": "line.temp", "node_id": "ns=2;s=Line1.Temperature"},
    {"alias": 2, "name": "line.count", "node_id": "ns=2;s=Line1.Counter", "type": "int",
     "sampling_interval_ms": 50},
    {"alias": 3, "name": "line.running", "node_id": "ns=2;s=Line1.Running", "type": "bool"},
    {"alias": 4, "name": "line.recipe", "node_id": "ns=2;s=Line1.Recipe", "type": "string"},
    {"alias": 5, "name": "line.faulty", "node_id": "ns=2;s=Line1.Faulty"},
]


class Rig:
    def __init__(self, folder: Path) -> None:
        self.server = make_pair(folder, "server", "urn:gatewayd:test-plc", True)
        self.client: CertPair = make_pair(folder, "gateway", "urn:gatewayd:client", False)
        self.password = folder / "ua.pass"
        self.password.write_text("secret\n")
        self.events: list[Event] = []

    def config(self, port: int, **kw: Any) -> Config:
        return Config.load({
            "kind": "opcua", "name": "line-ua", "endpoint": f"opc.tcp://127.0.0.1:{port}/gatewayd/",
            "publishing_interval_ms": 100, "sampling_interval_ms": 100, "timeout_ms": 1000,
            "security_policy": "Basic256Sha256", "security_mode": "SignAndEncrypt",
            "certificate_file": str(self.client.certificate),
            "private_key_file": str(self.client.private_key),
            "username": "operator", "password_file": str(self.password), "points": POINTS, **kw})

    def device(self, port: int, **kw: Any) -> OpcUaDevice:
        ctx = SourceContext(lambda r: None, self.events.append, Path("."), lambda: 0)
        return OpcUaDevice(self.config(port, **kw), ctx)

    def server_args(self) -> list[str]:
        return ["--cert", str(self.server.certificate), "--key", str(self.server.private_key),
                "--secure-only", "--user", "operator:secret"]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    return Rig(tmp_path_factory.mktemp("opcua"))


@pytest.fixture(scope="module")
def server(rig: Rig) -> Iterator[ServerProcess]:
    with ServerProcess("gatewayd.testing.opcua_server", *rig.server_args()) as s:
        yield s


def poll_for(dev: OpcUaDevice, until: Any, timeout_s: float = 5.0) -> list[Reading]:
    got: list[Reading] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got += dev.read(int(time.time() * 1000))
        if until(got):
            return got
        time.sleep(0.1)
    raise AssertionError(f"not met in {timeout_s} s: {got[-8:]}")


def test_status_codes_map_to_qualities() -> None:
    """Good, uncertain and bad status codes become gatewayd's qualities, reasons kept where known."""
    from asyncua.ua.status_codes import StatusCodes as S

    cases = {S.Good: Quality.GOOD, S.GoodClamped: Quality.GOOD, S.UncertainLastUsableValue:
             Quality.UNCERTAIN_STALE, S.UncertainEngineeringUnitsExceeded: Quality.UNCERTAIN_RANGE,
             S.UncertainSensorNotAccurate: Quality.UNCERTAIN, S.BadSensorFailure: Quality.BAD_SENSOR_FAULT,
             S.BadDeviceFailure: Quality.BAD_DEVICE_EXCEPTION, S.BadNodeIdUnknown: Quality.BAD_CONFIG,
             S.BadTimeout: Quality.BAD_TIMEOUT, S.BadNotConnected: Quality.BAD_COMM,
             S.BadCommunicationError: Quality.BAD_COMM, S.BadOutOfRange: Quality.BAD_DATA_INVALID,
             S.BadUserAccessDenied: Quality.BAD_CONFIG, S.BadInternalError: Quality.BAD}
    assert {hex(code): quality(code) for code in cases} == {hex(c): q for c, q in cases.items()}
    assert quality(S.BadSensorFailure | 0x0400) == Quality.BAD_SENSOR_FAULT  # info bits ignored


def test_node_ids_and_values() -> None:
    """Node ids in their standard forms are accepted; scalars are values, the rest are not."""
    for ok in ("ns=2;s=Line1.Temp", "i=2258", "ns=3;i=1001", "nsu=urn:x:y;s=A",
               "ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a"):
        check_node_id(ok)
    for bad in ("Line1.Temp", "ns=2;x=1", "ns=two;i=1", ""):
        with pytest.raises(ValueError, match="not a node id"):
            check_node_id(bad)
    assert [raw_value(v) for v in (True, 7, 2.5, "ok", [1, 2], None)] == [1, 7, 2.5, "ok", None, None]


@pytest.mark.parametrize(("extra", "error"), [
    ({"security_mode": "None"}, "goes with security_mode"),
    ({"certificate_file": None}, "needs certificate_file"),
    ({"password_file": None}, "username and password_file"),
    ({"endpoint": "http://x"}, "opc"),
])
def test_config_refuses_half_set_security(rig: Rig, extra: dict[str, Any], error: str) -> None:
    """Policy and mode agree, a secure policy has its certificate, a login has its password."""
    with pytest.raises(ConfigError, match=error):
        rig.config(4840, **extra)


def test_one_server_is_one_line_whatever_the_path() -> None:
    """The bus key is the endpoint's host and port (4840 when unwritten) as gatewayd.buses.keys
    spells them; the path names no other line. A port that is not one is refused at load."""
    keys = {Config.load({"kind": "opcua", "name": "ua", "endpoint": url}).bus_key
            for url in ("opc.tcp://UA.Plant.:4840/a", "opc.tcp://ua.plant/b")}
    assert keys == {"tcp:ua.plant:4840"}
    with pytest.raises(ConfigError, match=r"endpoint: found 'opc.tcp://ua:http', expected a port"):
        Config.load({"kind": "opcua", "name": "ua", "endpoint": "opc.tcp://ua:http"})


def test_subscription_signed_and_encrypted_with_a_login(rig: Rig, server: ServerProcess) -> None:
    """SignAndEncrypt + username: the first publish has every node's value; a node changing every
    100 ms arrives as every change with the server's timestamps; a bad status is its quality."""
    dev = rig.device(server.port)
    dev.open()
    try:
        got = poll_for(dev, lambda g: sum(r.alias == 2 for r in g) >= 8)
    finally:
        dev.close()
    first = {r.alias: r for r in reversed(got)}
    assert first[1].value == 21.5 and first[3].value == 1 and first[4].value == "PUMP-7"
    assert first[5].value is None and first[5].quality == Quality.BAD_SENSOR_FAULT
    counts = [r for r in got if r.alias == 2]
    values = [r.value for r in counts]
    assert values == sorted(values) and len(set(values)) == len(values)  # each change once, in order
    ints = [v for v in values if isinstance(v, int)]
    assert ints == values and all(b - a <= 3 for a, b in itertools.pairwise(ints))
    stamps = [r.ts_ms for r in counts]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 500  # source time, not poll time


def test_polling_signed_only(rig: Rig, server: ServerProcess) -> None:
    """mode = poll with Sign: one Read of every node each poll, stamped with the poll's tick."""
    dev = rig.device(server.port, mode="poll", security_mode="Sign")
    dev.open()
    try:
        one = dev.read(1000)
        time.sleep(0.3)
        two = dev.read(2000)
    finally:
        dev.close()
    assert [r.alias for r in one] == [1, 2, 3, 4, 5] and {r.ts_ms for r in one} == {1000}
    assert one[0].value == 21.5 and one[3].value == "PUMP-7" and one[4].quality == Quality.BAD_SENSOR_FAULT
    assert two[1].value > one[1].value  # type: ignore[operator]


def test_server_deadband_filters_on_the_server(rig: Rig, server: ServerProcess) -> None:
    """A monitored item's DataChangeFilter is sent: the Ramp node moves 0.25 a sample, so a 0.2
    deadband passes each step and a 0.3 deadband none after the first value. (asyncua's server
    compares each sample with the one before it.)"""
    def ramp(deadband: float) -> list[Reading]:
        dev = rig.device(server.port, points=[{"alias": 9, "name": "ramp", "node_id": "ns=2;s=Line1.Ramp",
                                               "server_deadband": deadband}])
        dev.open()
        try:
            time.sleep(1.2)
            return dev.read(0)
        finally:
            dev.close()

    assert len(ramp(0.2)) >= 5
    assert len(ramp(0.3)) == 1


def test_refusals_name_the_cause(rig: Rig, server: ServerProcess) -> None:
    """A wrong password is a login refusal; a node the server does not have is bad_config."""
    wrong = rig.password.parent / "wrong.pass"
    wrong.write_text("guess\n")
    dev = rig.device(server.port, password_file=str(wrong))
    with pytest.raises(DeviceException, match="login refused") as refused:
        dev.open()
    dev.close()
    assert refused.value.quality == Quality.BAD_CONFIG
    dev = rig.device(server.port, points=[{"alias": 9, "name": "x", "node_id": "ns=2;s=Nope"}])
    dev.open()
    try:
        got = dev.read(0)
    finally:
        dev.close()
    assert [(r.alias, r.quality) for r in got] == [(9, Quality.BAD_CONFIG)]


def test_no_security_against_a_secure_only_server_is_refused(rig: Rig, server: ServerProcess) -> None:
    """Asking for policy None where the server offers only Basic256Sha256 fails at open."""
    dev = rig.device(server.port, security_policy="None", security_mode="None")
    with pytest.raises((DeviceException, CommError)):
        dev.open()
    dev.close()


def test_server_restart_recreates_the_subscription_and_reports_the_gap(rig: Rig) -> None:
    """The server process is stopped mid-test and started again: the poll raises CommError (the
    runner backs off), a new open() re-creates session and subscription, values flow again, and
    one `gap` event spans the time without data."""
    with ServerProcess("gatewayd.testing.opcua_server", *rig.server_args()) as srv:
        dev = rig.device(srv.port)
        dev.open()
        try:
            poll_for(dev, lambda g: sum(r.alias == 2 for r in g) >= 3)
            srv.stop()
            with pytest.raises(CommError):
                poll_for(dev, lambda g: False, timeout_s=10)
            dev.close()
            srv.start()
            dev.open()
            after = poll_for(dev, lambda g: sum(r.alias == 2 for r in g) >= 3)
        finally:
            dev.close()
    gaps = [e for e in rig.events if e.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].fields["device"] == "line-ua"
    assert gaps[0].fields["from_ms"] < gaps[0].fields["to_ms"] <= max(r.ts_ms for r in after)
    assert "subscription re-created" in gaps[0].fields["reason"]
    assert [r.value for r in after if r.alias == 4] == ["PUMP-7"]  # initial values again


def test_probe_browses_nodes(rig: Rig, server: ServerProcess) -> None:
    """`gatewayd probe opcua` browses from Objects and reads every variable it finds."""
    from gatewayd.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["probe", "opcua", "--endpoint", f"opc.tcp://127.0.0.1:{server.port}/gatewayd/",
                     "--security-policy", "Basic256Sha256", "--security-mode", "SignAndEncrypt",
                     "--certificate-file", str(rig.client.certificate),
                     "--private-key-file", str(rig.client.private_key),
                     "--username", "operator", "--password-file", str(rig.password), "--depth", "2"])
    text = out.getvalue()
    assert code == 0, text
    assert "ns=2;s=Line1.Temperature" in text and "= 21.5 (good)" in text
    assert "2:Recipe" in text and "'PUMP-7'" in text and "(bad_sensor_fault)" in text


def _as_toml(value: Any) -> Any:
    """A table as a TOML file would hold it: TOML has no null, an unset key is left out."""
    if isinstance(value, dict):
        return {k: _as_toml(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_as_toml(v) for v in value]
    return value


def test_check_names_missing_certificate_and_password_files(rig: Rig, tmp_path: Path) -> None:
    """`gatewayd check` (its machine checks) says which of the device's files cannot be read."""
    from gatewayd import config
    from gatewayd.preflight import machine_problems

    device = _as_toml(rig.config(4840, password_file=str(tmp_path / "nope.pass")).as_dict())
    cfg = config.parse({"gateway": {"id": "g"}, "devices": [device]})
    problems = [str(p) for p in machine_problems(cfg)]
    assert len(problems) == 1 and "password_file" in problems[0] and "does not exist" in problems[0]
