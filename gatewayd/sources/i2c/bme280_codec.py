"""Pure BME280 decoding from the Bosch datasheet (BST-BME280-DS002): calibration words, raw ADC
fields, and the compensation formulas, in both the integer (32/64-bit) and floating-point forms
the datasheet gives. No I/O: bytes in, numbers out.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

CHIP_ID = 0x60
REG_ID, REG_RESET, REG_CTRL_HUM, REG_STATUS = 0xD0, 0xE0, 0xF2, 0xF3
REG_CTRL_MEAS, REG_CONFIG, REG_DATA = 0xF4, 0xF5, 0xF7
REG_CALIB_A, CALIB_A_LEN = 0x88, 26  # 0x88..0xA1: dig_T1..dig_P9, (0xA0 reserved), dig_H1
REG_CALIB_B, CALIB_B_LEN = 0xE1, 7  # 0xE1..0xE7: dig_H2..dig_H6
RESET_WORD = 0xB6
STATUS_MEASURING, STATUS_IM_UPDATE = 0x08, 0x01
MODE_SLEEP, MODE_FORCED, MODE_NORMAL = 0b00, 0b01, 0b11
OVERSAMPLING = {0: 0, 1: 1, 2: 2, 4: 3, 8: 4, 16: 5}  # factor -> osrs_x code
IIR_FILTER = {0: 0, 2: 1, 4: 2, 8: 3, 16: 4}  # coefficient -> filter code
STANDBY_MS = {0.5: 0, 62.5: 1, 125: 2, 250: 3, 500: 4, 1000: 5, 10: 6, 20: 7}  # t_sb codes
SKIPPED_20BIT, SKIPPED_16BIT = 0x80000, 0x8000  # what a disabled measurement reads


class Calibration(NamedTuple):
    """The trimming parameters dig_T1..dig_H6 (datasheet table 16)."""

    T1: int; T2: int; T3: int  # noqa: E702
    P1: int; P2: int; P3: int; P4: int; P5: int; P6: int; P7: int; P8: int; P9: int  # noqa: E702
    H1: int; H2: int; H3: int; H4: int; H5: int; H6: int  # noqa: E702


def parse_calibration(block_a: bytes, block_b: bytes) -> Calibration:
    """Calibration from the bytes at 0x88..0xA1 and 0xE1..0xE7 (little-endian words)."""
    h2, h3, e4, e5, e6, h6 = struct.unpack_from("<hBBBBb", block_b, 0)
    h4 = _s12(e4 << 4 | e5 & 0x0F)  # 0xE4[11:4] 0xE5[3:0]
    h5 = _s12(e6 << 4 | e5 >> 4)  # 0xE6[11:4] 0xE5[7:4]
    words = struct.unpack_from("<HhhHhhhhhhhh", block_a, 0)
    return Calibration._make((*words, block_a[25], h2, h3, h4, h5, h6))


def pack_calibration(c: Calibration) -> tuple[bytes, bytes]:
    """The inverse of parse_calibration: what a chip with these trimming values holds."""
    block_a = struct.pack("<HhhHhhhhhhhhBB", c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5,
                          c.P6, c.P7, c.P8, c.P9, 0, c.H1)
    h4, h5 = c.H4 & 0xFFF, c.H5 & 0xFFF
    shared = (h5 & 0x0F) << 4 | h4 & 0x0F  # 0xE5: dig_H5[3:0] above dig_H4[3:0]
    block_b = struct.pack("<hBBBBb", c.H2, c.H3, h4 >> 4, shared, h5 >> 4, c.H6)
    return block_a, block_b


def _s12(v: int) -> int:
    return v - 0x1000 if v & 0x800 else v


def parse_raw(data: bytes) -> tuple[int, int, int]:
    """(adc_P, adc_T, adc_H) from the 8-byte burst at 0xF7..0xFE."""
    p = data[0] << 12 | data[1] << 4 | data[2] >> 4
    t = data[3] << 12 | data[4] << 4 | data[5] >> 4
    return p, t, data[6] << 8 | data[7]


def pack_raw(adc_p: int, adc_t: int, adc_h: int) -> bytes:
    return bytes([adc_p >> 12 & 0xFF, adc_p >> 4 & 0xFF, (adc_p & 0xF) << 4,
                  adc_t >> 12 & 0xFF, adc_t >> 4 & 0xFF, (adc_t & 0xF) << 4,
                  adc_h >> 8 & 0xFF, adc_h & 0xFF])


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero), as the datasheet's code does."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def t_fine_int(adc_t: int, c: Calibration) -> int:
    var1 = (((adc_t >> 3) - (c.T1 << 1)) * c.T2) >> 11
    var2 = (((((adc_t >> 4) - c.T1) * ((adc_t >> 4) - c.T1)) >> 12) * c.T3) >> 14
    return var1 + var2


def temperature_int(t_fine: int) -> int:
    """Temperature in 0.01 °C."""
    return (t_fine * 5 + 128) >> 8


def pressure_int(adc_p: int, t_fine: int, c: Calibration) -> int:
    """Pressure in Pa as Q24.8 (divide by 256), the datasheet's 64-bit form."""
    var1 = t_fine - 128000
    var2 = var1 * var1 * c.P6
    var2 += (var1 * c.P5) << 17
    var2 += c.P4 << 35
    var1 = ((var1 * var1 * c.P3) >> 8) + ((var1 * c.P2) << 12)
    var1 = (((1 << 47) + var1) * c.P1) >> 33
    if var1 == 0:
        return 0  # avoid a division by zero
    p = 1048576 - adc_p
    p = _cdiv(((p << 31) - var2) * 3125, var1)
    var1 = (c.P9 * (p >> 13) * (p >> 13)) >> 25
    var2 = (c.P8 * p) >> 19
    return ((p + var1 + var2) >> 8) + (c.P7 << 4)


