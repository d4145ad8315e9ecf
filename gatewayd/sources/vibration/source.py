"""The vibration source: samples -> ring -> windows -> features (readings) and alarms (events).

One device is one channel. The ADXL345 path drains the chip's FIFO on every poll; the block
path takes sample blocks a high-rate driver pushed into `inbox`. Both go through the same ring;
a lost stretch (FIFO overrun, a block marked as following a gap) restarts the window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ...analysis.bearing import DEFECTS
from ...analysis.iso import zone_letter
from ...analysis.rawpack import pack_window
from ...analysis.ring import Ring
from ...analysis.spectrum import UNCERTAIN, Analyzer, Spec
from ...analysis.tacho import Tacho
from ...buses.i2c import I2CBus
from ...model import Event, Point, Reading
from ...points.alarms import Threshold, ZoneWatch
from ...points.transform import finite_quality
from ..base import Device, SourceContext
from ..i2c.source import i2c_bus
from .adxl345 import Adxl345
from .config import Config

DEFECT_NAMES = (
    "none",
    "outer race (BPFO)",
    "inner race (BPFI)",
    "rolling element (BSF)",
    "cage (FTF)",
    "uncertain",  # over the alarm level, but the lines do not tell which defect: `candidates`
)


class BlockInbox:
    """Where a high-rate driver pushes sample blocks (any thread); the bus thread drains it."""

    def __init__(self) -> None:
        self._blocks: deque[tuple[np.ndarray, bool]] = deque()
        self._lock = threading.Lock()

    def push(self, samples: np.ndarray, gap: bool = False) -> None:
        """`gap`: samples were lost before this block, so it must not be stitched on."""
        with self._lock:
            self._blocks.append((np.asarray(samples, dtype=np.float64), gap))

    def take(self) -> list[tuple[np.ndarray, bool]]:
        with self._lock:
            blocks = list(self._blocks)
            self._blocks.clear()
        return blocks


def analysis_spec(cfg: Config) -> Spec:
    return Spec(
        fs_hz=cfg.fs_hz,
        window_len=cfg.window_len,
        window=cfg.window,
        velocity_band_hz=cfg.velocity_band_hz,
        bands_hz={b.name: (b.lo_hz, b.hi_hz) for b in cfg.bands},
        shaft_hz=cfg.shaft_hz,
        shaft_search_hz=cfg.shaft_search_hz,
        defects=cfg.bearing.multiples() if cfg.bearing else {},
        envelope_band_hz=cfg.envelope_band_hz,
        machine_group=cfg.machine_group,
        foundation=cfg.foundation,
        hop=cfg.hop,
        envelope_resolution_hz=cfg.envelope_resolution_hz,
        envelope_averages=cfg.envelope_averages,
        whiten=cfg.envelope_whiten,
        false_alarm=cfg.bearing_false_alarm,
        naming_significance=cfg.bearing_naming_significance,
        mains_hz=tuple(cfg.mains_hz),
    )


class VibrationChannel(Device):
    """A PolledDevice: each `read` drains new samples and returns features of finished windows."""

    cfg: Config


    def __init__(self, cfg: Config, ctx: SourceContext, bus: Any = None) -> None:
        super().__init__(cfg, [p.point(cfg.name, feature=p.feature) for p in cfg.points],
                         ctx.buses)
        self.ctx = ctx
        handle = bus if bus is not None else ctx.extras.get("i2c_bus")
        self.bus = (i2c_bus(self.buses, cfg.bus, cfg.name, handle) if cfg.sensor == "adxl345"
                    else self.buses.own(cfg.name))
        self.analyzer = Analyzer(analysis_spec(cfg))
        self.ring = Ring(cfg.window_len, cfg.hop, capacity=2 * cfg.window_len)
        self.window = np.zeros(cfg.window_len)
        self._slots = [self.analyzer.index[p.feature] for p in cfg.points]
        self._thresholds = [
            Threshold(a.feature, a.on, a.on if a.off is None else a.off, a.persistence_windows)
            for a in cfg.alarms
        ]
        self._bearing: Threshold | None = None
        if cfg.bearing:  # levels from the false-alarm rate unless configured
            on = cfg.bearing_alarm_on or self.analyzer.bearing_alarm_on
            off = cfg.bearing_alarm_off or min(on, self.analyzer.bearing_alarm_off)
            self._bearing = Threshold("bearing_index", on, min(on, off), cfg.bearing_persistence)
        self._zone = ZoneWatch(cfg.persistence_windows) if cfg.zone_alarm else None
        self.inbox = BlockInbox()
        self.tacho = (Tacho(cfg.tacho.pulses_per_rev, cfg.window_len / cfg.fs_hz)
                      if cfg.tacho else None)
        self._tacho_pin: Any = None
        self._monotonic: Callable[[], float] = ctx.extras.get("monotonic", time.monotonic)
        self._chip: Adxl345 | None = None
        self._fifo = np.zeros(32)
        self._t0_ms: int | None = None  # time of sample 0 of the current run (no gap since)
        self._run_start = 0  # ring.total at that sample

    # -- PolledDevice ---------------------------------------------------------------------
    def open(self) -> None:
        if self.cfg.sensor == "adxl345":
            self._chip = self._open_adxl()
        if self.tacho is not None and self._tacho_pin is None:
            self._tacho_pin = self._open_tacho(self.tacho)
        self._t0_ms = None

    def _open_tacho(self, tacho: Tacho) -> Any:
        t = self.cfg.tacho
        assert t is not None

        def edge(active: bool) -> None:
            if active:
                tacho.pulse(self._monotonic())

        return self.buses.gpio(self.name).input(t.pin, t.pull, t.active_high, edge,
                                                f"{self.name} tachometer",
                                                self.ctx.extras.get("gpio_pin_factory"))

    def _open_adxl(self) -> Adxl345:
        assert isinstance(self.bus, I2CBus)
        chip = Adxl345(
            self.bus.port(self.cfg.address, "adxl345"),
            self.cfg.odr_hz,
            self.cfg.range_g,
            self.cfg.axis,
        )
        chip.open()
        return chip

    def close(self) -> None:
        if self._chip is not None:
            self._chip.close()
            self._chip = None
        if self._tacho_pin is not None:
            self._tacho_pin.close()
            self._tacho_pin = None
        self.release_bus()  # the adapter's one handle closes unless other chips are on it

    def read(self, now_ms: int) -> list[Reading]:
        if self.cfg.sensor == "adxl345":
            if self._chip is None:
                self.open()
            assert self._chip is not None
            n, overrun = self._chip.drain(self._fifo)
            return self.feed(self._fifo[:n], now_ms, gap=overrun)
        out: list[Reading] = []
        for block, gap in self.inbox.take():
            out += self.feed(block, now_ms, gap)
        return out

    # -- samples to features ----------------------------------------------------------------
    def feed(self, samples: np.ndarray, now_ms: int, gap: bool = False) -> list[Reading]:
        """Samples that arrived by `now_ms` (the last one is the newest) -> readings."""
        if gap:
            self._gap(now_ms)
        if self._t0_ms is None:  # timing follows the data rate from the first sample on
            self._t0_ms = now_ms - round(1000 * len(samples) / self.cfg.fs_hz)
            self._run_start = self.ring.total
        out: list[Reading] = []
        done = 0
        while done < len(samples):
            done += self.ring.write(samples[done:])
            while self.ring.window(self.window):
                out += self._analyse()
        return out

    def _gap(self, now_ms: int) -> None:
        self.ring.restart()
        self.analyzer.reset()
        lost_from = self._sample_ms(self.ring.total) if self._t0_ms is not None else None
        self._t0_ms = None
        self.ctx.event(Event(now_ms, "vibration.gap", {"device": self.name, "since_ms": lost_from}))

    def _sample_ms(self, index: int) -> int:
        assert self._t0_ms is not None
        return self._t0_ms + round(1000 * (index - self._run_start) / self.cfg.fs_hz)

    def _analyse(self) -> list[Reading]:
        shaft = self.tacho.speed_hz(self._monotonic()) if self.tacho is not None else None
        values = self.analyzer.run(self.window, shaft)
        end = self.ring.total - self.ring.filled - self.cfg.hop + self.cfg.window_len
        ts = self._sample_ms(end)
        self._alarms(values, ts)
        return [
            _reading(p, ts, values[slot]) for p, slot in zip(self.points, self._slots, strict=True)
        ]

    def _alarms(self, values: np.ndarray, ts: int) -> None:
        ix = self.analyzer.index
        if self._zone is not None and (zone := self._zone.update(int(values[ix["iso_zone"]]))):
            self._emit(
                ts,
                "vibration.zone",
                {"zone": zone_letter(zone), "velocity_mm_s": float(values[ix["velocity_mm_s"]])},
            )
        # the bearing index changes once per averaged spectrum: it is judged then, and the
        # average is its debounce
        bearing = [self._bearing] if self._bearing and self.analyzer.bearing_updated else []
        for rule in self._thresholds + bearing:
            value = float(values[ix[rule.feature]])
            if change := rule.update(value):
                fields: dict[str, Any] = {
                    "feature": rule.feature,
                    "state": change,
                    "value": value,
                    "on": rule.on,
                    "off": rule.off,
                }
                if rule is self._bearing:
                    code = int(values[ix["bearing_defect"]])
                    fields["defect"] = DEFECT_NAMES[code]
                    evidence = self.analyzer.evidence()
                    candidates = self.analyzer.candidates
                    if code == UNCERTAIN:  # every candidate's lines (each label names its defect)
                        fields["evidence"] = [e for c in candidates for e in evidence.get(c[0], [])]
                    elif code:
                        fields["evidence"] = evidence.get(DEFECTS[code - 1], [])
                    fields["candidates"] = [
                        {"defect": DEFECT_NAMES[DEFECTS.index(d) + 1], "index": round(index, 2),
                         "own_lines_mean": round(own, 2), "own_lines": n}
                        for d, index, own, n in candidates]
                self._emit(ts, "vibration.alarm", fields)

    def _emit(self, ts: int, kind: str, fields: dict[str, Any]) -> None:
        fields["device"] = self.name
        if self.cfg.attach_raw:
            fields["raw"] = pack_window(self.window, self.cfg.fs_hz)
        self.ctx.event(Event(ts, kind, fields))


def _reading(point: Point, ts: int, x: float) -> Reading:
    """NaN (a line the window cannot resolve, a silent channel) is sent as bad data."""
    if not math.isfinite(x):  # the point stage's rule (NaN: bad_data_invalid)
        return Reading(point.alias, ts, None, finite_quality(x))
    return Reading(point.alias, ts, int(x) if point.type == "int" else float(x))


def build(cfg: Config, ctx: SourceContext) -> VibrationChannel:
    device = VibrationChannel(cfg, ctx)
    ctx.extras.setdefault("vibration_inboxes", {})[cfg.name] = device.inbox
    return device
