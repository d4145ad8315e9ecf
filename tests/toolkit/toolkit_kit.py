"""Helpers of the toolkit tests: a UART line model and a small ANSI screen."""

from __future__ import annotations

import re


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
