"""An Allen-Bradley Logix controller on loopback: cpppo's EtherNet/IP Logix simulator, in its
own process, holding controller tags and program tags.

    python -m gatewayd.testing.logix_server --port 44818 [--live]

The tags (TAGS) start at known values that tests read back and change over EtherNet/IP itself
(a pylogix client's writes). `--live` runs the controller's "program": `Counter` counts up and
`Program:Line.Speed` follows a slow ramp, updated every 100 ms inside the simulator.
`--extra N` adds REAL tags Bench0..BenchN-1 for bench/plc.py.
"""

from __future__ import annotations

import argparse
import logging
import math
import threading
import time
from typing import Any

from .broker import wait_port

# name, CIP type (cpppo's spelling), start value: controller tags, then program tags
TAGS: list[tuple[str, str, Any]] = [
    ("Temperature", "REAL", 21.5),
    ("Counter", "DINT", 1000),
    ("Pressure", "INT", -42),
    ("Running", "BOOL", 1),
    ("Levels", "REAL[4]", [1.0, 2.0, 3.0, 4.0]),
    ("Program:Line.Speed", "REAL", 12.5),
    ("Program:Line.Parts", "DINT", 7),
]


def _attribute_class() -> tuple[type, dict[str, Any]]:
    """cpppo's tag Attribute, remembering each instance by name so the program can set values."""
    from cpppo.server.enip import device

    made: dict[str, Any] = {}

    class Tag(device.Attribute):  # type: ignore[misc]
        def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(name, *args, **kwargs)
            made[name] = self

    return Tag, made


def _preset(made: dict[str, Any]) -> None:
    for name, _, value in TAGS:
        values = value if isinstance(value, list) else [value]
        made[name][0 : len(values)] = values


def _program(made: dict[str, Any], stop: threading.Event) -> None:
    """What the controller's logic would do: count and ramp."""
    counter, speed = made["Counter"], made["Program:Line.Speed"]
    t0 = time.monotonic()
    while not stop.wait(0.1):
        counter[0] = counter[0] + 1
        speed[0] = 12.5 + 2.5 * math.sin(time.monotonic() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--extra", type=int, default=0, help="Bench0..BenchN-1, REAL, for benchmarks")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    from cpppo.server.enip.main import main as enip_main

    stop = threading.Event()
    tag_class, made = _attribute_class()

    def announce() -> None:
        wait_port(args.port, 20)
        _preset(made)
        if args.live:
            threading.Thread(target=_program, args=(made, stop), daemon=True).start()
        print("ready", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    tags = [f"{name}={kind}" for name, kind, _ in TAGS] + [f"Bench{i}=REAL" for i in range(args.extra)]
    try:
        enip_main(argv=["--address", f"127.0.0.1:{args.port}", "--no-udp", "--no-config", *tags],
                  attribute_class=tag_class)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
