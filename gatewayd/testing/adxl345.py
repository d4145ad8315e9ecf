"""Register-level model of the ADXL345 3-axis accelerometer (Analog Devices datasheet, Rev. G).

What is modelled: DEVID, OFSX..OFSZ, BW_RATE (output data rate codes, LOW_POWER kept but
ignored), POWER_CTL (Measure bit), INT_ENABLE/INT_MAP (stored), INT_SOURCE (DATA_READY,
Watermark, Overrun), DATA_FORMAT (FULL_RES, range; right-justified), DATAX0..DATAZ1 and the
32-entry FIFO (bypass, FIFO, stream; trigger mode behaves as stream). Samples are made at the
data rate from a signal model (g per axis) against an injectable clock, so a reader that is
too slow loses samples exactly as the chip would. A read that touches the data registers pops
one FIFO entry when it ends, which is why a driver reads all six bytes in one transaction.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

DEVID, OFSX, BW_RATE, POWER_CTL, INT_ENABLE, INT_MAP, INT_SOURCE = (
    0x00,
    0x1E,
    0x2C,
    0x2D,
    0x2E,
    0x2F,
    0x30,
)
DATA_FORMAT, DATAX0, DATAZ1, FIFO_CTL, FIFO_STATUS = 0x31, 0x32, 0x37, 0x38, 0x39
FIFO_DEPTH = 32
DATA_READY, WATERMARK, OVERRUN = 0x80, 0x02, 0x01
MEASURE = 0x08
BYPASS, FIFO, STREAM, TRIGGER = 0, 1, 2, 3
LSB_PER_G_FULL_RES = 256  # 3.9 mg/LSB typical
Signal = Callable[[np.ndarray], np.ndarray]


def odr_hz(code: int) -> float:
    """BW_RATE rate code (0..15) -> output data rate: 3200 Hz halves per step down."""
    return 3200.0 / float(2 ** (15 - (code & 0x0F)))


def _still(t: np.ndarray) -> np.ndarray:
    return np.zeros(len(t))


def _gravity(t: np.ndarray) -> np.ndarray:
    return np.ones(len(t))


class Adxl345:
    """The chip; `signals` give acceleration in g for x, y, z at sample times (seconds)."""

    def __init__(
        self,
        x: Signal = _still,
        y: Signal = _still,
        z: Signal = _gravity,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signals = (x, y, z)
        self.clock = clock
        self.regs = bytearray(0x3A)
        self.regs[DEVID] = 0xE5
        self.regs[BW_RATE] = 0x0A  # 100 Hz at reset
        self.fifo: deque[bytes] = deque()
        self.overrun = False
        self.samples_made = 0
        self._next_t: float | None = None  # time of the next sample while measuring

    # -- the Chip protocol --------------------------------------------------------------
    def read(self, reg: int, n: int) -> bytes:
        self._advance()
        reg = max(reg, 0)
        out = bytes(self._register(r) for r in range(reg, reg + n))
        if reg <= DATAZ1 and reg + n > DATAX0 and self.fifo:
            self.fifo.popleft()  # the FIFO shifts when a read of the data registers ends
            self.overrun = False
        return out

    def write(self, reg: int, data: bytes) -> None:
        self._advance()
        for i, value in enumerate(data):
            self._store(reg + i, value)

    # -- registers ----------------------------------------------------------------------
    def _register(self, r: int) -> int:
        if DATAX0 <= r <= DATAZ1:
            entry = self.fifo[0] if self.fifo else bytes(6)
            return entry[r - DATAX0]
        if r == INT_SOURCE:
            return self._int_source()
        if r == FIFO_STATUS:
            return min(len(self.fifo), FIFO_DEPTH) & 0x3F
        return self.regs[r] if r < len(self.regs) else 0

    def _store(self, r: int, value: int) -> None:
        if r in (DEVID, INT_SOURCE, FIFO_STATUS) or DATAX0 <= r <= DATAZ1 or r >= len(self.regs):
            return  # read-only
        self.regs[r] = value
        if r == POWER_CTL:
            self._next_t = self.clock() + self.period if value & MEASURE else None
        if r == FIFO_CTL and self.mode == BYPASS:
            self.fifo.clear()
        if r == BW_RATE and self._next_t is not None:
            self._next_t = self.clock() + self.period

    def _int_source(self) -> int:
        bits = DATA_READY if self.fifo else 0
        if self.mode != BYPASS and len(self.fifo) >= max(1, self.regs[FIFO_CTL] & 0x1F):
            bits |= WATERMARK
        return bits | (OVERRUN if self.overrun else 0)

    @property
    def mode(self) -> int:
        return self.regs[FIFO_CTL] >> 6

    @property
    def period(self) -> float:
        return 1.0 / odr_hz(self.regs[BW_RATE])

    @property
    def lsb_per_g(self) -> float:
        fmt = self.regs[DATA_FORMAT]
        return LSB_PER_G_FULL_RES if fmt & 0x08 else LSB_PER_G_FULL_RES / (1 << (fmt & 0x03))

    @property
    def code_limit(self) -> int:
        """Largest code: 10 bits, or in full resolution 10..13 bits as the range grows."""
        fmt = self.regs[DATA_FORMAT]
        bits = 10 + (fmt & 0x03) if fmt & 0x08 else 10
        return (1 << (bits - 1)) - 1

    # -- sampling -----------------------------------------------------------------------
    def _advance(self) -> None:
        """Make every sample due by now; only the ones the FIFO can still hold matter."""
        if self._next_t is None:
            return
        now, period = self.clock(), self.period
        due = int((now - self._next_t) // period) + 1 if now >= self._next_t else 0
        if due <= 0:
            return
        depth = 1 if self.mode == BYPASS else FIFO_DEPTH
        room = depth - len(self.fifo)
        keep = min(due, depth) if self.mode != FIFO else min(due, room)
        lost = due - keep if self.mode == FIFO else max(0, due - room)
        first = due - keep if self.mode != FIFO else 0
        t = self._next_t + (np.arange(keep) + first) * period
        self._push(t)
        self.overrun |= lost > 0
        self._next_t += due * period
        self.samples_made += due

    def _push(self, t: np.ndarray) -> None:
        limit, scale = self.code_limit, self.lsb_per_g
        axes = []
        for axis, signal in enumerate(self.signals):
            offset_g = (
                int.from_bytes(bytes([self.regs[OFSX + axis]]), "little", signed=True) * 0.0156
            )
            codes = np.round((signal(t) + offset_g) * scale)  # OFSx: 15.6 mg/LSB
            axes.append(np.clip(codes, -limit - 1, limit).astype("<i2"))
        frames = np.stack(axes, axis=1).tobytes()
        depth = 1 if self.mode == BYPASS else FIFO_DEPTH
        for i in range(len(t)):
            if len(self.fifo) == depth:
                self.fifo.popleft()  # stream: the oldest entry is overwritten
            self.fifo.append(frames[6 * i : 6 * i + 6])
