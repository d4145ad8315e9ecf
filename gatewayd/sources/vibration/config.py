"""Config of a vibration channel: an ADXL345 on I2C, or blocks pushed by a high-rate driver."""

from __future__ import annotations

from typing import Any, Literal

from ...analysis.bearing import DEFECTS, defect_multiples
from ...analysis.names import feature_names
from ...buses.i2c import bus_name
from ...config import DeviceConfig, FloatPair, PointConfig
from ...validation import Annotated, Invalid, Meta, Model, field
from ..i2c.config import I2CBus, check_bus
from .decode import ODR_HZ, rate_code

UNITS = {"_g": "g", "_mm_s": "mm/s", "_hz": "Hz"}
DEFAULT_FEATURES = (
    "rms_g",
    "peak_g",
    "crest",
    "kurtosis",
    "velocity_mm_s",
    "iso_zone",
    "shaft_hz",
    "order1_g",
    "order2_g",
    "order3_g",
    "bearing_index",
    "bearing_defect",
)


class Band(Model):
    name: Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,24}$")]
    lo_hz: Annotated[float, Meta(ge=0)]
    hi_hz: Annotated[float, Meta(gt=0)]

    def check(self) -> None:
        if self.hi_hz <= self.lo_hz:
            raise ValueError("hi_hz above lo_hz")


class Bearing(Model):
    """Geometry, or the four defect frequencies as multiples of shaft speed (from a catalogue)."""

    balls: Annotated[int, Meta(ge=3, le=100)] | None = None
    ball_diameter_mm: Annotated[float, Meta(gt=0)] | None = None
    pitch_diameter_mm: Annotated[float, Meta(gt=0)] | None = None
    contact_angle_deg: Annotated[float, Meta(ge=0, lt=90)] = 0.0
    bpfo: Annotated[float, Meta(gt=0)] | None = None
    bpfi: Annotated[float, Meta(gt=0)] | None = None
    bsf: Annotated[float, Meta(gt=0)] | None = None
    ftf: Annotated[float, Meta(gt=0)] | None = None

    def check(self) -> None:
        geometry = (self.balls, self.ball_diameter_mm, self.pitch_diameter_mm)
        given = tuple(getattr(self, d) for d in DEFECTS)
        by_geometry = any(g is not None for g in geometry)
        if by_geometry == any(m is not None for m in given):
            raise ValueError(
                "either the geometry (balls, ball_diameter_mm, pitch_diameter_mm) "
                "or the multiples of shaft speed (bpfo, bpfi, bsf, ftf)"
            )
        if None in (geometry if by_geometry else given):
            raise ValueError(
                "all of "
                + (
                    "balls, ball_diameter_mm, pitch_diameter_mm"
                    if by_geometry
                    else "bpfo, bpfi, bsf, ftf"
                )
            )

    def multiples(self) -> dict[str, float]:
        if self.bpfo is not None:
            return {d: float(getattr(self, d)) for d in DEFECTS}
        assert self.balls and self.ball_diameter_mm and self.pitch_diameter_mm
        return defect_multiples(
            self.balls, self.ball_diameter_mm, self.pitch_diameter_mm, self.contact_angle_deg
        )


class Tachometer(Model):
    """A once-per-revolution (or N-per-revolution) pulse input giving the shaft speed."""

    pin: Annotated[int | str, Meta(description="GPIO number or name, as gpiozero takes it")]
    pulses_per_rev: Annotated[int, Meta(ge=1, le=1000)] = 1
    pull: Literal["up", "down", "floating"] = "up"
    active_high: Annotated[bool, Meta(description="an NPN sensor pulls the line low")] = False


class Alarm(Model):
    feature: str
    on: float
    off: float | None = None  # default: equal to `on` (no hysteresis)
    persistence_windows: Annotated[int, Meta(ge=1, le=1000)] = 3


class VibrationPoint(PointConfig):
    feature: str


