"""Footprint (issue 12 item 8): the daemon imports only what its config uses. A Modbus-only
gateway, started as `gatewayd run` starts it, loads no numpy, no HTTP client, no cryptography,
no serial or GPIO library and no test equipment; and none of what the daemon has no use for
(pydantic, importlib.metadata, tarfile, statistics: bench/footprint.py measures what they cost)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
sys.argv = ["gatewayd", "run", "--config", sys.argv[1]]
from gatewayd import cli
from gatewayd.config import load
from gatewayd.supervisor import Supervisor
args = cli.parser(daemon_only=True).parse_args(sys.argv[1:])  # as `main` builds it for run
cfg = load(args.config)
sup = Supervisor(cfg)
sup.buses  # the registry is made; buses open lazily
from gatewayd.supervisor import build_devices, offline_context
devices, problems = build_devices(cfg, offline_context(cfg))
assert not problems, problems
heavy = ("numpy", "httpx", "httpcore", "cryptography", "gpiozero", "smbus2", "serial",
         "gatewayd.testing", "scipy", "asyncua", "snap7", "pylogix", "dns", "pydantic",
         "statistics", "tarfile", "importlib.metadata")
print(sorted(m for m, mod in sys.modules.items() if mod is not None
             and (m.split(".")[0] in heavy or m in heavy or m.startswith("gatewayd.testing"))))
"""


def test_modbus_gateway_loads_no_other_kinds_libraries(tmp_path: Path) -> None:
    """Only pymodbus (and the core) for a config with Modbus devices only."""
    cfg = tmp_path / "g.toml"
    cfg.write_text(f"""
[gateway]
id = "g"
[store]
path = "{tmp_path}/q.db"
[[devices]]
kind = "modbus"
name = "plc"
points = [ {{ alias = 1, name = "a", register = 0 }} ]
""")
    out = subprocess.run([sys.executable, "-c", PROBE, str(cfg)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
