"""The ADS1115 and BME280 models against their datasheets, driven through SimBus like smbus2."""

from __future__ import annotations

import pytest

from gatewayd.sources.i2c import ads1115_codec as ads
from gatewayd.sources.i2c import bme280_codec as bme
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.bme280 import BME280
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus

ADC, ENV = 0x48, 0x76


def word(bus: SimBus, reg: int) -> int:
    hi, lo = bus.read_i2c_block_data(ADC, reg, 2)
    return hi << 8 | lo


def put(bus: SimBus, reg: int, value: int) -> None:
    bus.write_i2c_block_data(ADC, reg, [value >> 8, value & 0xFF])


@pytest.fixture
def adc(clock: ManualClock) -> tuple[SimBus, ADS1115]:
    chip = ADS1115(clock)
    return SimBus({ADC: chip}), chip


def test_ads1115_reset_values(adc: tuple[SimBus, ADS1115]) -> None:
    """Config reads 0x8583, lo_thresh 0x8000, hi_thresh 0x7FFF, conversion 0 after power-up."""
    bus, _ = adc
    assert [word(bus, r) for r in range(4)] == [0x0000, 0x8583, 0x8000, 0x7FFF]


def test_ads1115_single_shot_takes_one_over_dr(adc: tuple[SimBus, ADS1115],
                                               clock: ManualClock) -> None:
    """OS reads 0 while converting for 1/DR, then 1; then the result is in the conversion reg."""
    bus, chip = adc
    chip.set_input(0, 1.0)
    put(bus, ads.REG_CONFIG, ads.config_word(4, 2.048, 8))
    assert not word(bus, ads.REG_CONFIG) & ads.OS
    clock.sleep(0.124)
    assert not word(bus, ads.REG_CONFIG) & ads.OS and word(bus, 0) == 0
    clock.sleep(0.002)
    assert word(bus, ads.REG_CONFIG) & ads.OS
    assert word(bus, 0) == 16000


@pytest.mark.parametrize(("fsr", "volts", "code"), [
    (6.144, 3.0, 16000), (4.096, 3.0, 24000), (2.048, 3.0, 0x7FFF), (0.256, 0.1, 12800),
    (0.256, -0.3, 0x8000), (1.024, -0.5, 0x10000 - 16000),
])
def test_ads1115_pga_scaling_and_saturation(adc: tuple[SimBus, ADS1115], clock: ManualClock,
                                            fsr: float, volts: float, code: int) -> None:
    """The PGA range sets the LSB; inputs past full scale read 0x7FFF or 0x8000."""
    bus, chip = adc
    chip.set_input(1, volts)
    put(bus, ads.REG_CONFIG, ads.config_word(5, fsr, 860))
    clock.sleep(0.002)
    assert word(bus, ads.REG_CONVERSION) == code


@pytest.mark.parametrize(("mux", "expected_v"), [
    (0, 1.0 - 0.25), (1, 1.0 - 2.0), (2, 0.5 - 2.0), (3, 1.5 - 2.0), (4, 1.0), (7, 2.0),
])
def test_ads1115_input_multiplexer(adc: tuple[SimBus, ADS1115], clock: ManualClock, mux: int,
                                   expected_v: float) -> None:
    """MUX selects the datasheet's pairs (AIN0-AIN1, AIN0-AIN3, AIN1-AIN3, AIN2-AIN3, AINn-GND)."""
    bus, chip = adc
    for pin, v in enumerate((1.0, 0.25, 1.5, 2.0)):
        chip.set_input(pin, v)
    chip.set_input(1, 0.25 if mux == 0 else 0.5)
    put(bus, ads.REG_CONFIG, ads.config_word(mux, 4.096, 860))
    clock.sleep(0.002)
    got = ads.code_to_volts(ads.decode_code(bytes(bus.read_i2c_block_data(ADC, 0, 2))), 4.096)
    assert got == pytest.approx(expected_v, abs=0.000125)


def test_ads1115_continuous_mode_follows_the_input(adc: tuple[SimBus, ADS1115],
                                                   clock: ManualClock) -> None:
    """In continuous mode a new result lands every 1/DR without further writes; OS reads 0."""
    bus, chip = adc
    chip.set_input(3, lambda t: 0.001 * (t - 1000.0))  # 1 mV per second of sim time
    put(bus, ads.REG_CONFIG, ads.config_word(7, 0.256, 250, single_shot=False, start=False))
    clock.sleep(1.0)
    first = word(bus, 0)
    clock.sleep(1.0)
    second = word(bus, 0)
    assert second - first == pytest.approx(128, abs=1)  # 1 mV at 7.8125 uV per LSB
    assert not word(bus, ads.REG_CONFIG) & ads.OS


