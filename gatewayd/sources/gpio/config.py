"""Config of a set of GPIO inputs and the points derived from them (counters, rates, OEE)."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal

from ...config import DeviceConfig, PointConfig
from ...validation import Annotated, Invalid, Meta, Model, field

Role = Literal["state", "counter", "rate", "run_hours",
               "availability", "performance", "quality", "oee"]
OEE_ROLES = ("availability", "performance", "quality", "oee")
DEFAULT_TYPE = {"state": "bool", "counter": "int"}


class GpioInput(Model):
    """One pin. Several points may read it (a running signal gives state and run hours)."""

    name: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    pin: Annotated[int | str, Meta(description="BCM number (17) or a gpiozero pin name "
                                               "('GPIO17')")]
    pull: Literal["up", "down", "floating"] = "down"
    active_high: Annotated[bool, Meta(description="default: low with pull = 'up'")] | None = None
    debounce_ms: Annotated[int, Meta(ge=0, le=60_000, description="stable this long to count")] = 20

    @property
    def active_level(self) -> bool:
        return self.pull != "up" if self.active_high is None else self.active_high


class GpioPoint(PointConfig):
    role: Role
    input: Annotated[str, Meta(description="name of an input; not for OEE roles")] | None = None
    pulses_per_unit: Annotated[float, Meta(gt=0, description="rate: pulses per litre, ...")] = 1.0
    window_ms: Annotated[int, Meta(ge=100, le=3_600_000, description="rate window")] = 10_000
    per: Literal["s", "min", "h"] = "s"

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        # a state is a bool and a counter an int unless the TOML says otherwise
        if "type" not in data and data.get("role") in DEFAULT_TYPE:
            return {**data, "type": DEFAULT_TYPE[data["role"]]}
        return data

    def check(self) -> None:
        if (self.role in OEE_ROLES) != (self.input is None):
            raise ValueError("an `input` for state, counter, rate and run_hours, none for OEE")


def _shift_starts(value: list[str]) -> list[time]:
    try:
        return [time.fromisoformat(s) for s in value]
    except ValueError:
        raise Invalid("shifts", "shift start times like '06:00'") from None


class OeeConfig(Model):
    running: Annotated[str, Meta(description="input that is active while the machine runs")]
    parts: Annotated[str, Meta(description="input pulsing once per part made (good and "
                                           "rejected)")]
    rejects: Annotated[str, Meta(description="input pulsing once per rejected part")] | None = None
    ideal_rate_per_min: Annotated[float, Meta(gt=0, description="parts a minute at full speed")]
    shifts: Annotated[list[str], Meta(min_length=1)] = field(
        default_factory=lambda: ["06:00", "14:00", "22:00"])
    timezone: Annotated[str, Meta(description="IANA name; empty: the gateway's local time")] = ""
    count_from: Annotated[Literal["gateway_start", "shift_start"], Meta(
        description="gateway_start: time before the gateway started is not downtime; "
                    "shift_start: the whole shift counts (the machine was known to be idle)",
    )] = "gateway_start"

    def check(self) -> None:
        if not self.shifts:  # a table built in code skips the Meta's length check
            raise Invalid("shifts", "at least 1 item")
        starts = _shift_starts(self.shifts)
        if len(set(starts)) != len(starts):
            raise Invalid("shifts", "distinct shift start times")

    @property
    def start_times(self) -> list[time]:
        return sorted(_shift_starts(self.shifts))


class Config(DeviceConfig):
    kind: Literal["gpio"]
    period_ms: Annotated[int, Meta(ge=100, le=86_400_000, description="emit interval")] = 10_000
    persist_interval_ms: Annotated[int, Meta(ge=1000, le=86_400_000)] = 60_000
    inputs: Annotated[list[GpioInput], Meta(min_length=1)]
    oee: OeeConfig | None = None
    points: list[GpioPoint] = field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return f"gpio:{self.name}"

    def check(self) -> None:
        if not self.inputs:  # tables in an array are built one by one: no length check on it
            raise Invalid("inputs", "at least 1 item")
        names = [i.name for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("input names unique within the device")
        wanted = [p.input for p in self.points if p.input] + self._oee_inputs()
        unknown = sorted({w for w in wanted if w not in names})
        if unknown:
            raise ValueError(f"inputs named in points and [oee] to exist; unknown {unknown}")
        if self.oee is None and any(p.role in OEE_ROLES for p in self.points):
            raise ValueError("an [oee] table for availability, performance, quality, oee points")

    def _oee_inputs(self) -> list[str]:
        o = self.oee
        return [] if o is None else [n for n in (o.running, o.parts, o.rejects) if n]
