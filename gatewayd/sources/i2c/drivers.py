"""Chip drivers: the register conversations of the ADS1115 and the BME280 over an I2CDevice.

They raise gatewayd errors (through I2CDevice) and never retry or log: the supervisor does.
`sleep` is injectable so tests and benchmarks with a simulated clock do not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ...buses.i2c import I2CDevice
from ...errors import CommError, DeviceError
from ...model import Quality
from . import ads1115_codec as ads
from . import bme280_codec as bme

Sleep = Callable[[float], None]
POLLS = 20  # status reads before a conversion counts as stuck


class Ads1115:
    """Single-shot conversions (config, wait 1/DR, read) or one channel converting continuously."""

    def __init__(self, dev: I2CDevice, rate_sps: int = 128, sleep: Sleep = time.sleep) -> None:
        self.dev, self.rate_sps, self.sleep = dev, rate_sps, sleep

    def open(self) -> None:
        self.dev.read(ads.REG_CONFIG, 2)  # an absent chip NACKs here

    def convert(self, mux: int, fsr_v: float) -> int:
        """One single-shot conversion; holds the bus from the config write to the result read."""
        period = ads.conversion_s(self.rate_sps)
        word = ads.config_word(mux, fsr_v, self.rate_sps)
        with self.dev.transaction():
            self.dev.write(ads.REG_CONFIG, word.to_bytes(2, "big"))
            self.sleep(period * 1.1 + 1e-4)  # the oscillator may run 10 % slow
            for _ in range(POLLS):
                if ads.decode_code(self.dev.read(ads.REG_CONFIG, 2)) & ads.OS:
                    return ads.decode_code(self.dev.read(ads.REG_CONVERSION, 2))
                self.sleep(period / 10)
        raise CommError(f"{self.dev.label}: conversion did not complete", Quality.BAD_TIMEOUT)

    def start_continuous(self, mux: int, fsr_v: float) -> None:
        word = ads.config_word(mux, fsr_v, self.rate_sps, single_shot=False, start=False)
        with self.dev.transaction():
            self.dev.write(ads.REG_CONFIG, word.to_bytes(2, "big"))
            self.sleep(ads.conversion_s(self.rate_sps) * 1.1 + 1e-4)

    def latest(self) -> int:
        """The last result of continuous conversions."""
        return ads.decode_code(self.dev.read(ads.REG_CONVERSION, 2))

    def power_down(self) -> None:
        word = ads.config_word(4, 2.048, self.rate_sps, start=False)
        self.dev.write(ads.REG_CONFIG, word.to_bytes(2, "big"))


@dataclass(frozen=True)
class Bme280Settings:
    oversampling_temperature: int = 1
    oversampling_pressure: int = 1
    oversampling_humidity: int = 1
    iir_filter: int = 0
    standby_ms: float = 1000
    normal_mode: bool = False
    float_compensation: bool = False


class Bme280:
    """Forced mode (trigger, wait, burst-read) or normal mode (burst-read the latest values)."""

    def __init__(self, dev: I2CDevice, settings: Bme280Settings, sleep: Sleep = time.sleep) -> None:
        self.dev, self.s, self.sleep = dev, settings, sleep
        self.cal: bme.Calibration | None = None

    def open(self) -> None:
        chip_id = self.dev.read(bme.REG_ID, 1)[0]
        if chip_id != bme.CHIP_ID:
            raise DeviceError(f"{self.dev.label}: chip id 0x{chip_id:02x}, expected 0x60",
                              Quality.BAD_WRONG_DEVICE)
        self.dev.write(bme.REG_RESET, bytes([bme.RESET_WORD]))
        self.sleep(0.002)  # start-up: trimming values are copied from NVM
        self._wait_status(bme.STATUS_IM_UPDATE, "NVM copy")
        self.cal = bme.parse_calibration(self.dev.read(bme.REG_CALIB_A, bme.CALIB_A_LEN),
                                         self.dev.read(bme.REG_CALIB_B, bme.CALIB_B_LEN))
        s = self.s
        config = bme.STANDBY_MS[s.standby_ms] << 5 | bme.IIR_FILTER[s.iir_filter] << 2
        self.dev.write(bme.REG_CTRL_HUM, bytes([bme.OVERSAMPLING[s.oversampling_humidity]]))
        self.dev.write(bme.REG_CONFIG, bytes([config]))  # while asleep: normal mode may ignore it
        if s.normal_mode:
            self.dev.write(bme.REG_CTRL_MEAS, bytes([self._ctrl_meas(bme.MODE_NORMAL)]))

    def _ctrl_meas(self, mode: int) -> int:
        s = self.s
        return (bme.OVERSAMPLING[s.oversampling_temperature] << 5
                | bme.OVERSAMPLING[s.oversampling_pressure] << 2 | mode)

    def _wait_status(self, bit: int, what: str) -> None:
        for _ in range(POLLS):
            if not self.dev.read(bme.REG_STATUS, 1)[0] & bit:
                return
            self.sleep(0.001)
        raise CommError(f"{self.dev.label}: {what} did not finish", Quality.BAD_TIMEOUT)

    def sample(self) -> tuple[float | None, float | None, float | None]:
        """(°C, Pa, %RH); None for a measurement that is switched off."""
        if self.cal is None:
            raise CommError(f"{self.dev.label}: not opened")
        s = self.s
        with self.dev.transaction():
            if not s.normal_mode:
                self.dev.write(bme.REG_CTRL_MEAS, bytes([self._ctrl_meas(bme.MODE_FORCED)]))
                self.sleep(bme.measure_time_ms(s.oversampling_temperature, s.oversampling_pressure,
                                               s.oversampling_humidity) / 1000)
                self._wait_status(bme.STATUS_MEASURING, "measurement")
            adc_p, adc_t, adc_h = bme.parse_raw(self.dev.read(bme.REG_DATA, 8))
        compensate = bme.compensate_float if s.float_compensation else bme.compensate_int
        t, p, h = compensate(adc_p, adc_t, adc_h, self.cal)
        return (t if adc_t != bme.SKIPPED_20BIT else None,
                p if adc_p != bme.SKIPPED_20BIT else None,
                h if adc_h != bme.SKIPPED_16BIT else None)
