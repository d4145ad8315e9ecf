"""Pure ADXL345 register encoding and decoding (datasheet Rev. G, register map table 19)."""

from __future__ import annotations

import struct

DEVID_VALUE = 0xE5
REG = {
    "devid": 0x00,
    "bw_rate": 0x2C,
    "power_ctl": 0x2D,
    "int_source": 0x30,
    "data_format": 0x31,
    "datax0": 0x32,
    "fifo_ctl": 0x38,
    "fifo_status": 0x39,
}
MEASURE = 0x08
FULL_RES = 0x08
FIFO_MODES = {"bypass": 0, "fifo": 1, "stream": 2, "trigger": 3}
RANGES_G = (2, 4, 8, 16)
WATERMARK, OVERRUN = 0x02, 0x01
ODR_HZ = {code: 3200.0 / 2 ** (15 - code) for code in range(16)}  # 0.10 Hz .. 3200 Hz


def rate_code(odr_hz: float) -> int:
    """BW_RATE value for an output data rate the chip offers."""
    for code, hz in ODR_HZ.items():
        if abs(hz - odr_hz) < 1e-9 * hz:
            return code
    raise ValueError(
        f"expected an ADXL345 data rate: {', '.join(f'{ODR_HZ[c]:g}' for c in range(6, 16))} Hz"
    )


def data_format(range_g: int, full_resolution: bool = True) -> int:
    """DATA_FORMAT: right-justified, range bits, FULL_RES."""
    return (FULL_RES if full_resolution else 0) | RANGES_G.index(range_g)


def g_per_lsb(range_g: int, full_resolution: bool = True) -> float:
    """Scale factor: 3.9 mg/LSB in full resolution; else 10 bits span the range."""
    return 1 / 256 if full_resolution else range_g / 512


def fifo_ctl(mode: str, watermark: int) -> int:
    """FIFO_CTL: mode in bits 7:6, watermark (samples) in bits 4:0."""
    if not 0 <= watermark <= 31:
        raise ValueError("expected a watermark of 0..31 samples")
    return FIFO_MODES[mode] << 6 | watermark


def fifo_entries(status: int) -> int:
    """FIFO_STATUS bits 5:0: samples held (0..32)."""
    return status & 0x3F


def decode_xyz(frame: bytes | list[int]) -> tuple[int, int, int]:
    """DATAX0..DATAZ1: three little-endian two's complement 16-bit codes."""
    return struct.unpack("<hhh", bytes(frame))
