"""Lint of a valid config: things that are legal but suspicious, each naming its key path.

`lint(cfg)` runs every check in CHECKS; a check takes the config and yields messages like
`devices[2].points[1]: reads holding 40011..40012, which devices[2].points[0] also reads`.
Bus timing is a lower bound from the wire alone (Modbus RTU: 11 bits a character, 3.5
character silences between frames); a slow device only makes things worse.
"""

from __future__ import annotations

import ipaddress
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from ..config import Config

Check = Callable[[Config], Iterator[str]]
RTU_BITS_PER_CHAR = 11  # start + 8 data + parity (or a 2nd stop) + stop
RTU_REQUEST_BYTES = 8  # unit, function, start (2), count (2), CRC (2)
RTU_REPLY_OVERHEAD = 5  # unit, function, byte count, CRC (2)


def lint(cfg: Config) -> list[str]:
    """Every warning for a config that already passed validation."""
    return [msg for check in CHECKS for msg in check(cfg)]


# -- Modbus RTU timing --------------------------------------------------------------------


def rtu_char_s(baud: int) -> float:
    return RTU_BITS_PER_CHAR / baud


def rtu_silence_s(baud: int) -> float:
    """The 3.5-character gap between frames; fixed at 1.75 ms above 19200 baud (the spec)."""
    return 3.5 * rtu_char_s(baud) if baud <= 19200 else 0.00175


def rtu_exchange_s(table: str, count: int, baud: int) -> float:
    """Wire time of one read: request, silence, reply, silence."""
    data = 2 * count if table in ("holding", "input") else math.ceil(count / 8)
    chars = RTU_REQUEST_BYTES + RTU_REPLY_OVERHEAD + data
    return chars * rtu_char_s(baud) + 2 * rtu_silence_s(baud)


def rtu_cycle_s(dev: Any) -> float:
    """Least time one poll of a Modbus RTU device takes on the wire, reads coalesced as polled."""
    from ..sources.modbus.decode import plan_reads

    blocks = plan_reads(dev.points, dev.max_registers_per_read, dev.max_gap)
    return sum(rtu_exchange_s(b.table, b.count, dev.baudrate) for b in blocks)


def _rtu_devices(cfg: Config) -> Iterator[tuple[int, Any]]:
    for i, dev in enumerate(cfg.devices):
        if dev.kind == "modbus" and dev.transport == "rtu" and dev.enabled:
            yield i, dev


def check_rtu_timing(cfg: Config) -> Iterator[str]:
    """A device whose reads outlast its period, or a line whose devices together do."""
    lines: dict[str, list[tuple[int, Any, float]]] = defaultdict(list)
    for i, dev in _rtu_devices(cfg):
        cycle = rtu_cycle_s(dev)
        lines[dev.serial_port].append((i, dev, cycle))
        if cycle * 1000 > dev.period_ms:
            yield (
                f"devices[{i}].period_ms: polls every {dev.period_ms} ms but its reads take "
                f"at least {cycle * 1000:.0f} ms at {dev.baudrate} baud"
            )
    for port, devs in lines.items():
        load = sum(cycle * 1000 / dev.period_ms for _, dev, cycle in devs)
        if len(devs) > 1 and load > 1:
            who = ", ".join(f"devices[{i}]" for i, _, _ in devs)
            yield (
                f"{port}: {who} need {load:.0%} of the line's time; polls will fall behind "
                "(raise period_ms or the baud rate)"
            )


# -- register, address and pin collisions -------------------------------------------------


def _modbus_spans(cfg: Config) -> Iterator[tuple[tuple[Any, ...], int, int, str, int | None]]:
    """(bus, unit, table), first, end, where, bit of every register a point reads."""
    for i, dev in enumerate(cfg.devices):
        if dev.kind == "modbus":
            for j, p in enumerate(dev.points):
                yield (
                    (dev.bus_key, dev.unit, p.table),
                    p.address,
                    p.address + p.width,
                    f"devices[{i}].points[{j}]",
                    p.bit if p.data_type == "bit" else None,
                )
        elif dev.kind == "analog" and dev.input == "modbus":
            for j, p in enumerate(dev.points):
                yield (
                    (dev.bus_key, dev.unit, dev.table),
                    p.address,
                    p.address + 1,
                    f"devices[{i}].points[{j}]",
                    None,
                )


def check_register_overlap(cfg: Config) -> Iterator[str]:
    """Two points reading the same registers (bits of one register are fine)."""
    seen: dict[tuple[Any, ...], list[tuple[int, int, str, int | None]]] = defaultdict(list)
    for key, first, end, where, bit in _modbus_spans(cfg):
        for o_first, o_end, o_where, o_bit in seen[key]:
            if (
                first < o_end
                and o_first < end
                and not (bit is not None and o_bit not in (None, bit))
            ):
                same = (first, end, bit) == (o_first, o_end, o_bit)
                what = "the same" if same else "overlapping"
                yield (
                    f"{where}: reads {key[2]} {first}..{end - 1}, {what} registers as {o_where}"
                    " (a duplicate, or a wrong register or data_type)"
                )
                break
        seen[key].append((first, end, where, bit))


