"""Lint of a valid config: things that are legal but suspicious, each naming its key path.

`lint(cfg)` runs every check in CHECKS; a check takes the config and yields messages like
`devices[2].points[1]: reads holding 40011..40012, which devices[2].points[0] also reads`.
What is particular to a kind (Modbus RTU timing, 4-20 mA ranges, ADC rates) is the kind's own
`checks.py`, asked through its plugin; the checks here find collisions across devices and
kinds from what each plugin says its devices use (registers, I2C addresses, serial lines,
pins), and never ask which kind a device is.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from .. import sources
from ..config import Config
from ..sources.modbus.checks import (  # noqa: F401 - where callers found them
    rtu_char_s,
    rtu_cycle_s,
    rtu_exchange_s,
    rtu_silence_s,
)
from ..sources.plugin import Checks

Check = Callable[[Config], Iterator[str]]


def lint(cfg: Config) -> list[str]:
    """Every warning for a config that already passed validation."""
    return [msg for check in CHECKS for msg in check(cfg)]


def _devices(cfg: Config) -> Iterator[tuple[int, Any, Checks]]:
    for i, dev in enumerate(cfg.devices):
        yield i, dev, sources.plugin(dev.kind).check()


# -- what each kind says about its own devices ----------------------------------------------


def check_kinds(cfg: Config) -> Iterator[str]:
    """The kind's own warnings for each device (RTU polls, loop ranges, ADC rates...)."""
    for i, dev, checks in _devices(cfg):
        for msg in checks.warnings(dev):
            yield f"devices[{i}].{msg}"


def check_line_load(cfg: Config) -> Iterator[str]:
    """A serial line whose devices together need more than its time."""
    lines: dict[str, list[tuple[int, Any, float]]] = defaultdict(list)
    for i, dev, checks in _devices(cfg):
        use = checks.line(dev)
        if use is not None and use.poll_s > 0:
            lines[use.port].append((i, dev, use.poll_s))
    for port, devs in lines.items():
        load = sum(poll_s * 1000 / dev.period_ms for _, dev, poll_s in devs)
        if len(devs) > 1 and load > 1:
            who = ", ".join(f"devices[{i}]" for i, _, _ in devs)
            yield (
                f"{port}: {who} need {load:.0%} of the line's time; polls will fall behind "
                "(raise period_ms or the baud rate)"
            )


# -- register, address and pin collisions -------------------------------------------------


def check_register_overlap(cfg: Config) -> Iterator[str]:
    """Two points reading the same registers (bits of one register are fine)."""
    seen: dict[tuple[Any, ...], list[tuple[int, int, str, int | None]]] = defaultdict(list)
    for i, dev, checks in _devices(cfg):
        for span in checks.registers(dev):
            key = (span.bus, span.unit, span.table)
            first, end, bit = span.first, span.end, span.bit
            where = f"devices[{i}].points[{span.point}]"
            for o_first, o_end, o_where, o_bit in seen[key]:
                if first < o_end and o_first < end and not (bit is not None
                                                            and o_bit not in (None, bit)):
                    same = (first, end, bit) == (o_first, o_end, o_bit)
                    what = "the same" if same else "overlapping"
                    yield (
                        f"{where}: reads {key[2]} {first}..{end - 1}, {what} registers as "
                        f"{o_where} (a duplicate, or a wrong register or data_type)"
                    )
                    break
            seen[key].append((first, end, where, bit))


def check_i2c_addresses(cfg: Config) -> Iterator[str]:
    """Two devices driving the chip at one address: they overwrite each other's settings."""
    seen: dict[tuple[str, int], str] = {}
    for i, dev, checks in _devices(cfg):
        use = checks.i2c_address(dev)
        if use is None:
            continue
        bus, address = use
        where = f"devices[{i}]"
        if (bus, address) in seen:
            yield (
                f"{where}.address: 0x{address:02x} on {bus} is also used by "
                f"{seen[bus, address]}; one chip, one device entry"
            )
        seen.setdefault((bus, address), where)


def check_serial_ports(cfg: Config) -> Iterator[str]:
    """Devices sharing a serial port must agree on the framing, and on one protocol stack."""
    users: dict[str, list[tuple[str, str, tuple[Any, ...]]]] = defaultdict(list)
    for i, dev, checks in _devices(cfg):
        use = checks.line(dev)
        if use is not None:
            users[use.port].append((f"devices[{i}]", use.stack, use.framing))
    for port, devs in users.items():
        stacks = {k for _, k, _ in devs}
        framings = {f for _, _, f in devs}
        who = ", ".join(w for w, _, _ in devs)
        if len(stacks) > 1:
            mix = " and ".join(sorted(stacks, reverse=True))
            yield f"{port}: {who} mix {mix} devices on one port; they cannot share it"
        elif len(framings) > 1:
            yield f"{port}: {who} share the port with different baud rate, parity or stop bits"


# -- every point's transform -----------------------------------------------------------


def check_point_stage(cfg: Config) -> Iterator[str]:
    """Alarm limits a point's span (its 4-20 mA loop or valid range) can never reach, and a
    percent deadband on a point with no span (it then follows the last value sent)."""
    for i, dev in enumerate(cfg.devices):
        for j, p in enumerate(dev.point_configs()):
            where = f"devices[{i}].points[{j}]"
            span = _span(p)
            if span is not None and p.alarms is not None:
                lo, hi = span
                for level in ("ll", "l", "h", "hh"):
                    limit = getattr(p.alarms, level)
                    if limit is not None and not lo <= limit <= hi:
                        yield (f"{where}.alarms.{level}: {limit:g} lies outside the range "
                               f"{lo:g}..{hi:g}")
            if p.deadband_pct and p.span_abs() is None and span is None:
                yield (f"{where}.deadband_pct: no span (loop_4_20ma or valid_min/valid_max): "
                       "a percentage of the last value sent")


def _span(p: Any) -> tuple[float, float] | None:
    if p.loop_4_20ma is not None:
        lo, hi = sorted((p.loop_4_20ma.low, p.loop_4_20ma.high))
        return lo, hi
    if p.valid_min is not None and p.valid_max is not None:
        return p.valid_min, p.valid_max
    return None


# -- broker, store, devices ---------------------------------------------------------------


def check_broker(cfg: Config) -> Iterator[str]:
    b = cfg.broker
    if b.password:
        yield "broker.password: a password in the config file; prefer password_file (mode 0600)"
    url = urlsplit(b.url)
    if (b.password or b.password_file) and url.scheme == "mqtt" and not _loopback(url.hostname):
        yield f"broker.url: credentials go in clear text to {url.hostname}; use mqtts://"


def _loopback(host: str | None) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def check_store(cfg: Config) -> Iterator[str]:
    if str(cfg.store.path).startswith(("/tmp/", "/dev/shm/", "/run/")):
        yield f"store.path: {cfg.store.path} is cleared at reboot; queued data would be lost"


def check_empty_devices(cfg: Config) -> Iterator[str]:
    for i, dev in enumerate(cfg.devices):
        if dev.enabled and not dev.point_configs():
            yield f"devices[{i}]: {dev.name} has no points; it publishes nothing"


CHECKS: tuple[Check, ...] = (
    check_register_overlap,
    check_kinds,
    check_line_load,
    check_serial_ports,
    check_i2c_addresses,
    check_point_stage,
    check_broker,
    check_store,
    check_empty_devices,
)
