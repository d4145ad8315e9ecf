"""The vibration source end to end: config, ADXL345 over a SimBus, block path, gaps, alarms."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from gatewayd import config
from gatewayd.analysis.rawpack import unpack_window
from gatewayd.errors import ConfigError
from gatewayd.model import Event, Quality, Reading
from gatewayd.sources import source_module
from gatewayd.sources.base import PolledDevice, SourceContext
from gatewayd.testing import adxl345 as chip
from gatewayd.testing.i2c import SimBus
from gatewayd.testing.vibration import Machine

HERE = Path(__file__).resolve().parents[2] / "gatewayd" / "sources" / "vibration"


def context(tmp_path: Path, events: list[Event], **extras: object) -> SourceContext:
    return SourceContext(
        emit=lambda r: None,
        event=events.append,
        state_dir=tmp_path,
        clock_ms=lambda: 0,
        extras=dict(extras),
    )


def device_config(**keys: object) -> config.Config:
    doc = {"gateway": {"id": "t"}, "devices": [{"kind": "vibration", "name": "m1", **keys}]}
    return config.parse(doc)


def test_sample_validates_and_readme_embeds_it() -> None:
    """sample.toml passes the loader and README.md carries it verbatim."""
    cfg = config.load(HERE / "sample.toml")
    assert [p.alias for p in cfg.points()][:3] == [300, 301, 302]
    assert (HERE / "sample.toml").read_text() in (HERE / "README.md").read_text()
    assert tomllib.loads((HERE / "sample.toml").read_text())["devices"][0]["kind"] == "vibration"


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"window_len": 3000}, "expected a power of two"),
        ({"odr_hz": 3000}, "expected an ADXL345 data rate"),
        ({"period_ms": 20}, "32-entry FIFO"),
        ({"sensor": "block"}, "sample_rate_hz"),
        ({"features": ["rms_g", "bpfi_index"]}, "unknown: bpfi_index"),
        ({"bearing": {"balls": 9}}, "all of balls"),
    ],
)
def test_config_errors_say_what_is_expected(keys: dict[str, object], message: str) -> None:
    """Bad keys are refused with a message naming what was expected."""
    with pytest.raises(ConfigError, match=message):
        device_config(**keys)


def test_adxl345_channel_publishes_features_with_data_rate_timestamps(tmp_path: Path) -> None:
    """Drained every 5 ms, 1,024-sample windows give features stamped at the window end."""
    t = [50.0]
    model = chip.Adxl345(z=Machine(noise_g=0.01).signal, clock=lambda: t[0])
    bus = SimBus({0x53: model})
    cfg = device_config(window_len=1024, overlap=0.5, alias_base=10, shaft_hz=29.95)
    events: list[Event] = []
    dev = source_module("vibration").build(cfg.devices[0], context(tmp_path, events, i2c_bus=bus))
    assert isinstance(dev, PolledDevice)
    dev.open()
    readings: list[Reading] = []
    for step in range(1, 201):  # one second
        t[0] = 50.0 + step * 0.005
        readings += dev.read(1_000_000 + step * 5)
    dev.close()
    rms = [r for r in readings if r.alias == 10]
    assert len(rms) == 5  # windows end at 1024, 1536, 2048, 2560, 3072 samples
    assert [r.ts_ms - rms[0].ts_ms for r in rms] == [0, 160, 320, 480, 640]
    assert rms[0].value == pytest.approx(0.0398, rel=0.1)  # orders 0.05/0.02/0.01 g + noise
    # 0.05 g at 29.95 Hz is 1.84 mm/s: zone B for group 2 on a rigid foundation (A/B at 1.4)
    assert [(e.kind, e.fields["zone"]) for e in events] == [("vibration.zone", "B")]
    assert events[0].fields["velocity_mm_s"] == pytest.approx(1.84, rel=0.05)
    assert events[0].ts_ms == rms[2].ts_ms  # after persistence_windows = 3


def test_overrun_is_a_gap_and_the_window_restarts(tmp_path: Path) -> None:
    """A reader 50 ms late: a vibration.gap event, and no window spans the lost samples."""
    t = [0.0]
    model = chip.Adxl345(z=Machine().signal, clock=lambda: t[0])
    cfg = device_config(window_len=256, overlap=0.0, alias_base=10, shaft_hz=30.0)
    events: list[Event] = []
    ctx = context(tmp_path, events, i2c_bus=SimBus({0x53: model}))  # the test's bus
    dev = source_module("vibration").build(cfg.devices[0], ctx)
    dev.open()
    out: list[Reading] = []
    for step in range(1, 11):
        t[0] = step * 0.005
        out += dev.read(step * 5)
    t[0] += 0.05  # 160 samples due, 32 kept
    out += dev.read(105)
    assert [e.kind for e in events] == ["vibration.gap"]
    assert dev.ring.filled == 32  # the window restarted with the FIFO's newest samples
    assert len([r for r in out if r.alias == 10]) == 0  # 160 + 32 sample windows never formed


def test_block_path_raises_bearing_alarm_with_raw_window(tmp_path: Path) -> None:
    """Blocks at 25.6 kHz from an inner-race fault raise one bearing alarm naming BPFI, with
    the lines behind it. (5 s of blocks, was 2 s: since issue 13 the index is computed from
    four averaged 1 s spans of envelope.)"""
    fs = 25_600
    cfg = device_config(
        sensor="block",
        sample_rate_hz=fs,
        shaft_hz=29.95,
        alias_base=20,
        attach_raw=True,
        bearing={"bpfo": 3.5848, "bpfi": 5.4152, "bsf": 2.357, "ftf": 0.39828},
    )
    events: list[Event] = []
    ctx = context(tmp_path, events)
    dev = source_module("vibration").build(cfg.devices[0], ctx)
    x = Machine(defect="bpfi", impact_g=0.5).signal(np.arange(fs * 5) / fs)
    for i in range(0, len(x), 5120):
        ctx.extras["vibration_inboxes"]["m1"].push(x[i : i + 5120])
    readings = dev.read(2000)
    alarms = [e for e in events if e.kind == "vibration.alarm"]
    assert len(alarms) == 1
    assert alarms[0].fields["defect"] == "inner race (BPFI)"
    assert alarms[0].fields["state"] == "raised"
    evidence = alarms[0].fields["evidence"]
    assert evidence[0]["line"] == "1xBPFI" and evidence[0]["over_background"] > 3
    assert len(unpack_window(alarms[0].fields["raw"])) == 4096
    by_alias = {r.alias: r for r in readings}
    assert by_alias[20 + 11].value == 2  # bearing_defect
    (only,) = alarms[0].fields["candidates"]  # named: the one candidate, with its figures
    assert only["defect"] == "inner race (BPFI)" and only["index"] > alarms[0].fields["on"]
    last = max(r.ts_ms for r in readings)  # before the first average the index is bad data
    assert all(r.quality == Quality.GOOD for r in readings if r.ts_ms == last)


def test_block_gap_flag_restarts_the_window(tmp_path: Path) -> None:
    """A block pushed with gap=True is never stitched to the samples before it."""
    cfg = device_config(
        sensor="block", sample_rate_hz=51_200, alias_base=40, window_len=1024, shaft_hz=50.0
    )
    events: list[Event] = []
    dev = source_module("vibration").build(cfg.devices[0], context(tmp_path, events))
    dev.inbox.push(np.zeros(1000))
    dev.inbox.push(np.zeros(1000), gap=True)
    assert dev.read(10) == []
    assert [e.kind for e in events] == ["vibration.gap"]
    dev.inbox.push(np.ones(24))
    assert len(dev.read(20)) == len(cfg.devices[0].points)


def test_block_path_alarm_of_uncertain_type_lists_the_candidates(tmp_path: Path) -> None:
    """Issue 13 follow-up: an inner-race and a ball fault together, of comparable strength.
    The alarm still raises (the machine needs attention), but its `defect` says "uncertain",
    `candidates` lists both with their indices, `evidence` carries both defects' lines, and
    `bearing_defect` is 5."""
    fs = 25_600
    cfg = device_config(sensor="block", sample_rate_hz=fs, shaft_hz=29.95, alias_base=20,
                        bearing={"bpfo": 3.5848, "bpfi": 5.4152, "bsf": 2.357,
                                 "ftf": 0.39828})
    events: list[Event] = []
    ctx = context(tmp_path, events)
    dev = source_module("vibration").build(cfg.devices[0], ctx)
    t = np.arange(fs * 6) / fs
    x = (Machine(defect="bpfi", impact_g=0.15, noise_g=0.05, slip=0.005).signal(t)
         + Machine(defect="bsf", impact_g=0.3, noise_g=0.0, orders_g=(), slip=0.005,
                   seed=11).signal(t))
    for i in range(0, len(x), 5120):
        ctx.extras["vibration_inboxes"]["m1"].push(x[i : i + 5120])
    readings = dev.read(2000)
    alarms = [e for e in events if e.kind == "vibration.alarm"]
    assert alarms and alarms[0].fields["state"] == "raised"
    fields = alarms[-1].fields
    assert fields["defect"] == "uncertain"
    names = {c["defect"] for c in fields["candidates"]}
    assert {"inner race (BPFI)", "rolling element (BSF)"} <= names
    assert max(c["index"] for c in fields["candidates"]) >= fields["on"]
    labels = {e["line"] for e in fields["evidence"]}
    assert {"1xBPFI", "2xBSF"} <= labels
    last = max(r.ts_ms for r in readings)
    assert [r.value for r in readings if r.alias == 20 + 11 and r.ts_ms == last] == [5]