def test_ads1115_conversion_ready_pin(adc: tuple[SimBus, ADS1115], clock: ManualClock) -> None:
    """hi_thresh MSB=1, lo_thresh MSB=0 and COMP_QUE != 11 turn ALERT/RDY into conversion-ready."""
    bus, chip = adc
    put(bus, ads.REG_HI_THRESH, 0x8000)
    put(bus, ads.REG_LO_THRESH, 0x0000)
    put(bus, ads.REG_CONFIG, ads.config_word(4, 2.048, 475, comp_que=0))
    assert not chip.alert_low
    clock.sleep(1 / 475 + 1e-5)
    assert chip.alert_low


def test_ads1115_traditional_comparator_has_hysteresis(adc: tuple[SimBus, ADS1115],
                                                       clock: ManualClock) -> None:
    """ALERT asserts above hi_thresh and deasserts only below lo_thresh (non-latching)."""
    bus, chip = adc
    put(bus, ads.REG_HI_THRESH, 16000)
    put(bus, ads.REG_LO_THRESH, 8000)
    level = {"v": 1.5}
    chip.set_input(0, lambda t: level["v"])
    put(bus, ads.REG_CONFIG, ads.config_word(4, 2.048, 860, single_shot=False, start=False,
                                             comp_que=0))
    states = []
    for v in (0.2, 1.5, 0.8, 0.3, 0.8):
        level["v"] = v
        clock.sleep(0.01)
        states.append(chip.alert_low)
    assert states == [False, True, True, False, False]


def test_ads1115_pointer_only_write_then_plain_read(adc: tuple[SimBus, ADS1115]) -> None:
    """A write of the pointer alone selects the register that a plain read returns."""
    bus, _ = adc
    bus.write_i2c_block_data(ADC, ads.REG_HI_THRESH, [])
    assert bus.read_byte(ADC) == 0x7F


@pytest.fixture
def env(clock: ManualClock) -> tuple[SimBus, BME280]:
    chip = BME280(clock)
    clock.sleep(0.01)  # past the NVM copy after power-up
    return SimBus({ENV: chip}), chip


def measure_forced(bus: SimBus, clock: ManualClock, osrs: tuple[int, int, int] = (1, 1, 1)) -> bytes:
    codes = [bme.OVERSAMPLING[o] for o in osrs]
    bus.write_byte_data(ENV, bme.REG_CTRL_HUM, codes[2])
    bus.write_byte_data(ENV, bme.REG_CTRL_MEAS, codes[0] << 5 | codes[1] << 2 | bme.MODE_FORCED)
    clock.sleep(bme.measure_time_ms(*osrs) / 1000)
    return bytes(bus.read_i2c_block_data(ENV, bme.REG_DATA, 8))


def test_bme280_identity_and_reset(env: tuple[SimBus, BME280]) -> None:
    """Chip id 0x60; writing 0xB6 to 0xE0 resets ctrl registers, other values do nothing."""
    bus, _ = env
    assert bus.read_byte_data(ENV, bme.REG_ID) == 0x60
    bus.write_byte_data(ENV, bme.REG_CTRL_MEAS, 0x24)
    bus.write_byte_data(ENV, bme.REG_RESET, 0x55)
    assert bus.read_byte_data(ENV, bme.REG_CTRL_MEAS) == 0x24
    bus.write_byte_data(ENV, bme.REG_RESET, bme.RESET_WORD)
    assert bus.read_byte_data(ENV, bme.REG_CTRL_MEAS) == 0x00
    assert bus.read_i2c_block_data(ENV, bme.REG_DATA, 8) == [0x80, 0, 0, 0x80, 0, 0, 0x80, 0]


def test_bme280_forced_mode_measuring_bit(env: tuple[SimBus, BME280], clock: ManualClock) -> None:
    """status.measuring is 1 during a forced measurement, then 0, and the mode falls to sleep."""
    bus, _ = env
    bus.write_byte_data(ENV, bme.REG_CTRL_MEAS, 0b001_001_01)
    assert bus.read_byte_data(ENV, bme.REG_STATUS) & bme.STATUS_MEASURING
    clock.sleep(0.0093)
    assert not bus.read_byte_data(ENV, bme.REG_STATUS) & bme.STATUS_MEASURING
    assert bus.read_byte_data(ENV, bme.REG_CTRL_MEAS) & 0b11 == bme.MODE_SLEEP


@pytest.mark.parametrize(("t", "p", "h"), [(25.0, 101325.0, 50.0), (-10.5, 85000.0, 5.0),
                                           (60.0, 110000.0, 95.0)])