def _i2c_chips(cfg: Config) -> Iterator[tuple[str, int, str]]:
    for i, dev in enumerate(cfg.devices):
        on_i2c = (
            getattr(dev, "input", "ads1115") == "ads1115" and getattr(dev, "sensor", "") != "block"
        )
        if dev.kind in ("i2c", "vibration", "analog") and dev.enabled and on_i2c:
            yield dev.bus_key, dev.address, f"devices[{i}]"


def check_i2c_addresses(cfg: Config) -> Iterator[str]:
    """Two devices driving the chip at one address: they overwrite each other's settings."""
    seen: dict[tuple[str, int], str] = {}
    for bus, address, where in _i2c_chips(cfg):
        if (bus, address) in seen:
            yield (
                f"{where}.address: 0x{address:02x} on {bus} is also used by "
                f"{seen[bus, address]}; one chip, one device entry"
            )
        seen.setdefault((bus, address), where)


MODICON_TABLES = {1: "discrete", 3: "input", 4: "holding"}


def check_one_based_registers(cfg: Config) -> Iterator[str]:
    """`register = 30071` is legal (0-based address 30071), but far more often a manual's
    1-based reference (input register 71, address 70) copied into the 0-based field.
    (GPIO pins used twice are config errors now: gatewayd/config.py.)"""
    for i, dev in enumerate(cfg.devices):
        if dev.kind != "modbus":
            continue
        for j, p in enumerate(dev.points):
            table = MODICON_TABLES.get(p.address // 10_000)
            if p.use is not None or table is None or p.address % 10_000 == 0:
                continue
            yield (f"devices[{i}].points[{j}].register: {p.address} looks like a 1-based manual "
                   f"reference; `register` is the 0-based address: table = \"{table}\", "
                   f"register = {p.address % 10_000 - 1}")


def check_serial_ports(cfg: Config) -> Iterator[str]:
    """Devices sharing a serial port must agree on the framing, and on one protocol stack."""
    users: dict[str, list[tuple[str, str, tuple[Any, ...]]]] = defaultdict(list)
    for i, dev in enumerate(cfg.devices):
        if dev.kind == "serial":
            users[dev.port].append((f"devices[{i}]", "serial", _framing(dev)))
        elif dev.kind == "modbus" and dev.transport == "rtu":
            users[dev.serial_port].append((f"devices[{i}]", "modbus", _framing(dev)))
    for port, devs in users.items():
        kinds = {k for _, k, _ in devs}
        framings = {f for _, _, f in devs}
        who = ", ".join(w for w, _, _ in devs)
        if len(kinds) > 1:
            yield f"{port}: {who} mix serial and modbus devices on one port; they cannot share it"
        elif len(framings) > 1:
            yield f"{port}: {who} share the port with different baud rate, parity or stop bits"


def _framing(dev: Any) -> tuple[Any, ...]:
    return dev.baudrate, dev.parity, dev.stopbits


# -- 4-20 mA loops and ADC timing ---------------------------------------------------------


def check_loop_ranges(cfg: Config) -> Iterator[str]:
    """A 4-20 mA point without its range reads percent of span, rarely what was meant."""
    for i, dev in enumerate(cfg.devices):
        if dev.kind != "analog":
            continue
        for j, p in enumerate(dev.points):
            where = f"devices[{i}].points[{j}]"
            missing = [k for k in ("low", "high") if k not in p.model_fields_set]
            if missing:
                yield (
                    f"{where}: no {' and '.join(missing)}: the 4-20 mA range defaults to "
                    f"{p.low:g}..{p.high:g}; give the transmitter's range"
                )
            yield from _alarm_limits(p, where)


def _alarm_limits(p: Any, where: str) -> Iterator[str]:
    if p.alarms is None:
        return
    lo, hi = sorted((p.low, p.high))
    for level in ("ll", "l", "h", "hh"):
        limit = getattr(p.alarms, level)
        if limit is not None and not lo <= limit <= hi:
            yield f"{where}.alarms.{level}: {limit:g} lies outside the range {lo:g}..{hi:g}"


def check_adc_rate(cfg: Config) -> Iterator[str]:
    """An ADS1115 converts one channel at a time: N channels take N / data_rate seconds."""
    for i, dev in enumerate(cfg.devices):
        single_shot = dev.kind == "i2c" and dev.chip == "ads1115" and not dev.continuous
        if single_shot or (dev.kind == "analog" and dev.input == "ads1115"):
            need_ms = 1000 * len(dev.points) / dev.data_rate_sps
            if need_ms > dev.period_ms:
                yield (
                    f"devices[{i}].period_ms: {dev.period_ms} ms, but {len(dev.points)} "
                    f"conversions at {dev.data_rate_sps} sps take {need_ms:.0f} ms"
                )


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
    check_rtu_timing,
    check_serial_ports,
    check_i2c_addresses,
    check_one_based_registers,
    check_loop_ranges,
    check_adc_rate,
    check_broker,
    check_store,
    check_empty_devices,
)
