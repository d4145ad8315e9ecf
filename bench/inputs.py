"""Per-reading overhead of the field-input sources, through their simulators.

    .venv/bin/python bench/inputs.py

i2c:    chip reads a second through the I2C source over gatewayd.testing.i2c.SimBus (the figure
        of bench/inputs_i2c.py's `measure()` when that file exists)
serial: polled lines a second through the serial source, over a pty to a simulated sensor
        (write `?T\\r`, read `T=23.45*47\\r`, check the XOR, match the pattern)
gpio:   pin edges a second through the gpio source on gpiozero's MockFactory (debounce,
        counter, rate window, OEE bookkeeping)
Last line: `i2c_reads_per_s=… serial_lines_per_s=… gpio_edges_per_s=…`.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatewayd.sources.base import SourceContext  # noqa: E402
from gatewayd.testing.serial_instruments import PollSensor, SerialSim  # noqa: E402

BUDGET_S = 2.0


def rate(step: Callable[[], object], per_step: int = 1, max_steps: int = 200_000) -> float:
    """Steps a second, run for about BUDGET_S (bounded by max_steps)."""
    step()  # warm up
    steps, start = 0, time.perf_counter()
    while steps < max_steps and time.perf_counter() - start < BUDGET_S:
        step()
        steps += 1
    return steps * per_step / (time.perf_counter() - start)


def i2c_reads_per_s() -> float:
    helper = ROOT / "bench" / "inputs_i2c.py"
    if helper.exists():
        spec = importlib.util.spec_from_file_location("inputs_i2c", helper)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return float(module.measure())
    return _i2c_fallback()


def _i2c_fallback() -> float:
    """ADS1115 single-shot reads through the I2C source; the sleeps advance a fake clock."""
    from gatewayd.config import load
    from gatewayd.sources.i2c.source import I2CSensor
    from gatewayd.testing.ads1115 import ADS1115
    from gatewayd.testing.i2c import SimBus

    cfg = next(d for d in load(ROOT / "gatewayd/sources/i2c/sample.toml").devices
               if getattr(d, "chip", "") == "ads1115")
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    sensor = I2CSensor(cfg, SimBus({cfg.address: ADS1115(lambda: now[0])}), sleep)
    sensor.open()
    return rate(lambda: sensor.read(0), per_step=len(cfg.points))


def serial_lines_per_s() -> float:
    from gatewayd.sources.serial.config import Config
    from gatewayd.sources.serial.source import SerialDevice

    with tempfile.TemporaryDirectory() as tmp, SerialSim(Path(tmp)) as sim:
        port = sim.add("ttyBENCH", PollSensor({"T": 23.45}))
        cfg = Config.load({
            "kind": "serial", "name": "bench", "port": port.path, "command": "?T\r",
            "terminator": "\r", "pattern": r"^T=(?P<t>[-+]?\d+\.\d+)$", "checksum": "xor8",
            "points": [{"alias": 1, "name": "t", "field": "t"}],
        })
        device = SerialDevice(cfg)
        device.open()
        try:
            return rate(lambda: device.read(0), max_steps=50_000)
        finally:
            device.close()


def gpio_edges_per_s() -> float:
    from gpiozero.pins.mock import MockFactory

    from gatewayd.sources.gpio.config import Config
    from gatewayd.sources.gpio.source import GpioDevice

    cfg = Config.load({
        "kind": "gpio", "name": "bench", "period_ms": 60_000,
        "inputs": [{"name": "run", "pin": 17}, {"name": "parts", "pin": 22, "debounce_ms": 0}],
        "oee": {"running": "run", "parts": "parts", "ideal_rate_per_min": 60},
        "points": [
            {"alias": 1, "name": "parts", "role": "counter", "input": "parts"},
            {"alias": 2, "name": "rate", "role": "rate", "input": "parts", "window_ms": 1000},
            {"alias": 3, "name": "oee", "role": "oee"},
        ],
    })
    factory = MockFactory()
    sink: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = SourceContext(sink.append, sink.append, Path(tmp),
                            lambda: time.time_ns() // 1_000_000, {"gpio_pin_factory": factory})
        device = GpioDevice(cfg)
        device.start(ctx)
        pin = factory.pin(22)

        def pulse() -> None:
            pin.drive_high()
            pin.drive_low()

        try:
            return rate(pulse, per_step=2)
        finally:
            device.stop()
            factory.close()


def main() -> None:
    i2c = i2c_reads_per_s()
    print(f"i2c: {i2c:,.0f} reads/s through the I2C source and SimBus")
    serial = serial_lines_per_s()
    print(f"serial: {serial:,.0f} polled lines/s over a pty (request, reply, checksum, regex)")
    gpio = gpio_edges_per_s()
    print(f"gpio: {gpio:,.0f} edges/s on the mock pin factory (debounce, counter, rate, OEE)")
    print(f"i2c_reads_per_s={i2c:.0f} serial_lines_per_s={serial:.0f} gpio_edges_per_s={gpio:.0f}")


if __name__ == "__main__":
    main()
