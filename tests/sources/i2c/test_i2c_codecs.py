"""Byte-vector tables for the pure ADS1115 and BME280 decoders."""

from __future__ import annotations

import pytest

from gatewayd.sources.i2c import ads1115_codec as ads
from gatewayd.sources.i2c import bme280_codec as bme

# Bosch's worked example (BMP280 datasheet, same T/P formulas as the BME280).
EXAMPLE = bme.Calibration(T1=27504, T2=26435, T3=-1000, P1=36477, P2=-10685, P3=3024, P4=2855,
                          P5=140, P6=-7, P7=15500, P8=-14600, P9=6000,
                          H1=75, H2=362, H3=0, H4=313, H5=50, H6=30)


@pytest.mark.parametrize(("raw", "code"), [
    (b"\x7f\xff", 32767), (b"\x80\x00", -32768), (b"\xff\xff", -1), (b"\x00\x01", 1),
    (b"\x40\x00", 16384), (b"\x12\x34", 0x1234),
])
def test_ads1115_conversion_register_is_big_endian_twos_complement(raw: bytes, code: int) -> None:
    """The conversion register decodes MSB first as a signed 16-bit code."""
    assert ads.decode_code(raw) == code


@pytest.mark.parametrize(("fsr", "code", "volts"), [
    (6.144, 32767, 6.144 * 32767 / 32768), (4.096, 16384, 2.048), (2.048, 1, 62.5e-6),
    (1.024, -32768, -1.024), (0.512, 8192, 0.128), (0.256, -1, -7.8125e-6),
])
def test_ads1115_lsb_is_full_scale_over_2_to_15(fsr: float, code: int, volts: float) -> None:
    """1 LSB = FSR / 32768 for every PGA setting."""
    assert ads.code_to_volts(code, fsr) == pytest.approx(volts, rel=1e-12)


@pytest.mark.parametrize(("volts", "fsr", "code"), [
    (5.0, 4.096, 0x7FFF), (4.096, 4.096, 0x7FFF), (-9.0, 2.048, -0x8000), (1.0, 2.048, 16000),
    (0.0, 0.256, 0), (-0.000001, 0.256, -1),
])
def test_ads1115_results_saturate_at_full_scale(volts: float, fsr: float, code: int) -> None:
    """Inputs beyond +-FSR give 0x7FFF / 0x8000; inside, the code rounds toward -inf."""
    assert ads.volts_to_code(volts, fsr) == code


@pytest.mark.parametrize(("args", "word"), [
    ((0, 2.048, 128, True, True), 0x8583),  # the reset value with OS set
    ((4, 4.096, 860, True, True), 0xC3E3),
    ((7, 0.256, 8, False, False), 0x7A03),
    ((1, 6.144, 250, True, True), 0x91A3),
])
def test_ads1115_config_word(args: tuple[int, float, int, bool, bool], word: int) -> None:
    """OS|MUX|PGA|MODE|DR|COMP fields land in the datasheet's bit positions."""
    assert ads.config_word(*args) == word
    fields = ads.decode_config(word)
    assert (fields["mux"], fields["fsr_v"], fields["rate_sps"], fields["single_shot"]) == args[:4]


def test_bme280_calibration_bytes_round_trip() -> None:
    """dig_H4/dig_H5 share 0xE5 as 12-bit signed halves; everything else is little-endian."""
    block_a, block_b = bme.pack_calibration(EXAMPLE)
    assert block_a[:2] == bytes([0x70, 0x6B])  # dig_T1 = 27504 = 0x6B70, LSB first
    assert block_a[25] == 75 and len(block_a) == 26
    assert block_b == bytes([0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E])
    assert bme.parse_calibration(block_a, block_b) == EXAMPLE


def test_bme280_negative_h4_h5() -> None:
    """A negative 12-bit dig_H4 / dig_H5 keeps its sign through the shared nibble byte."""
    block_b = bytes([0x00, 0x00, 0x00, 0xFF, 0xFE, 0xFF, 0x00])
    cal = bme.parse_calibration(bme.pack_calibration(EXAMPLE)[0], block_b)
    assert (cal.H4, cal.H5) == (-2, -1)


@pytest.mark.parametrize(("data", "raw"), [
    (bytes([0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x75, 0x30]), (415148, 519888, 30000)),
    (bytes([0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00]), (0x80000, 0x80000, 0x8000)),
    (bytes([0xFF, 0xFF, 0xF0, 0x00, 0x00, 0x10, 0xFF, 0xFF]), (0xFFFFF, 1, 0xFFFF)),
])
def test_bme280_raw_fields(data: bytes, raw: tuple[int, int, int]) -> None:
    """press/temp are 20 bits (msb, lsb, xlsb[7:4]); hum is 16 bits big-endian."""
    assert bme.parse_raw(data) == raw
    assert bme.pack_raw(*raw) == data


def test_bme280_datasheet_example_integer() -> None:
    """adc_T 519888 -> t_fine 128422, 25.08 °C; adc_P 415148 -> about 100653 Pa."""
    t_fine = bme.t_fine_int(519888, EXAMPLE)
    assert t_fine == 128422
    assert bme.temperature_int(t_fine) == 2508
    assert bme.pressure_int(415148, t_fine, EXAMPLE) / 256 == pytest.approx(100653.27, abs=0.1)


def test_bme280_datasheet_example_float() -> None:
    """The double-precision formulas agree with the worked example (25.08 °C, 100653.27 Pa)."""
    t, p, _ = bme.compensate_float(415148, 519888, 30000, EXAMPLE)
    assert t == pytest.approx(25.0825, abs=1e-3)
    assert p == pytest.approx(100653.27, abs=0.1)


@pytest.mark.parametrize("adc", [(300000, 400000, 20000), (415148, 519888, 30000),
                                 (500000, 600000, 40000)])
def test_bme280_integer_and_float_forms_agree(adc: tuple[int, int, int]) -> None:
    """Both datasheet forms give the same values within their resolution."""
    ti, pi, hi = bme.compensate_int(*adc, EXAMPLE)
    tf, pf, hf = bme.compensate_float(*adc, EXAMPLE)
    assert (ti, pi, hi) == (pytest.approx(tf, abs=0.01), pytest.approx(pf, abs=1.0),
                            pytest.approx(hf, abs=0.05))


@pytest.mark.parametrize(("osrs", "typical", "ms"), [
    ((1, 1, 1), False, 9.3), ((1, 1, 1), True, 8.0), ((16, 16, 16), False, 112.8),
    ((1, 0, 0), False, 3.55), ((2, 16, 0), True, 37.5),
])
def test_bme280_measurement_time(osrs: tuple[int, int, int], typical: bool, ms: float) -> None:
    """Section 9.1: 1.25 + 2.3 T + (2.3 P + 0.575) + (2.3 H + 0.575) ms at most."""
    assert bme.measure_time_ms(*osrs, typical=typical) == pytest.approx(ms)
