"""`check` refuses what `run` would refuse, names the device and the line, and never raises
anything but a ConfigError, whatever bytes it is given."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatewayd import config
from gatewayd.errors import ConfigError
from gatewayd.preflight import file_problem, port_problem, verify
from gatewayd.toml_positions import key_positions

HEAD = '[gateway]\nid = "press-7"\n'
METER = """
[[devices]]
kind = "modbus"
name = "press-meter"
transport = "tcp"
points = [
  {{ alias = 1, name = "a", register = 0 }},
  {{ alias = 2, name = "b", register = {register} }},
]
"""


def gatewayd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatewayd.cli", *args], capture_output=True,
                          text=True, timeout=60)


def problems_of(tmp_path: Path, text: str | bytes) -> list[str]:
    f = tmp_path / "g.toml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    cfg, problems = verify(f)
    assert cfg is None, "expected the file to be refused"
    return problems


def test_a_quoted_number_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    """`register = "30071"` is text, not a number: refused, with the device's name, the line and
    the column of the value's key, and a hint to drop the quotes."""
    (p,) = problems_of(tmp_path, HEAD + METER.format(register='"30071"'))
    assert "line 10, column 28: device press-meter: devices[0].points[1].register: " in p
    assert "found '30071', expected a valid integer" in p and "without quotes" in p


def test_other_loose_types_are_refused(tmp_path: Path) -> None:
    """No silent coercion: 1.5 is no integer, "true" no boolean, inf and nan no numbers."""
    dev = ('[[devices]]\nkind = "modbus"\nname = "m"\ntransport = "tcp"\nenabled = "true"\n'
           'period_ms = 1.5\npoints = [ { alias = 1, name = "a", register = 0, scale = inf },'
           ' { alias = 2, name = "b", register = 1, offset = nan } ]\n')
    text = "\n".join(problems_of(tmp_path, HEAD + dev))
    assert "devices[0].enabled: found 'true', expected a valid boolean" in text
    assert "devices[0].period_ms: found 1.5, expected a valid integer" in text
    assert "devices[0].points[0].scale: found inf, expected a finite number" in text
    assert "devices[0].points[1].offset: found nan, expected a finite number" in text


def test_a_one_based_reference_gets_a_hint(tmp_path: Path) -> None:
    """`register = 30071` is a legal address, so `check` passes, with a warning that reads it as
    the manual's input register 30071: table "input", register 70."""
    f = tmp_path / "g.toml"
    f.write_text(HEAD + METER.format(register=30071))
    r = gatewayd("check", str(f))
    assert r.returncode == 0, r.stderr
    assert ('warning: devices[0].points[1].register: 30071 looks like a 1-based manual reference;'
            ' `register` is the 0-based address: table = "input", register = 70 '
            "(device press-meter, line 10, column 28)") in r.stdout


def test_serial_port_without_transport_is_not_tcp(tmp_path: Path) -> None:
    """A serial port and no transport used to poll 127.0.0.1:502 in silence."""
    dev = ('[[devices]]\nkind = "modbus"\nname = "sdm"\nserial_port = "/dev/ttyAMA0"\n'
           'points = [ { alias = 1, name = "a", register = 0 } ]\n')
    (p,) = problems_of(tmp_path, HEAD + dev)
    assert "line 3, column 1: device sdm: devices[0]: " in p
    assert 'transport = "rtu" with serial_port = \'/dev/ttyAMA0\'' in p


def test_a_gpio_pin_used_twice_is_an_error(tmp_path: Path) -> None:
    """Pin 17 as an input of two devices (one spelling it GPIO17) and as a tacho: every later
    claim is refused, naming the first."""
    gpio = ('[[devices]]\nkind = "gpio"\nname = "{name}"\n[[devices.inputs]]\nname = "x"\n'
            "pin = {pin}\n")
    text = HEAD + gpio.format(name="cycle", pin=17) + gpio.format(name="door", pin='"GPIO17"')
    (p,) = problems_of(tmp_path, text)
    assert ("line 14, column 1: device door: devices[1].inputs[0].pin: pin GPIO17 is already "
            "used by device cycle inputs[0].pin") in p