def humidity_int(adc_h: int, t_fine: int, c: Calibration) -> int:
    """Relative humidity in %RH as Q22.10 (divide by 1024)."""
    v = t_fine - 76800
    v = (((((adc_h << 14) - (c.H4 << 20) - (c.H5 * v)) + 16384) >> 15)
         * (((((((v * c.H6) >> 10) * (((v * c.H3) >> 11) + 32768)) >> 10) + 2097152)
             * c.H2 + 8192) >> 14))
    v -= ((((v >> 15) * (v >> 15)) >> 7) * c.H1) >> 4
    return min(max(v, 0), 419430400) >> 12


Values = tuple[float, float, float]


def compensate_int(adc_p: int, adc_t: int, adc_h: int, c: Calibration) -> Values:
    """(°C, Pa, %RH) through the integer formulas."""
    tf = t_fine_int(adc_t, c)
    return (temperature_int(tf) / 100, pressure_int(adc_p, tf, c) / 256,
            humidity_int(adc_h, tf, c) / 1024)


def compensate_float(adc_p: int, adc_t: int, adc_h: int, c: Calibration) -> Values:
    """(°C, Pa, %RH) through the double-precision formulas."""
    v1 = (adc_t / 16384.0 - c.T1 / 1024.0) * c.T2
    v2 = (adc_t / 131072.0 - c.T1 / 8192.0) ** 2 * c.T3
    t_fine = int(v1 + v2)
    return (v1 + v2) / 5120.0, _pressure_float(adc_p, t_fine, c), _humidity_float(adc_h, t_fine, c)


def _pressure_float(adc_p: int, t_fine: int, c: Calibration) -> float:
    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * c.P6 / 32768.0 + var1 * c.P5 * 2.0
    var2 = var2 / 4.0 + c.P4 * 65536.0
    var1 = (c.P3 * var1 * var1 / 524288.0 + c.P2 * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * c.P1
    if var1 == 0.0:
        return 0.0
    p = ((1048576.0 - adc_p) - var2 / 4096.0) * 6250.0 / var1
    return p + (c.P9 * p * p / 2147483648.0 + p * c.P8 / 32768.0 + c.P7) / 16.0


def _humidity_float(adc_h: int, t_fine: int, c: Calibration) -> float:
    h = t_fine - 76800.0
    h = (adc_h - (c.H4 * 64.0 + c.H5 / 16384.0 * h)) * (
        c.H2 / 65536.0 * (1.0 + c.H6 / 67108864.0 * h * (1.0 + c.H3 / 67108864.0 * h)))
    h *= 1.0 - c.H1 * h / 524288.0
    return min(max(h, 0.0), 100.0)


def measure_time_ms(osrs_t: int, osrs_p: int, osrs_h: int, typical: bool = False) -> float:
    """Measurement time for oversampling factors (0 = skipped), datasheet section 9.1."""
    per, base, extra = (2.0, 1.0, 0.5) if typical else (2.3, 1.25, 0.575)
    t = base + per * osrs_t
    t += per * osrs_p + extra if osrs_p else 0.0
    return t + (per * osrs_h + extra if osrs_h else 0.0)
