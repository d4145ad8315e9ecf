"""An I2C bus with register-level chip models behind the interface smbus2's SMBus offers.

A chip model implements the `Chip` protocol: one I2C *transaction* at a time, because many
chips do something on the transaction (auto-increment, popping a FIFO entry, starting a
conversion) that a per-byte model would get wrong. An address with no chip NACKs, which Linux
reports as OSError(ENXIO) or OSError(EREMOTEIO); `SimBus.fail(addr)` makes a present chip NACK.
"""

from __future__ import annotations

import errno
import threading
from typing import Protocol


class Chip(Protocol):
    def read(self, reg: int, n: int) -> bytes:
        """Master writes the register pointer `reg`, repeated start, reads `n` bytes.

        `reg` is -1 for a plain read that starts at the chip's current pointer."""

    def write(self, reg: int, data: bytes) -> None:
        """Master writes the register pointer `reg` followed by `data`."""


class SimBus:
    """Drop-in for smbus2.SMBus over chip models; counts transactions for benchmarks."""

    def __init__(self, chips: dict[int, Chip] | None = None) -> None:
        self.chips: dict[int, Chip] = dict(chips or {})
        self.nacking: set[int] = set()
        self.transactions = 0
        self._lock = threading.Lock()

    # -- test controls ----------------------------------------------------------------
    def attach(self, addr: int, chip: Chip) -> None:
        self.chips[addr] = chip

    def fail(self, addr: int, on: bool = True) -> None:
        (self.nacking.add if on else self.nacking.discard)(addr)

    def _chip(self, addr: int) -> Chip:
        self.transactions += 1
        if addr in self.nacking:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        chip = self.chips.get(addr)
        if chip is None:
            raise OSError(errno.ENXIO, "No such device or address")
        return chip

    # -- the smbus2.SMBus surface -------------------------------------------------------
    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        with self._lock:
            return self._chip(i2c_addr).read(register, 1)[0]

    def write_byte_data(self, i2c_addr: int, register: int, value: int, force: bool | None = None) -> None:
        with self._lock:
            self._chip(i2c_addr).write(register, bytes([value & 0xFF]))

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        with self._lock:
            lo, hi = self._chip(i2c_addr).read(register, 2)  # SMBus words are little-endian
            return lo | hi << 8

    def write_word_data(self, i2c_addr: int, register: int, value: int, force: bool | None = None) -> None:
        with self._lock:
            self._chip(i2c_addr).write(register, bytes([value & 0xFF, value >> 8 & 0xFF]))

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        if not 0 < length <= 32:
            raise ValueError("Desired block length over 32 bytes")
        with self._lock:
            return list(self._chip(i2c_addr).read(register, length))

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None:
        if len(data) > 32:
            raise ValueError("Data length cannot exceed 32 bytes")
        with self._lock:
            self._chip(i2c_addr).write(register, bytes(data))

    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int:
        """A quick read with no register pointer write: what `probe i2c` uses."""
        with self._lock:
            return self._chip(i2c_addr).read(-1, 1)[0]

    def close(self) -> None:
        pass

    def __enter__(self) -> SimBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
