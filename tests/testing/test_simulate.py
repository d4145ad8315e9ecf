"""Simulators are chosen once per process (`--simulate`, `GATEWAYD_SIMULATE`), never by a config,
and a daemon that was not asked for them never imports them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gatewayd.buses.backend import Hardware, select
from gatewayd.testing import demo
from gatewayd.testing.iolink_master import IODD_DIR

PROBE = """
import sys
from gatewayd import cli, daemon
from gatewayd.config import load
from gatewayd.supervisor import build_devices, offline_context
cfg = load(sys.argv[1])
devices, problems = build_devices(cfg, offline_context(cfg))
assert not problems, problems
print(sorted(m for m in sys.modules if m.startswith("gatewayd.testing")))
"""


def demo_config(tmp_path: Path) -> Path:
    text = demo.CONFIG.format(broker="mqtt://127.0.0.1:1883", state=tmp_path, modbus_port=1502,
                              scale=tmp_path / "scale", iolink_url="http://127.0.0.1:9",
                              iodd_dir=IODD_DIR)
    path = tmp_path / "demo.toml"
    path.write_text(text)
    return path


def test_daemon_builds_every_kind_without_the_simulators(tmp_path: Path) -> None:
    """The demo's config (every kind) builds in a fresh process without importing
    gatewayd.testing: the config names hardware only."""
    path = demo_config(tmp_path)
    assert "sim:" not in path.read_text()
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_backend_is_chosen_once_from_the_flag_or_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No name and no GATEWAYD_SIMULATE: the hardware. A name: that simulated world."""
    monkeypatch.delenv("GATEWAYD_SIMULATE", raising=False)
    assert isinstance(select(), Hardware)
    monkeypatch.setenv("GATEWAYD_SIMULATE", "empty")
    world = select()
    assert world.name == "empty"
    assert world.open_i2c(1).chips == {}
    world.close()