def test_broker_tls_and_credentials(tmp_path: Path) -> None:
    """mqtt:// with a CA or client certificate is plain text: refused. A password in the URL is
    refused without being repeated."""
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    text = HEAD + f'[broker]\nurl = "mqtt://broker:1883"\nca_file = "{ca}"\n'
    (p,) = problems_of(tmp_path, text)
    assert "line 3, column 1: broker: expected mqtts:// in url" in p
    text = HEAD + '[broker]\nurl = "mqtts://press:s3cret@broker:8883"\n'
    (p,) = problems_of(tmp_path, text)
    assert "broker.url:" in p and "no user or password in the url" in p and "s3cret" not in p
    assert config.redact_url("mqtts://u:pw@h:8883/x") == "mqtts://***@h:8883/x"


def test_files_the_daemon_must_read(tmp_path: Path) -> None:
    """A missing password file, CA file or client key is a `check` error, each at its key."""
    text = HEAD + (f'[broker]\nurl = "mqtts://b:8883"\nusername = "u"\n'
                   f'password_file = "{tmp_path}/pw"\nca_file = "{tmp_path}/ca.pem"\n'
                   f'cert_file = "{tmp_path}/c.pem"\nkey_file = "{tmp_path}"\n')
    got = "\n".join(problems_of(tmp_path, text))
    assert f"line 6, column 1: broker.password_file: {tmp_path}/pw does not exist" in got
    assert f"line 7, column 1: broker.ca_file: {tmp_path}/ca.pem does not exist" in got
    assert f"broker.key_file: {tmp_path} is not a regular file" in got


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a file another user cannot read")
def test_a_root_only_file_is_unreadable_for_the_service_user(tmp_path: Path) -> None:
    """Root reads a 0600 root-owned file; the service user cannot, and `check` says so."""
    f = tmp_path / "pw"
    f.write_text("secret")
    f.chmod(0o600)
    tmp_path.chmod(0o755)
    assert "not readable by the service user nobody (mode 0600)" in str(file_problem(f, "nobody"))
    f.chmod(0o644)
    assert file_problem(f, "nobody") is None


