"""Config of a vibration channel: an ADXL345 on I2C, or blocks pushed by a high-rate driver."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ...analysis.bearing import DEFECTS, defect_multiples
from ...analysis.names import feature_names
from ...config import DeviceConfig, FloatPair, Model, PointConfig
from ..i2c.config import I2CBus
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
    name: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    lo_hz: float = Field(ge=0)
    hi_hz: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Band:
        if self.hi_hz <= self.lo_hz:
            raise ValueError("hi_hz above lo_hz")
        return self


class Bearing(Model):
    """Geometry, or the four defect frequencies as multiples of shaft speed (from a catalogue)."""

    balls: int | None = Field(default=None, ge=3, le=100)
    ball_diameter_mm: float | None = Field(default=None, gt=0)
    pitch_diameter_mm: float | None = Field(default=None, gt=0)
    contact_angle_deg: float = Field(default=0.0, ge=0, lt=90)
    bpfo: float | None = Field(default=None, gt=0)
    bpfi: float | None = Field(default=None, gt=0)
    bsf: float | None = Field(default=None, gt=0)
    ftf: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> Bearing:
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
        return self

    def multiples(self) -> dict[str, float]:
        if self.bpfo is not None:
            return {d: float(getattr(self, d)) for d in DEFECTS}
        assert self.balls and self.ball_diameter_mm and self.pitch_diameter_mm
        return defect_multiples(
            self.balls, self.ball_diameter_mm, self.pitch_diameter_mm, self.contact_angle_deg
        )


class Tachometer(Model):
    """A once-per-revolution (or N-per-revolution) pulse input giving the shaft speed."""

    pin: int | str = Field(description="GPIO number or name, as gpiozero takes it")
    pulses_per_rev: int = Field(default=1, ge=1, le=1000)
    pull: Literal["up", "down", "floating"] = "up"
    active_high: bool = Field(default=False, description="an NPN sensor pulls the line low")


class Alarm(Model):
    feature: str
    on: float
    off: float | None = None  # default: equal to `on` (no hysteresis)
    persistence_windows: int = Field(default=3, ge=1, le=1000)


class VibrationPoint(PointConfig):
    feature: str


class Config(DeviceConfig):
    kind: Literal["vibration"]
    period_ms: int = Field(default=5, ge=1, le=60_000, description="how often the FIFO is drained")
    sensor: Literal["adxl345", "block"] = "adxl345"
    bus: I2CBus = Field(default=1, description="I2C bus number (1 for /dev/i2c-1)")
    address: int = Field(default=0x53, description="0x53 (ALT low) or 0x1D (ALT high)")
    odr_hz: float = 3200.0
    range_g: Literal[2, 4, 8, 16] = 16
    axis: Literal["x", "y", "z"] = "z"
    sample_rate_hz: float | None = Field(default=None, gt=0, le=51_200, description="block sensor")
    window_len: int = 4096
    overlap: float = Field(default=0.5, ge=0, le=0.9375)
    window: Literal["hann", "hamming", "blackman", "flattop", "rect"] = "hann"
    machine_group: Literal[1, 2] = 2
    foundation: Literal["rigid", "flexible"] = "rigid"
    velocity_band_hz: FloatPair = (10.0, 1000.0)
    bands: list[Band] = Field(default_factory=list)
    shaft_hz: float | None = Field(default=None, gt=0, description="omit to estimate it")
    shaft_search_hz: FloatPair = (5.0, 100.0)
    tacho: Tachometer | None = None
    bearing: Bearing | None = None
    envelope_band_hz: FloatPair | None = None
    envelope_resolution_hz: float = Field(default=1.0, gt=0, le=10,
                                          description="envelope-spectrum line spacing, at most")
    envelope_averages: int = Field(default=4, ge=1, le=64,
                                   description="spans averaged before the bearing index")
    envelope_whiten: bool = Field(default=True, description="cepstral pre-whitening")
    mains_hz: list[float] = Field(default_factory=lambda: [50.0, 60.0],
                                  description="never taken for shaft orders")
    bearing_false_alarm: float = Field(
        default=1e-6, gt=0, lt=0.5,
        description="chance that one averaged spectrum of pure noise raises the bearing alarm")
    bearing_naming_significance: float = Field(
        default=0.01, gt=0, lt=0.5,
        description="chance that two equally strong defect combs would look this different: "
                    "a defect is named only below it, else the alarm says 'uncertain'")
    bearing_alarm_on: float | None = Field(default=None, gt=0,
                                           description="omit: from bearing_false_alarm")
    bearing_alarm_off: float | None = Field(default=None, gt=0,
                                            description="omit: noise's 95th percentile")
    bearing_persistence: int = Field(default=1, ge=1, le=100,
                                     description="averaged spectra in a row before a change")
    persistence_windows: int = Field(default=3, ge=1, le=1000)
    zone_alarm: bool = True
    alarms: list[Alarm] = Field(default_factory=list)
    attach_raw: bool = False
    alias_base: int | None = Field(default=None, ge=1, le=65535)
    features: list[str] | None = None  # default: DEFAULT_FEATURES (bearing ones if a bearing)
    points: list[VibrationPoint] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _points_from_alias_base(cls, data: Any) -> Any:
        """`alias_base` + `features` stand for one point per feature, aliases in order."""
        if isinstance(data, dict) and data.get("alias_base") and not data.get("points"):
            feats = data.get("features") or default_features(bool(data.get("bearing")))
            data = {
                **data,
                "points": [
                    _point(data.get("name", "vib"), data["alias_base"] + i, f)
                    for i, f in enumerate(feats)
                ],
            }
        return data

    @field_validator("window_len")
    @classmethod
    def _pow2(cls, n: int) -> int:
        if n < 256 or n > 65536 or n & (n - 1):
            raise ValueError("a power of two from 256 to 65536")
        return n

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.sensor == "adxl345":
            rate_code(self.odr_hz)
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
        return self

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
        return f"i2c-{self.bus}"


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