@pytest.mark.parametrize("osrs", [(1, 1, 1), (16, 16, 16)])
def test_bme280_set_values_come_out_of_the_datasheet_formulas(
        env: tuple[SimBus, BME280], clock: ManualClock, t: float, p: float, h: float,
        osrs: tuple[int, int, int]) -> None:
    """Raw values invert the compensation: integer and float formulas give the set values back
    within the resolution of the oversampling (16 bits at x1, 20 bits at x16)."""
    bus, chip = env
    chip.temperature_c, chip.pressure_pa, chip.humidity_pct = t, p, h
    raw = bme.parse_raw(measure_forced(bus, clock, osrs))
    cal = bme.parse_calibration(bytes(bus.read_i2c_block_data(ENV, bme.REG_CALIB_A, 26)),
                                bytes(bus.read_i2c_block_data(ENV, bme.REG_CALIB_B, 7)))
    tol_t, tol_p = (0.05, 3.0) if osrs[0] == 1 else (0.01, 0.2)
    for compensate in (bme.compensate_int, bme.compensate_float):
        got_t, got_p, got_h = compensate(*raw, cal)
        assert got_t == pytest.approx(t, abs=tol_t)
        assert got_p == pytest.approx(p, abs=tol_p)
        assert got_h == pytest.approx(h, abs=0.05)


def test_bme280_resolution_follows_oversampling(env: tuple[SimBus, BME280],
                                                clock: ManualClock) -> None:
    """Without the IIR filter x1 gives 16-bit results (xlsb 0), x16 uses all 20 bits."""
    bus, chip = env
    chip.temperature_c = 23.456
    assert bme.parse_raw(measure_forced(bus, clock, (1, 1, 1)))[1] & 0xF == 0
    lows = {bme.parse_raw(measure_forced(bus, clock, (16, 16, 16)))[1] & 0xF
            for chip.temperature_c in (23.456, 23.457, 23.458, 23.459)}
    assert len(lows) > 1


def test_bme280_skipped_measurements_read_0x80000(env: tuple[SimBus, BME280],
                                                  clock: ManualClock) -> None:
    """osrs_p = 0 and osrs_h = 0 leave pressure at 0x80000 and humidity at 0x8000."""
    bus, _ = env
    _, adc_t, _ = raw = bme.parse_raw(measure_forced(bus, clock, (2, 0, 0)))
    assert raw == (0x80000, adc_t, 0x8000) and adc_t != 0x80000


def test_bme280_ctrl_hum_applies_on_ctrl_meas_write(env: tuple[SimBus, BME280],
                                                    clock: ManualClock) -> None:
    """A ctrl_hum change alone is not used until ctrl_meas is written (datasheet 5.4.3)."""
    bus, _ = env
    measure_forced(bus, clock, (1, 1, 0))
    bus.write_byte_data(ENV, bme.REG_CTRL_HUM, 1)
    bus.write_byte_data(ENV, bme.REG_CTRL_MEAS, 0b001_001_00)  # sleep: latches ctrl_hum
    assert bme.parse_raw(measure_forced(bus, clock, (1, 1, 1)))[2] != 0x8000


def test_bme280_normal_mode_cycles_and_iir_filter(env: tuple[SimBus, BME280],
                                                  clock: ManualClock) -> None:
    """Normal mode measures every t_measure + t_standby; with filter 16 a step is approached
    gradually instead of at once."""
    bus, chip = env
    cal = bme.parse_calibration(bytes(bus.read_i2c_block_data(ENV, bme.REG_CALIB_A, 26)),
                                bytes(bus.read_i2c_block_data(ENV, bme.REG_CALIB_B, 7)))
    bus.write_byte_data(ENV, bme.REG_CONFIG, bme.STANDBY_MS[62.5] << 5 | bme.IIR_FILTER[16] << 2)
    bus.write_byte_data(ENV, bme.REG_CTRL_MEAS, 0b001_001_11)
    chip.temperature_c = 20.0
    clock.sleep(3.0)
    bus.read_i2c_block_data(ENV, bme.REG_DATA, 8)  # the model catches up when it is read
    start = chip.measurements
    chip.temperature_c = 30.0
    clock.sleep(0.0705)  # one cycle: 8 ms typical measurement + 62.5 ms standby
    one = bme.compensate_int(*bme.parse_raw(bytes(bus.read_i2c_block_data(ENV, 0xF7, 8))), cal)[0]
    assert chip.measurements - start == 1
    clock.sleep(10.0)  # ~140 cycles: (15/16)^140 of the step is left
    raw = bytes(bus.read_i2c_block_data(ENV, 0xF7, 8))
    settled = bme.compensate_int(*bme.parse_raw(raw), cal)[0]
    assert 20.2 < one < 21.5  # one sixteenth of the step
    assert settled == pytest.approx(30.0, abs=0.05)


def test_bme280_write_is_register_value_pairs(env: tuple[SimBus, BME280]) -> None:
    """A multi-byte write carries (register, value) pairs, not auto-incremented data."""
    bus, _ = env
    bus.write_i2c_block_data(ENV, bme.REG_CTRL_HUM, [0x03, bme.REG_CONFIG, 0xA0])
    assert bus.read_byte_data(ENV, bme.REG_CTRL_HUM) == 0x03
    assert bus.read_byte_data(ENV, bme.REG_CONFIG) == 0xA0
    assert bus.read_byte_data(ENV, bme.REG_STATUS) == 0