def test_ports(tmp_path: Path) -> None:
    """A port that does not exist, a file that is no serial device; a real pty is fine."""
    assert "/dev/ttyUSB9 does not exist: is the adapter plugged in?" in str(port_problem("/dev/ttyUSB9"))
    assert "is not a serial device" in str(port_problem(str(tmp_path)))
    master, slave = pty.openpty()
    try:
        assert port_problem(os.ttyname(slave)) is None
        dev = ('[[devices]]\nkind = "serial"\nname = "scale"\nport = "{port}"\nmode = "free_running"\n'
               'pattern = "(?P<w>.*)"\npoints = [ {{ alias = 1, name = "w", field = "w" }} ]\n')
        f = tmp_path / "g.toml"
        f.write_text(HEAD + dev.format(port=os.ttyname(slave)))
        assert verify(f)[1] == []
        f.write_text(HEAD + dev.format(port="/dev/ttyUSB9"))
        (p,) = verify(f)[1]
        assert "line 6, column 1: device scale: devices[0].port: /dev/ttyUSB9 does not exist" in p
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("name, content, says", [
    ("deep", b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested"),
    ("latin1", HEAD.encode() + b'site = "D\xfcsseldorf"\n', "line 3: not UTF-8 text (byte 0xfc)"),
    ("nul", b"\x00" * 100, "not valid TOML"),
])
def test_strange_files_are_refused_in_one_line(tmp_path: Path, name: str, content: bytes,
                                               says: str) -> None:
    """A 5,000-deep array, Latin-1 bytes, NULs: a clear refusal, never a traceback."""
    f = tmp_path / name
    f.write_bytes(content)
    r = gatewayd("check", str(f))
    assert r.returncode == 1
    assert says in r.stderr and "Traceback" not in r.stderr + r.stdout


def test_check_dev_zero_ends() -> None:
    """`check /dev/zero` reads a bounded amount and says it is no config file."""
    r = gatewayd("check", "/dev/zero")
    assert r.returncode == 1 and "larger than 4 MiB, not a config file" in r.stderr
    assert "Traceback" not in r.stderr


def test_run_refuses_in_one_line_with_exit_78(tmp_path: Path) -> None:
    """`run` with a missing password file: exit 78 (EX_CONFIG), one log line naming the key."""
    f = tmp_path / "g.toml"
    f.write_text(HEAD + f'[broker]\nusername = "u"\npassword_file = "{tmp_path}/pw"\n'
                 f'[store]\npath = "{tmp_path}/q.db"\n')
    r = gatewayd("run", "--config", str(f))
    assert r.returncode == 78, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"config refused: {f}: line 5, column 1: broker.password_file: {tmp_path}/pw does not exist" \
        in lines[0]
    assert "gatewayd check" in lines[0]


def test_the_unit_does_not_restart_on_a_config_error() -> None:
    """systemd would otherwise start a refused config again every few seconds."""
    unit = (Path(__file__).parents[1] / "systemd/gatewayd.service").read_text()
    assert "RestartPreventExitStatus=78" in unit.split()


def test_positions_of_tables_arrays_and_inline_tables() -> None:
    """The scanner knows headers, arrays of tables, nested inline tables and dotted keys."""
    text = ('# c\n[gateway]\nid = "g" # x\n\n[[devices]]\nname = "a"\n[[devices]]\n'
            'points = [\n  { alias = 1, x.y = "]" },\n  [1, [2]],\n]\n'
            '[[devices.inputs]]\npin = 3\n')
    pos = key_positions(text)
    assert pos[("gateway", "id")] == (3, 1)
    assert pos[("devices", 1)] == (7, 1)
    assert pos[("devices", 1, "points", 0, "alias")] == (9, 5)
    assert pos[("devices", 1, "points", 0, "x", "y")] == (9, 18)
    assert pos[("devices", 1, "points", 1, 1)] == (10, 7)
    assert pos[("devices", 1, "inputs", 0, "pin")] == (13, 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300),
                 st.text(alphabet='[]{}="\'.,#\n ab1_-\\', max_size=200).map(str.encode),
                 st.sampled_from([HEAD + METER.format(register=0)]).map(str.encode)
                 .flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n]))))
def test_no_input_gets_past_a_config_error(tmp_path: Path, content: bytes) -> None:
    """Whatever the bytes, loading ends in a config or a ConfigError, and verify in a list."""
    f = tmp_path / "fuzz.toml"
    f.write_bytes(content)
    with contextlib.suppress(ConfigError):
        config.load(f)
    verify(f)


# -- every kind's table against values of every wrong shape ---------------------------------------

SAMPLES = sorted((Path(config.__file__).parent / "sources").glob("*/sample.toml"))
LEAVES = st.one_of(st.integers(-(1 << 70), 1 << 70), st.floats(), st.booleans(),
                   st.text(max_size=12), st.just([]), st.just({}),
                   st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(
                       st.sampled_from(["kind", "name", "points", "bus", "x"]),
                       st.integers(-3, 3), max_size=3))


def _leaf_paths(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaf_paths(v, (*path, k))] or [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, (*path, i))] or [path]
    return [path]


def _with(node: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _with(node[head], rest, value)}
    assert isinstance(node, list) and isinstance(head, int)
    return [_with(v, rest, value) if i == head else v for i, v in enumerate(node)]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_any_value_anywhere_in_a_sample_is_a_problem_or_a_config(sample: Path,
                                                                  data: st.DataObject) -> None:
    """One value of a shipped sample replaced by a value of any shape (a table where a number
    goes, inf, a huge integer, an empty array): the loader answers with a config or with
    problems that each name a key path, never with an exception."""
    import tomllib

    doc = tomllib.loads(sample.read_text())
    path = data.draw(st.sampled_from(_leaf_paths(doc)))
    mutated = _with(doc, path, data.draw(LEAVES))
    assert isinstance(mutated, dict)
    cfg, problems = config.validate(mutated)
    assert (cfg is None) == bool(problems)
    assert all(p.message for p in problems)
