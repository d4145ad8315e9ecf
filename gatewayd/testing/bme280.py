"""Register-level model of the Bosch BME280 (datasheet BST-BME280-DS002), a `Chip` for SimBus.

Chip id 0x60, soft reset by writing 0xB6 to 0xE0, ctrl_hum (applied on the next ctrl_meas
write), ctrl_meas, config, the status measuring bit, calibration at 0x88..0xA1 and 0xE1..0xE7,
and raw ADC values at 0xF7..0xFE. The raw values are found by inverting the datasheet's integer
compensation (a search over the monotonic formulas), so a set temperature, pressure and humidity
come back out of the formulas; resolution follows oversampling (16 + osrs - 1 bits, 20 with
the IIR filter), the IIR filter smooths temperature and pressure, skipped measurements read
0x80000/0x8000. Forced and normal modes run against an injectable clock. Reads auto-increment;
a write carries register/value pairs, as on the real chip's I2C interface.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..sources.i2c import bme280_codec as bme
from ..sources.i2c.bme280_codec import Calibration

Signal = float | Callable[[float], float]
OSRS_FACTOR = (0, 1, 2, 4, 8, 16, 16, 16)
FILTER_COEFF = (1, 2, 4, 8, 16, 16, 16, 16)  # 1 = off
STANDBY_S = (0.0005, 0.0625, 0.125, 0.25, 0.5, 1.0, 0.010, 0.020)
# Trimming values of the kind a real part carries (T and P those of Bosch's worked example).
TYPICAL = Calibration(T1=27504, T2=26435, T3=-1000, P1=36477, P2=-10685, P3=3024, P4=2855,
                      P5=140, P6=-7, P7=15500, P8=-14600, P9=6000,
                      H1=75, H2=362, H3=0, H4=313, H5=50, H6=30)


class BME280:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 calibration: Calibration = TYPICAL, chip_id: int = bme.CHIP_ID) -> None:
        self.clock = clock
        self.cal = calibration
        self.chip_id = chip_id
        self.temperature_c: Signal = 21.5
        self.pressure_pa: Signal = 101325.0
        self.humidity_pct: Signal = 45.0
        self.measurements = 0
        self.reset()

    def reset(self) -> None:
        self.regs = bytearray(256)
        block_a, block_b = bme.pack_calibration(self.cal)
        self.regs[bme.REG_CALIB_A:bme.REG_CALIB_A + len(block_a)] = block_a
        self.regs[bme.REG_CALIB_B:bme.REG_CALIB_B + len(block_b)] = block_b
        self.regs[bme.REG_ID] = self.chip_id
        self.regs[bme.REG_DATA:bme.REG_DATA + 8] = bme.pack_raw(
            bme.SKIPPED_20BIT, bme.SKIPPED_20BIT, bme.SKIPPED_16BIT)
        self.osrs_h = 0  # ctrl_hum as latched by the last ctrl_meas write
        self.busy_until: float | None = None
        self.cycle_start = 0.0  # normal mode: start of the current measurement
        self.iir: tuple[int, int] | None = None  # filtered (adc_T, adc_P)
        self.nvm_until = self.clock() + 0.002  # im_update while trimming values are copied

    # -- the environment ----------------------------------------------------------------
    def _value(self, s: Signal, t: float) -> float:
        return s(t) if callable(s) else s

    # -- timing ---------------------------------------------------------------------------
    @property
    def _mode(self) -> int:
        return self.regs[bme.REG_CTRL_MEAS] & 0b11

    def _osrs(self) -> tuple[int, int, int]:
        meas = self.regs[bme.REG_CTRL_MEAS]
        return OSRS_FACTOR[meas >> 5], OSRS_FACTOR[meas >> 2 & 7], OSRS_FACTOR[self.osrs_h]

    def _measure_s(self) -> float:
        return bme.measure_time_ms(*self._osrs(), typical=True) / 1000

    def _advance(self) -> None:
        now = self.clock()
        if self._mode == bme.MODE_NORMAL:
            cycle = self._measure_s() + STANDBY_S[self.regs[bme.REG_CONFIG] >> 5]
            done = int((now - self.cycle_start - self._measure_s()) // cycle) + 1
            for k in range(max(0, done - 200), done):  # 200 cycles settle any IIR filter
                self._measure(self.cycle_start + k * cycle + self._measure_s())
            if done > 0:
                self.cycle_start += done * cycle
            self.busy_until = self.cycle_start + self._measure_s()
        elif self.busy_until is not None and now >= self.busy_until:
            self._measure(self.busy_until)
            self.busy_until = None
            self.regs[bme.REG_CTRL_MEAS] &= ~0b11  # forced mode falls back to sleep

    def _measure(self, t: float) -> None:
        osrs_t, osrs_p, osrs_h = self._osrs()
        coeff = FILTER_COEFF[self.regs[bme.REG_CONFIG] >> 2 & 7]
        adc_t = _quantize(_find_adc_t(self._value(self.temperature_c, t), self.cal), osrs_t, coeff)
        t_fine = bme.t_fine_int(adc_t, self.cal)
        pascal = self._value(self.pressure_pa, t)
        adc_p = _quantize(_find_adc_p(pascal, t_fine, self.cal), osrs_p, coeff)
        adc_h = _find_adc_h(self._value(self.humidity_pct, t), t_fine, self.cal)
        if coeff > 1 and self.iir is not None:
            old_t, old_p = self.iir
            adc_t = (old_t * (coeff - 1) + adc_t) // coeff
            adc_p = (old_p * (coeff - 1) + adc_p) // coeff
        self.iir = (adc_t, adc_p)
        self.regs[bme.REG_DATA:bme.REG_DATA + 8] = bme.pack_raw(
            adc_p if osrs_p else bme.SKIPPED_20BIT, adc_t if osrs_t else bme.SKIPPED_20BIT,
            adc_h if osrs_h else bme.SKIPPED_16BIT)
        self.measurements += 1

    # -- the Chip protocol ----------------------------------------------------------------
    def read(self, reg: int, n: int) -> bytes:
        self._advance()
        start = reg if reg >= 0 else bme.REG_ID
        status = (bme.STATUS_MEASURING if self.busy_until is not None and (
            self._mode != bme.MODE_NORMAL or self.clock() >= self.cycle_start) else 0)
        status |= bme.STATUS_IM_UPDATE if self.clock() < self.nvm_until else 0
        self.regs[bme.REG_STATUS] = status
        return bytes(self.regs[(start + i) & 0xFF] for i in range(n))

    def write(self, reg: int, data: bytes) -> None:
        pairs = [(reg, data[0])] if data else []
        pairs += [(data[i], data[i + 1]) for i in range(1, len(data) - 1, 2)]
        for r, v in pairs:
            self._write_one(r, v)

    def _write_one(self, reg: int, value: int) -> None:
        self._advance()
        if reg == bme.REG_RESET:
            if value == bme.RESET_WORD:
                self.reset()
        elif reg == bme.REG_CTRL_HUM:
            self.regs[reg] = value & 0x07
        elif reg == bme.REG_CONFIG:
            if self._mode != bme.MODE_NORMAL:  # writes in normal mode may be ignored: we do
                self.regs[reg] = value & 0xFD
        elif reg == bme.REG_CTRL_MEAS:
            self.regs[reg] = value
            self.osrs_h = self.regs[bme.REG_CTRL_HUM]
            if value & 0b11 == bme.MODE_NORMAL:
                self.cycle_start = self.clock()
            if value & 0b11 in (0b01, 0b10):  # both codes mean forced
                self.busy_until = self.clock() + self._measure_s()


def _lower_bound(lo: int, hi: int, ok: Callable[[int], bool]) -> int:
    """Smallest x in [lo, hi] with ok(x), for ok monotonic False..True (hi if none)."""
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid + 1, hi)
    return lo


def _find_adc_t(celsius: float, c: Calibration) -> int:
    return _lower_bound(0, 0xFFFFF, lambda a: bme.t_fine_int(a, c) / 5120 >= celsius)


def _find_adc_p(pascal: float, t_fine: int, c: Calibration) -> int:
    return _lower_bound(0, 0xFFFFF, lambda a: bme.pressure_int(a, t_fine, c) / 256 <= pascal)


def _find_adc_h(percent: float, t_fine: int, c: Calibration) -> int:
    return _lower_bound(0, 0xFFFF, lambda a: bme.humidity_int(a, t_fine, c) / 1024 >= percent)


def _quantize(adc: int, factor: int, coeff: int) -> int:
    """Resolution: 16 bits at x1 .. 20 bits at x16 without the IIR filter, 20 with it."""
    bits = 20 if coeff > 1 or factor == 0 else 15 + (1, 2, 4, 8, 16).index(factor) + 1
    step = 1 << (20 - bits)
    return min(0xFFFFF, (adc + step // 2) // step * step)
