"""Helpers of the toolkit tests: a UART line model, a small ANSI screen, and the rig that
`gatewayd test` and the live view both run (a PLC simulator, the demo world's devices, a
meter nobody answers for)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from gatewayd.sources.modbus.decode import encode_value
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

SPINDLE_C = 61.5  # the PLC's holding registers 0-1, as float32

# Devices of the demo world (`--simulate demo`): I2C bus 1 has the 4-20 mA ADC with a broken
# loop on channel 3, bus 2 the pump's accelerometer; pins 17 and 22 are the lathe's.
SIMULATED = """
[[devices]]
kind = "analog"
name = "loops"
bus = 1
period_ms = 300
points = [
  { alias = 2, name = "tank.level", unit = "m", channel = 0, low = 0.0, high = 5.0 },
  { alias = 3, name = "spare.loop", unit = "%", channel = 3, low = 0.0, high = 100.0 },
]

[[devices]]
kind = "gpio"
name = "lathe-signals"
period_ms = 500
inputs = [ { name = "running", pin = 17 }, { name = "parts", pin = 22, debounce_ms = 5 } ]
points = [
  { alias = 4, name = "lathe.running", role = "state", input = "running" },
  { alias = 5, name = "lathe.parts", role = "counter", input = "parts" },
]

[[devices]]
kind = "vibration"
name = "pump-de"
bus = 2
odr_hz = 800
period_ms = 20
window_len = 512
shaft_hz = 24.75
alias_base = 100
features = ["rms_g", "iso_zone"]
"""


def gateway(name: str, dead_port: int, store: Path) -> str:
    """The head of a config whose broker is not there (commissioning day)."""
    return (f'[gateway]\nid = "{name}"\n[broker]\nurl = "mqtt://127.0.0.1:{dead_port}"\n'
            f'[store]\npath = "{store}"\n')


def plc_device(port: int) -> str:
    """The Modbus device of `spindle_plc`, polled every 200 ms."""
    return f"""
[[devices]]
kind = "modbus"
name = "plc"
port = {port}
period_ms = 200
[[devices.points]]
alias = 1
name = "spindle.temp"
unit = "°C"
register = 0
data_type = "float32"
resolution = 0.1
"""


def dead_meter(port: int | str) -> str:
    """A Modbus meter on a port nobody answers (or, as a string, a wrong value for `port`)."""
    return f"""
[[devices]]
kind = "modbus"
name = "dead-meter"
port = {port}
timeout_ms = 100
retries = 0
points = [ {{ alias = 9, name = "meter.power", unit = "W", register = 0 }} ]
"""


@contextlib.contextmanager
def spindle_plc() -> Iterator[ModbusSim]:
    """A Modbus TCP simulator on loopback whose unit 1 reports the spindle at SPINDLE_C."""
    with ModbusSim({1: RegisterModel(holding=10)}) as sim:
        sim.model(1).set("holding", 0, encode_value(SPINDLE_C, "float32"))
        yield sim


def uart_bits(
    data: bytes, baud: int, rate: int, data_bits: int = 8, parity: str = "N"
) -> list[int]:
    """The line level sampled `rate` times a second while `data` is sent at `baud` (idle high)."""
    per_bit = rate / baud
    bits: list[int] = [1] * 20
    for byte in data:
        frame = [0] + [byte >> i & 1 for i in range(data_bits)]
        if parity != "N":
            ones = sum(frame[1:])
            frame.append(ones & 1 if parity == "E" else 1 - (ones & 1))
        frame += [1, 1]  # stop bit and a little idle
        for level in frame:
            start = len(bits)
            bits += [level] * (round((len(bits) / per_bit + 1) * per_bit) - start or 1)
    return [*bits, *[1] * 20]


def uart_receive(line: list[int], rate: int, baud: int) -> bytes:
    """What a UART at `baud`, 8N1, makes of the sampled line: start edge, mid-bit samples."""
    per_bit = rate / baud
    out = bytearray()
    i = 1
    while i < len(line):
        if line[i - 1] == 1 and line[i] == 0:
            mids = [int(i + (k + 1.5) * per_bit) for k in range(8)]
            stop = int(i + 9.5 * per_bit)
            if stop >= len(line):
                break
            out.append(sum(line[m] << k for k, m in enumerate(mids)))
            i = stop  # a framing error still ends the character here
        i += 1
    return bytes(out)


def misheard(
    data: bytes, sent_baud: int, heard_baud: int, data_bits: int = 8, parity: str = "N"
) -> bytes:
    """`data` sent at `sent_baud` as a receiver set to `heard_baud` gets it."""
    rate = 1_152_000
    return uart_receive(uart_bits(data, sent_baud, rate, data_bits, parity), rate, heard_baud)


class Screen:
    """Enough of a terminal for `gatewayd tail`: home, erase line/below/all, CR, LF, text."""

    CSI = re.compile(r"\x1b\[(\??)([0-9;]*)([A-Za-z])")

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.r = self.c = 0

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            m = self.CSI.match(text, i)
            if m:
                self._csi(m.group(1), m.group(3))
                i = m.end()
                continue
            self._char(text[i])
            i += 1

    def _csi(self, private: str, final: str) -> None:
        if private:
            return
        if final == "H":
            self.r = self.c = 0
        elif final == "K":
            self.grid[self.r][self.c :] = [" "] * (self.cols - self.c)
        elif final == "J":
            self.grid[self.r][self.c :] = [" "] * (self.cols - self.c)
            for row in self.grid[self.r + 1 :]:
                row[:] = [" "] * self.cols

    def _char(self, ch: str) -> None:
        if ch == "\r":
            self.c = 0
        elif ch == "\n":
            if self.r == self.rows - 1:
                self.grid = [*self.grid[1:], [" "] * self.cols]
            else:
                self.r += 1
        elif ch >= " " and self.c < self.cols:
            self.grid[self.r][self.c] = ch
            self.c += 1

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.grid]
