"""Config of a set of GPIO inputs and the points derived from them (counters, rates, OEE)."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ...config import DeviceConfig, Model, PointConfig

Role = Literal["state", "counter", "rate", "run_hours",
               "availability", "performance", "quality", "oee"]
OEE_ROLES = ("availability", "performance", "quality", "oee")
DEFAULT_TYPE = {"state": "bool", "counter": "int"}


class GpioInput(Model):
    """One pin. Several points may read it (a running signal gives state and run hours)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    pin: int | str = Field(description="BCM number (17) or a gpiozero pin name ('GPIO17')")
    pull: Literal["up", "down", "floating"] = "down"
    active_high: bool | None = Field(default=None, description="default: low with pull = 'up'")
    debounce_ms: int = Field(default=20, ge=0, le=60_000, description="stable this long to count")

    @property
    def active_level(self) -> bool:
        return self.pull != "up" if self.active_high is None else self.active_high


class GpioPoint(PointConfig):
    role: Role
    input: str | None = Field(default=None, description="name of an input; not for OEE roles")
    pulses_per_unit: float = Field(default=1.0, gt=0, description="rate: pulses per litre, ...")
    window_ms: int = Field(default=10_000, ge=100, le=3_600_000, description="rate window")
    per: Literal["s", "min", "h"] = "s"

    @model_validator(mode="before")
    @classmethod
    def _type_from_role(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data and data.get("role") in DEFAULT_TYPE:
            return {**data, "type": DEFAULT_TYPE[data["role"]]}
        return data

    @model_validator(mode="after")
    def _input_matches_role(self) -> GpioPoint:
        if (self.role in OEE_ROLES) != (self.input is None):
            raise ValueError("an `input` for state, counter, rate and run_hours, none for OEE")
        return self


class OeeConfig(Model):
    running: str = Field(description="input that is active while the machine runs")
    parts: str = Field(description="input pulsing once per part made (good and rejected)")
    rejects: str | None = Field(default=None, description="input pulsing once per rejected part")
    ideal_rate_per_min: float = Field(gt=0, description="parts a minute at full speed")
    shifts: list[str] = Field(default=["06:00", "14:00", "22:00"], min_length=1)
    timezone: str = Field(default="", description="IANA name; empty: the gateway's local time")
    count_from: Literal["gateway_start", "shift_start"] = Field(
        default="gateway_start",
        description="gateway_start: time before the gateway started is not downtime; "
                    "shift_start: the whole shift counts (the machine was known to be idle)")

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: list[str]) -> list[str]:
        try:
            starts = [time.fromisoformat(s) for s in value]
        except ValueError:
            raise ValueError("shift start times like '06:00'") from None
        if len(set(starts)) != len(starts):
            raise ValueError("distinct shift start times")
        return value

    @property
    def start_times(self) -> list[time]:
        return sorted(time.fromisoformat(s) for s in self.shifts)


class Config(DeviceConfig):
    kind: Literal["gpio"]
    period_ms: int = Field(default=10_000, ge=100, le=86_400_000, description="emit interval")
    persist_interval_ms: int = Field(default=60_000, ge=1000, le=86_400_000)
    inputs: list[GpioInput] = Field(min_length=1)
    oee: OeeConfig | None = None
    points: list[GpioPoint] = Field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return f"gpio:{self.name}"

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [i.name for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("input names unique within the device")
        wanted = [p.input for p in self.points if p.input] + self._oee_inputs()
        unknown = sorted({w for w in wanted if w not in names})
        if unknown:
            raise ValueError(f"inputs named in points and [oee] to exist; unknown {unknown}")
        if self.oee is None and any(p.role in OEE_ROLES for p in self.points):
            raise ValueError("an [oee] table for availability, performance, quality, oee points")
        return self

    def _oee_inputs(self) -> list[str]:
        o = self.oee
        return [] if o is None else [n for n in (o.running, o.parts, o.rejects) if n]
