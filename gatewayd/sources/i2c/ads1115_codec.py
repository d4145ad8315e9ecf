"""Pure ADS1115 encoding from the TI datasheet (SBAS444): the config word, the input
multiplexer, the PGA full-scale ranges, the data rates and conversion codes. Registers are
16-bit big-endian. No I/O.
"""

from __future__ import annotations

REG_CONVERSION, REG_CONFIG, REG_LO_THRESH, REG_HI_THRESH = 0, 1, 2, 3
CONFIG_RESET, LO_THRESH_RESET, HI_THRESH_RESET = 0x8583, 0x8000, 0x7FFF
OS = 1 << 15  # write: start a single conversion; read: 1 = not converting
MODE_SINGLE = 1 << 8  # 0 = continuous conversion
COMP_QUE_DISABLE = 0b11

# MUX[14:12] -> (positive input, negative input or None for GND)
MUX: dict[int, tuple[int, int | None]] = {
    0: (0, 1), 1: (0, 3), 2: (1, 3), 3: (2, 3),
    4: (0, None), 5: (1, None), 6: (2, None), 7: (3, None),
}
CHANNELS = {"ain0-ain1": 0, "ain0-ain3": 1, "ain1-ain3": 2, "ain2-ain3": 3,
            "ain0": 4, "ain1": 5, "ain2": 6, "ain3": 7}
# PGA[11:9] -> full-scale range in volts (codes 6 and 7 repeat 0.256 V)
FULL_SCALE_V = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)
DATA_RATES_SPS = (8, 16, 32, 64, 128, 250, 475, 860)  # DR[7:5]


def config_word(mux: int, fsr_v: float, rate_sps: int, single_shot: bool = True,
                start: bool = True, comp_que: int = COMP_QUE_DISABLE) -> int:
    """The 16-bit config register for a conversion (comparator left traditional, active low)."""
    return ((OS if start else 0) | mux << 12 | FULL_SCALE_V.index(fsr_v) << 9
            | (MODE_SINGLE if single_shot else 0) | DATA_RATES_SPS.index(rate_sps) << 5 | comp_que)


def decode_config(word: int) -> dict[str, int | float | bool]:
    """The fields of a config word, named as in the datasheet."""
    return {"os": bool(word & OS), "mux": word >> 12 & 7, "fsr_v": FULL_SCALE_V[word >> 9 & 7],
            "single_shot": bool(word & MODE_SINGLE), "rate_sps": DATA_RATES_SPS[word >> 5 & 7],
            "comp_mode": word >> 4 & 1, "comp_pol": word >> 3 & 1, "comp_lat": word >> 2 & 1,
            "comp_que": word & 3}


CODE_MAX, CODE_MIN = 0x7FFF, -0x8000  # saturation: the input is at or beyond full scale


def decode_code(raw: bytes) -> int:
    """The conversion register's two bytes as a signed code (big-endian, two's complement)."""
    return int.from_bytes(raw[:2], "big", signed=True)


def code_to_volts(code: int, fsr_v: float) -> float:
    """Volts for a code: 1 LSB = FSR / 2^15."""
    return code * fsr_v / 32768


def volts_to_code(volts: float, fsr_v: float) -> int:
    """The conversion result for an input: saturates at 0x7FFF and 0x8000 outside +-FSR."""
    return max(-32768, min(32767, int(volts * 32768 / fsr_v // 1)))


def conversion_s(rate_sps: int) -> float:
    return 1.0 / rate_sps
