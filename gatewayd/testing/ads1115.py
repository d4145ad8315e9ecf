"""Register-level model of the TI ADS1115 16-bit ADC (datasheet SBAS444), a `Chip` for SimBus.

Four registers behind a pointer (conversion, config, lo_thresh, hi_thresh), 16-bit big-endian.
Inputs are voltages per AIN pin (numbers, or functions of time for moving signals); a result
saturates at 0x7FFF/0x8000 outside the full-scale range. A conversion takes 1/DR against an
injectable clock: in single-shot mode writing OS=1 starts one and OS reads 0 until it is done;
in continuous mode results follow every 1/DR. The ALERT/RDY pin is modelled as `alert_low`:
the comparator (traditional or window, latching or not, after 1/2/4 conversions), or
conversion-ready when hi_thresh MSB = 1 and lo_thresh MSB = 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..sources.i2c import ads1115_codec as ads

Signal = float | Callable[[float], float]
RDY_PULSE_S = 8e-6  # continuous mode: ALERT/RDY pulses for about 8 us per conversion


class ADS1115:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.inputs: list[Signal] = [0.0, 0.0, 0.0, 0.0]
        self.reset()

    def reset(self) -> None:
        self.pointer = ads.REG_CONVERSION
        self.regs = [0, ads.CONFIG_RESET, ads.LO_THRESH_RESET, ads.HI_THRESH_RESET]
        self.busy_until: float | None = None  # end of the running conversion
        self.last_done = -1.0  # when the last conversion finished
        self.over_count = 0  # successive conversions past a threshold (COMP_QUE)
        self.alert_active = False
        self.conversions = 0

    # -- test controls ----------------------------------------------------------------
    def set_input(self, pin: int, value: Signal) -> None:
        """Voltage on AIN`pin` against GND: a number or a function of the clock."""
        self.inputs[pin] = value

    def _volts(self, pin: int | None, t: float) -> float:
        if pin is None:
            return 0.0
        v = self.inputs[pin]
        return v(t) if callable(v) else v

    # -- conversion engine --------------------------------------------------------------
    @property
    def _cfg(self) -> dict[str, int | float | bool]:
        return ads.decode_config(self.regs[ads.REG_CONFIG])

    def _advance(self) -> None:
        """Finish conversions that are due by now."""
        now = self.clock()
        if self.busy_until is None or now < self.busy_until:
            return
        period = ads.conversion_s(int(self._cfg["rate_sps"]))
        if self._cfg["single_shot"]:
            self._finish(self.busy_until)
            self.busy_until = None
            return
        due = int((now - self.busy_until) // period) + 1
        for k in range(max(0, due - 4), due):  # the comparator looks at the last four at most
            self._finish(self.busy_until + k * period)
        self.busy_until += due * period

    def _finish(self, t: float) -> None:
        pos, neg = ads.MUX[int(self._cfg["mux"])]
        volts = self._volts(pos, t) - self._volts(neg, t)
        code = ads.volts_to_code(volts, float(self._cfg["fsr_v"]))
        self.regs[ads.REG_CONVERSION] = code & 0xFFFF
        self.last_done = t
        self.conversions += 1
        self._compare(code)

    def _compare(self, code: int) -> None:
        cfg = self._cfg
        if cfg["comp_que"] == ads.COMP_QUE_DISABLE or self._ready_mode:
            return
        lo, hi = (_signed(self.regs[ads.REG_LO_THRESH]), _signed(self.regs[ads.REG_HI_THRESH]))
        beyond = code > hi or (bool(cfg["comp_mode"]) and code < lo)
        self.over_count = self.over_count + 1 if beyond else 0
        if self.over_count >= (1, 2, 4)[int(cfg["comp_que"])]:
            self.alert_active = True
        elif not cfg["comp_lat"] and (code < lo if not cfg["comp_mode"] else lo <= code <= hi):
            self.alert_active = False

    @property
    def _ready_mode(self) -> bool:
        hi, lo = self.regs[ads.REG_HI_THRESH], self.regs[ads.REG_LO_THRESH]
        return bool(hi & 0x8000) and not lo & 0x8000

    @property
    def alert_low(self) -> bool:
        """True when ALERT/RDY is driven to its active level (COMP_POL picks low or high)."""
        self._advance()
        if self._cfg["comp_que"] == ads.COMP_QUE_DISABLE:
            return False  # pin held inactive
        if not self._ready_mode:
            return self.alert_active
        if self._cfg["single_shot"]:
            return self.busy_until is None and self.last_done >= 0
        return 0 <= self.clock() - self.last_done < RDY_PULSE_S

    # -- the Chip protocol ----------------------------------------------------------------
    def read(self, reg: int, n: int) -> bytes:
        if reg >= 0:
            self.pointer = reg & 0x03
        self._advance()
        value = self.regs[self.pointer]
        if self.pointer == ads.REG_CONFIG:
            value = value & ~ads.OS | (0 if self.busy_until is not None else ads.OS)
        if self.pointer == ads.REG_CONVERSION and self._cfg["comp_lat"]:
            self.alert_active = False  # reading the result clears a latched alert
        word = value.to_bytes(2, "big")
        return (word * (n // 2 + 1))[:n]

    def write(self, reg: int, data: bytes) -> None:
        self.pointer = reg & 0x03
        if len(data) != 2 or self.pointer == ads.REG_CONVERSION:
            return  # a pointer-only write, or the read-only conversion register
        self._advance()
        word = int.from_bytes(data, "big")
        if self.pointer != ads.REG_CONFIG:
            self.regs[self.pointer] = word
            return
        self.regs[ads.REG_CONFIG] = word & ~ads.OS
        period = ads.conversion_s(int(self._cfg["rate_sps"]))
        if not word & ads.MODE_SINGLE:
            self.busy_until = self.clock() + period  # (re)start continuous conversions
        elif word & ads.OS and self.busy_until is None:  # a running one goes on to its end
            self.busy_until = self.clock() + period


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word
