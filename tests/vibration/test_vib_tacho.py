"""Shaft speed from a tachometer pin (gpiozero's mock pin factory): orders and defect lines are
looked for at the measured speed, and a standing shaft gives no order features."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from gatewayd import config
from gatewayd.analysis.tacho import Tacho
from gatewayd.errors import ConfigError
from gatewayd.model import Quality
from gatewayd.sources import source_module
from gatewayd.sources.base import SourceContext
from gatewayd.testing.clock import ManualClock

FS = 25_600




def test_tacho_speed_from_pulse_times() -> None:
    """Pulses 1/30 s apart at 2 pulses a revolution read 15 rev/s; old pulses fall out of the span."""
    tacho = Tacho(pulses_per_rev=2, span_s=0.5)
    for i in range(40):
        tacho.pulse(10 + i / 30)
    assert tacho.speed_hz(10 + 39 / 30) == pytest.approx(15.0)
    assert math.isnan(tacho.speed_hz(100.0))  # no pulse for a long time: the shaft stands


def build(tmp_path: Path, factory: MockFactory, clock: ManualClock):
    cfg = config.parse({"gateway": {"id": "t"}, "devices": [{
        "kind": "vibration", "name": "fan", "sensor": "block", "sample_rate_hz": FS,
        "alias_base": 1, "features": ["rms_g", "shaft_hz", "order1_g", "order2_g"],
        "tacho": {"pin": 17, "pulses_per_rev": 1}}]}).devices[0]
    ctx = SourceContext(lambda r: None, lambda e: None, tmp_path, lambda: 0,
                        {"gpio_pin_factory": factory, "monotonic": clock})
    return source_module("vibration").build(cfg, ctx)


def spin(factory: MockFactory, clock: ManualClock, hz: float, seconds: float) -> None:
    """Drive pin 17 once a revolution (active low, as an NPN proximity switch does)."""
    pin = factory.pin(17)
    for _ in range(int(hz * seconds)):
        clock.t += 1 / hz
        pin.drive_low()
        pin.drive_high()


def test_orders_follow_the_tachometer(tmp_path: Path) -> None:
    """A 0.2 g line at 37 Hz is measured as order 1 because the tachometer says 37 rev/s."""
    factory = MockFactory()
    clock = ManualClock(100.0)
    dev = build(tmp_path, factory, clock)
    try:
        dev.open()
        spin(factory, clock, 37.0, 1.0)
        t = np.arange(4096) / FS
        dev.inbox.push(0.2 * np.sin(2 * np.pi * 37.0 * t))
        readings = {r.alias: r for r in dev.read(0)}
    finally:
        dev.close()
        factory.reset()
    assert readings[2].value == pytest.approx(37.0, rel=1e-3)  # shaft_hz
    assert readings[3].value == pytest.approx(0.2, rel=0.05)  # order1_g
    assert readings[4].value < 0.01  # nothing at 74 Hz


def test_standing_shaft_has_no_orders(tmp_path: Path) -> None:
    """No pulses: overall levels are still measured, order features are bad (no speed)."""
    factory = MockFactory()
    dev = build(tmp_path, factory, ManualClock(100.0))
    try:
        dev.open()
        dev.inbox.push(np.random.default_rng(1).normal(0, 0.05, 4096))
        readings = {r.alias: r for r in dev.read(0)}
    finally:
        dev.close()
        factory.reset()
    assert readings[1].quality == Quality.GOOD
    assert readings[3].value is None and readings[3].quality == Quality.BAD_DATA_INVALID


def test_shaft_speed_given_twice_is_refused() -> None:
    """A fixed shaft_hz and a tachometer contradict each other: the config says so."""
    with pytest.raises(ConfigError, match="either shaft_hz or tacho"):
        config.parse({"gateway": {"id": "t"}, "devices": [{
            "kind": "vibration", "name": "fan", "sensor": "block", "sample_rate_hz": FS,
            "shaft_hz": 30.0, "tacho": {"pin": 17}}]})