class Config(DeviceConfig):
    kind: Literal["vibration"]
    period_ms: Annotated[int, Meta(ge=1, le=60_000, description="how often the FIFO is "
                                                                "drained")] = 5
    sensor: Literal["adxl345", "block"] = "adxl345"
    bus: I2CBus = 1
    address: Annotated[int, Meta(description="0x53 (ALT low) or 0x1D (ALT high)")] = 0x53
    odr_hz: float = 3200.0
    range_g: Literal[2, 4, 8, 16] = 16
    axis: Literal["x", "y", "z"] = "z"
    sample_rate_hz: Annotated[float, Meta(gt=0, le=51_200,
                                          description="block sensor")] | None = None
    window_len: int = 4096
    overlap: Annotated[float, Meta(ge=0, le=0.9375)] = 0.5
    window: Literal["hann", "hamming", "blackman", "flattop", "rect"] = "hann"
    machine_group: Literal[1, 2] = 2
    foundation: Literal["rigid", "flexible"] = "rigid"
    velocity_band_hz: FloatPair = (10.0, 1000.0)
    bands: list[Band] = field(default_factory=list)
    shaft_hz: Annotated[float, Meta(gt=0, description="omit to estimate it")] | None = None
    shaft_search_hz: FloatPair = (5.0, 100.0)
    tacho: Tachometer | None = None
    bearing: Bearing | None = None
    envelope_band_hz: FloatPair | None = None
    envelope_resolution_hz: Annotated[float, Meta(
        gt=0, le=10, description="envelope-spectrum line spacing, at most")] = 1.0
    envelope_averages: Annotated[int, Meta(
        ge=1, le=64, description="spans averaged before the bearing index")] = 4
    envelope_whiten: Annotated[bool, Meta(description="cepstral pre-whitening")] = True
    mains_hz: Annotated[list[float], Meta(description="never taken for shaft orders")] = field(
        default_factory=lambda: [50.0, 60.0])
    bearing_false_alarm: Annotated[float, Meta(
        gt=0, lt=0.5,
        description="chance that one averaged spectrum of pure noise raises the bearing "
                    "alarm")] = 1e-6
    bearing_naming_significance: Annotated[float, Meta(
        gt=0, lt=0.5,
        description="chance that two equally strong defect combs would look this different: "
                    "a defect is named only below it, else the alarm says 'uncertain'")] = 0.01
    bearing_alarm_on: Annotated[float, Meta(
        gt=0, description="omit: from bearing_false_alarm")] | None = None
    bearing_alarm_off: Annotated[float, Meta(
        gt=0, description="omit: noise's 95th percentile")] | None = None
    bearing_persistence: Annotated[int, Meta(
        ge=1, le=100, description="averaged spectra in a row before a change")] = 1
    persistence_windows: Annotated[int, Meta(ge=1, le=1000)] = 3
    zone_alarm: bool = True
    alarms: list[Alarm] = field(default_factory=list)
    attach_raw: bool = False
    alias_base: Annotated[int, Meta(ge=1, le=65535)] | None = None
    features: list[str] | None = None  # default: DEFAULT_FEATURES (bearing ones if a bearing)
    points: list[VibrationPoint] = field(default_factory=list)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """`alias_base` + `features` stand for one point per feature, aliases in order."""
        check_bus(data)
        base = data.get("alias_base")
        feats = data.get("features") or default_features(bool(data.get("bearing")))
        if (isinstance(base, int) and base and not data.get("points") and isinstance(feats, list)
                and all(isinstance(f, str) for f in feats)):  # else the keys' own types refuse
            data = {
                **data,
                "points": [
                    _point(data.get("name", "vib"), base + i, f)
                    for i, f in enumerate(feats)
                ],
            }
        return data

    def check(self) -> None:
        n = self.window_len
        if n < 256 or n > 65536 or n & (n - 1):
            raise Invalid("window_len", "a power of two from 256 to 65536")
        if self.sensor == "adxl345":
            try:
                rate_code(self.odr_hz)
            except ValueError as e:  # its text already reads "expected ..."
                raise Invalid("odr_hz", str(e).removeprefix("expected ")) from None
            if self.period_ms * self.odr_hz / 1000 > 24:
                raise ValueError(
                    f"period_ms at most {int(24_000 / self.odr_hz)} at {self.odr_hz:g} Hz "
                    "so the 32-entry FIFO is drained before it overruns"
                )
        elif self.sample_rate_hz is None:
            raise ValueError("sample_rate_hz for sensor = 'block'")
        known = set(
            feature_names([b.name for b in self.bands], list(DEFECTS) if self.bearing else [])
        )
        wanted = (
            set(self.features or [])
            | {p.feature for p in self.points}
            | {a.feature for a in self.alarms}
        )
        if unknown := sorted(wanted - known):
            raise ValueError(
                f"features among {', '.join(sorted(known))} (unknown: {', '.join(unknown)})"
            )
        if self.tacho is not None and self.shaft_hz is not None:
            raise ValueError("either shaft_hz or tacho, not both")
        if (self.bearing_alarm_off is not None and self.bearing_alarm_on is not None
                and self.bearing_alarm_off > self.bearing_alarm_on):
            raise ValueError("bearing_alarm_off <= bearing_alarm_on")

    @property
    def fs_hz(self) -> float:
        return self.odr_hz if self.sensor == "adxl345" else float(self.sample_rate_hz or 0)

    @property
    def hop(self) -> int:
        return max(1, round(self.window_len * (1 - self.overlap)))

    @property
    def bus_key(self) -> str:
        if self.sensor == "block":
            return f"block:{self.name}"
        return bus_name(self.bus)


def default_features(bearing: bool) -> list[str]:
    return [f for f in DEFAULT_FEATURES if bearing or not f.startswith("bearing_")]


def _point(device: str, alias: int, feature: str) -> dict[str, Any]:
    unit = next((u for suffix, u in UNITS.items() if feature.endswith(suffix)), "")
    kind = "int" if feature in ("iso_zone", "bearing_defect") else "float"
    return {
        "alias": alias,
        "name": f"{device}.{feature}",
        "unit": unit,
        "type": kind,
        "feature": feature,
        "resolution": 0.0001,
    }


__all__ = ["ODR_HZ", "Config"]
