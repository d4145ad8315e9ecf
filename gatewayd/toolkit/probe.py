"""`gatewayd probe i2c|modbus|serial|gpio`: look at a bus before writing its config.

Each probe returns an exit code (0 found something, 1 nothing or an error) and prints plain
text. Hardware is reached only through gatewayd.buses, so `gatewayd --simulate demo`, a pty and
gpiozero's mock pins work the same as the real thing.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from ..errors import DeviceError
from . import i2c_chips, modbus_ref, serial_guess
from .progress import Progress

I2C_ADDRESSES = range(0x08, 0x78)  # 0x00-0x07 and 0x78-0x7F are reserved
FREE_PINS = (4, 5, 6, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27)  # not I2C/SPI/UART


# -- i2c ----------------------------------------------------------------------------------


def i2c_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bus", default="1", help="bus number (1 = /dev/i2c-1)")


def scan_i2c(
    bus: Any, spec: int | str, addresses: range = I2C_ADDRESSES, progress: Progress | None = None
) -> dict[int, tuple[str | None, list[str]]]:
    """address -> (identified chip or None, candidates) for every address that ACKs.

    A one-byte read per address (like `i2cdetect -r`): safe for EEPROMs, unlike a quick write.
    """
    found: dict[int, tuple[str | None, list[str]]] = {}
    for addr in addresses:  # the probe is the bus's only user in its process: no lock needed
        try:
            bus.read_byte(addr)
        except OSError:
            pass
        else:
            found[addr] = (
                i2c_chips.identify(addr, _reader(bus, addr)),
                i2c_chips.candidates(addr),
            )
        if progress:
            progress.advance(note=f"0x{addr:02x}")
    return found


def _reader(bus: Any, addr: int) -> Callable[[int, int], bytes]:
    return lambda reg, n: bytes(bus.read_i2c_block_data(addr, reg, n))


def cmd_i2c(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from ..buses.backend import select
    from ..buses.i2c import bus_name, open_bus

    if not str(args.bus).isdigit():
        print(f"probe i2c: --bus {args.bus}: expected a bus number (1 for /dev/i2c-1)",
              file=sys.stderr)
        return 1
    spec = int(args.bus)
    try:
        backend = select(getattr(args, "simulate", None) or "")
        bus = open_bus(spec, backend)
    except (DeviceError, ValueError) as e:
        print(f"probe i2c: {e}", file=sys.stderr)
        return 1
    with Progress(f"scan {bus_name(spec)}", len(I2C_ADDRESSES)) as bar:
        found = scan_i2c(bus, spec, progress=bar)
        bar.finish(f"{len(found)} address(es) answer")
    if not found:
        print(f"{bus_name(spec)}: no device answers (pull-ups fitted? sensor powered?)", file=out)
        return 1
    for addr, (chip, maybe) in found.items():
        what = f"{chip} (identity register)" if chip else " or ".join(maybe) or "unknown chip"
        print(f"0x{addr:02x}  {what}", file=out)
    return 0


# -- modbus -------------------------------------------------------------------------------


MODBUS_LINE_DEFAULTS = {"baudrate": 9600, "parity": "E", "stopbits": 1, "unit": 1,
                        "timeout_ms": 1000}  # the Modbus specification's 8E1


def modbus_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="Modbus TCP device or gateway")
    p.add_argument("--port", help="TCP port with --host (502), else the RS-485 serial port")
    p.add_argument("--profile", help="a device profile (sdm630, ...): its line settings and unit "
                                     "are the defaults")
    p.add_argument("--unit", type=int, help="default: the profile's, else 1")
    p.add_argument("--read", required=True, help="40001:10 (Modicon) or holding:0:10")
    p.add_argument("--baudrate", type=int, help="default: the profile's, else 9600")
    p.add_argument("--parity", choices=("N", "E", "O"), help="default: the profile's, else E")
    p.add_argument("--stopbits", type=int, choices=(1, 2), help="default: the profile's, else 1")
    p.add_argument("--timeout-ms", type=int, help="default: the profile's, else 1000")


def line_settings(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Baud rate, parity, stop bits, unit and timeout: given on the command line, else from
    --profile, else the Modbus default; and where they came from, to print."""
    from .. import profiles

    given = {k: getattr(args, k, None) for k in MODBUS_LINE_DEFAULTS}
    prof: dict[str, Any] = {}
    if getattr(args, "profile", None):
        profiles.check(args.profile, args.probe_kind)  # the kind this probe runs as
        prof = profiles.load(args.profile).get("device", {})
    out = {k: given[k] if given[k] is not None else prof.get(k, default)
           for k, default in MODBUS_LINE_DEFAULTS.items()}
    if prof:
        source = f"from profile {args.profile}"
    elif any(given[k] is not None for k in ("baudrate", "parity", "stopbits")):
        source = "as given"
    else:
        source = "the Modbus default; many meters ship 8N1: --parity N, or --profile NAME"
    return out, source


