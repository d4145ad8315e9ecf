"""The iolink config: sample, README, and what the models refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gatewayd import config
from gatewayd.errors import ConfigError

FOLDER = Path(config.__file__).parent / "sources" / "iolink"
PORTS = [{"port": 1, "iodd": "/x.xml"}]
A = {"alias": 1, "name": "a"}


def _device(**kw: Any) -> dict[str, Any]:
    return {"kind": "iolink", "name": "m", "ports": PORTS, **kw}


def _problems(device: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        config.parse({"gateway": {"id": "gw"}, "devices": [device]})
    return str(err.value)


def test_sample_validates_and_readme_embeds_it() -> None:
    """sample.toml is a valid config and README.md shows it verbatim."""
    cfg = config.load(FOLDER / "sample.toml")
    assert {d.kind for d in cfg.devices} == {"iolink"}
    sample = (FOLDER / "sample.toml").read_text()
    assert f"```toml\n{sample}```" in (FOLDER / "README.md").read_text()


@pytest.mark.parametrize(
    ("device", "message"),
    [
        (_device(points=[{**A, "port": 1}]), "either item"),
        (_device(points=[{**A, "port": 1, "item": "T", "index": 3}]), "not both"),
        (_device(points=[{**A, "port": 2, "item": "T"}]), "a port listed in ports"),
        (_device(access="modbus", points=[{**A, "port": 1, "index": 16}]),
         "need access = 'http'"),
        (_device(ports=[*PORTS, *PORTS]), "each IO-Link port listed once"),
        (_device(ports=[{"port": 17, "iodd": "/x.xml"}]), "less than or equal to 16"),
        (_device(url="192.168.0.1"), "url"),
        (_device(ports=[{"port": 1, "iod": "/x.xml"}]), "did you mean 'iodd'"),
    ],
)
def test_refused(device: dict[str, Any], message: str) -> None:
    """Each inconsistent device entry is refused with a message saying what was expected."""
    assert message in _problems(device)


def test_bus_key() -> None:
    """An HTTP master is its URL (with its port, as the bus layer keys it); a Modbus master
    shares the bus of its TCP endpoint."""
    http = config.parse({"gateway": {"id": "g"}, "devices": [_device(url="http://10.0.0.2")]})
    device = _device(access="modbus", host="10.0.0.3")
    modbus = config.parse({"gateway": {"id": "g"}, "devices": [device]})
    assert http.devices[0].bus_key == "http://10.0.0.2:80"
    assert modbus.devices[0].bus_key == "tcp:10.0.0.3:502"
