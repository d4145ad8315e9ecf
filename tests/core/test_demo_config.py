"""The config scripts/demo writes is valid and every device in it can be built."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gatewayd import config
from gatewayd.sims import demo
from gatewayd.supervisor import build_devices, offline_context


def test_demo_config_loads_and_builds(tmp_path: Path) -> None:
    """A newcomer's first config must not be the one that fails."""
    text = demo.CONFIG.format(broker="mqtt://127.0.0.1:1883", state=tmp_path, modbus_port=1502,
                              scale=tmp_path / "scale")
    cfg = config.parse(tomllib.loads(text))
    devices, problems = build_devices(cfg, offline_context(cfg))
    assert not problems
    kinds = {d.kind for d in cfg.devices}
    assert kinds == {"modbus", "analog", "i2c", "vibration", "serial"}
    assert len(devices) == len(cfg.devices)