def endpoint_of(args: argparse.Namespace) -> Any:
    """TCP with --host (and --port N), RTU with --port /dev/ttyX."""
    from ..buses.modbus import Endpoint

    line, _ = line_settings(args)
    port = str(args.port or "")
    if args.host:
        return Endpoint("tcp", host=args.host, port=int(port or 502))
    if not port or port.isdigit():
        raise ValueError("--host for Modbus TCP, or --port /dev/ttyUSB0 for Modbus RTU")
    return Endpoint(
        "rtu",
        serial_port=port,
        baudrate=line["baudrate"],
        parity=line["parity"],
        stopbits=line["stopbits"],
    )


def read_span(endpoint: Any, span: modbus_ref.Span, unit: int,
              timeout_s: float = 1.0) -> list[int] | list[bool]:
    from ..buses.modbus import ModbusBus

    bus = ModbusBus(endpoint)
    try:
        return bus.port(unit, timeout_s).read(span.table, span.address, span.count)
    finally:
        bus.close()


def cmd_modbus(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        span = modbus_ref.parse_ref(args.read)
        endpoint = endpoint_of(args)
        line, source = line_settings(args)
        if endpoint.transport != "tcp":
            print(f"line {line['baudrate']} 8{line['parity']}{line['stopbits']} ({source})",
                  file=out)
        values = read_span(endpoint, span, line["unit"], line["timeout_ms"] / 1000)
    except ValueError as e:
        print(f"probe modbus: expected {e}", file=sys.stderr)
        return 2
    except DeviceError as e:
        print(f"probe modbus: {e}", file=sys.stderr)
        return 1
    print(
        f"unit {line['unit']} on {endpoint.label}: {span.table} {span.modicon()} "
        f"(address {span.address}), {span.count} item(s)",
        file=out,
    )
    if span.table in ("coil", "discrete"):
        rows = modbus_ref.bit_rows(span, [bool(v) for v in values])
        print(modbus_ref.table_text(modbus_ref.BIT_HEADER, rows), file=out)
    else:
        rows = modbus_ref.register_rows(span, [int(v) for v in values])
        print(modbus_ref.table_text(modbus_ref.REGISTER_HEADER, rows), file=out)
    return 0


# -- serial -------------------------------------------------------------------------------


def serial_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", required=True)
    p.add_argument("--seconds", type=float, default=8.0, help="listening time over all bauds")
    p.add_argument("--bauds", help="comma-separated, default 1200..115200")
    p.add_argument("--send", help="a poll command sent every 0.5 s (escapes: \\r, \\x05)")


def listen(port: str, baud: int, seconds: float, send: bytes = b"") -> bytes:
    """What arrives on `port` at `baud` 8N1 within `seconds`, sending `send` every half second."""
    from ..buses.serial import Framing, SerialLine

    line = SerialLine(f"serial:{port}", port, Framing(baud))
    got = b""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            if send:
                line.write(send)
            got += line.read_exactly(1 << 20, min(left, 0.5) if send else left).data
    finally:
        line.close()
    return got


def cmd_serial(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    bauds = [int(b) for b in args.bauds.split(",")] if args.bauds else list(serial_guess.BAUDS)
    send = args.send.encode().decode("unicode_escape").encode("latin-1") if args.send else b""
    captures: dict[int, bytes] = {}
    with Progress(f"listen {args.port}", len(bauds)) as bar:
        for baud in bauds:
            try:
                captures[baud] = listen(args.port, baud, args.seconds / len(bauds), send)
            except DeviceError as e:
                print(f"probe serial: {e}", file=sys.stderr)
                return 1
            bar.advance(note=f"{baud} baud: {len(captures[baud])} bytes")
    _print_guess(serial_guess.guess(captures), captures, out)
    return 0 if any(captures.values()) else 1


def _print_guess(g: serial_guess.Guess, captures: dict[int, bytes], out: TextIO) -> None:
    for baud, data in captures.items():
        fmt = serial_guess.framing(data)
        print(
            f"{baud:>7} baud: {len(data):>6} bytes, {serial_guess.text_score(data, fmt):4.0%} text",
            file=out,
        )
    print(f"baudrate:   {g.baud if g.baud else 'any'}", file=out)
    print(f"framing:    {g.framing}", file=out)
    print(
        f"terminator: {g.terminator.decode('latin-1')!r}"
        if g.terminator
        else "terminator: none found",
        file=out,
    )
    for line in g.sample:
        print(f"sample:     {line!r}", file=out)
    if g.note:
        print(f"note:       {g.note}", file=out)


# -- gpio ---------------------------------------------------------------------------------


def gpio_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pins", help="comma-separated BCM numbers or names (default: free pins)")
    p.add_argument("--config", help="watch the inputs of this config's gpio devices")
    p.add_argument("--pull", choices=("up", "down", "floating"), default="floating")
    p.add_argument("--seconds", type=float, default=0, help="watch for changes this long")


class PinWatch:
    """Input pins opened through gatewayd.buses.gpio; level changes land in `changes`."""

    def __init__(
        self, pins: dict[str, int | str], pull: dict[str, str], factory: Any = None
    ) -> None:
        from ..buses.gpio import InputPin

        self.changes: queue.Queue[tuple[float, str, bool]] = queue.Queue()
        self.edges = dict.fromkeys(pins, 0)
        self.pins: dict[str, Any] = {}
        try:
            for name, pin in pins.items():
                self.pins[name] = InputPin(
                    pin, pull[name], True, self._changed(name), factory, name
                )
        except DeviceError:
            self.close()
            raise

    def _changed(self, name: str) -> Callable[[bool], None]:
        def on_change(level: bool) -> None:
            self.edges[name] += 1
            self.changes.put((time.monotonic(), name, level))

        return on_change

    def levels(self) -> dict[str, bool]:
        return {name: pin.active for name, pin in self.pins.items()}

    def close(self) -> None:
        for pin in self.pins.values():
            pin.close()


def pins_to_watch(args: argparse.Namespace) -> tuple[dict[str, int | str], dict[str, str]]:
    """Pins from --pins, else the inputs of the config's gpio devices, else the free pins."""
    if args.pins:
        pins: dict[str, int | str] = {
            f"GPIO{p}" if p.isdigit() else p: int(p) if p.isdigit() else p
            for p in args.pins.split(",")
        }
        return pins, dict.fromkeys(pins, args.pull)
    if args.config:
        from .. import config as config_mod

        cfg = config_mod.load(args.config)
        from ..sources import plugin

        uses = [u for d in cfg.devices for u in plugin(d.kind).check().pins(d)]
        return {u.name: u.pin for u in uses}, {u.name: u.pull for u in uses}
    pins = {f"GPIO{p}": p for p in FREE_PINS}
    return pins, dict.fromkeys(pins, args.pull)


def watch_gpio(watch: PinWatch, seconds: float, out: TextIO) -> None:
    """Print the levels, then every change for `seconds`, then the edge counts."""
    for name, level in watch.levels().items():
        print(f"{name:<16} {'high' if level else 'low'}", file=out)
    if seconds <= 0:
        return
    start = time.monotonic()
    while (left := start + seconds - time.monotonic()) > 0:
        try:
            when, name, level = watch.changes.get(timeout=left)
        except queue.Empty:
            break
        print(
            f"+{when - start:7.3f} s  {name:<16} -> {'high' if level else 'low'}",
            file=out,
            flush=True,
        )
    counts = ", ".join(f"{n} {c}" for n, c in watch.edges.items() if c)
    print(f"edges in {seconds:g} s: {counts or 'none'}", file=out)


def cmd_gpio(args: argparse.Namespace, out: TextIO | None = None, factory: Any = None) -> int:
    out = out or sys.stdout
    from ..errors import ConfigError

    try:
        pins, pulls = pins_to_watch(args)
        watch = PinWatch(pins, pulls, factory)
    except (ConfigError, DeviceError) as e:
        print(f"probe gpio: {e}", file=sys.stderr)
        return 1
    try:
        watch_gpio(watch, args.seconds, out)
    except KeyboardInterrupt:
        pass
    finally:
        watch.close()
    return 0
