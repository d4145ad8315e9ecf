"""ADXL345 register model and driver: FIFO, watermark, overrun, data rate timing, range scaling."""

from __future__ import annotations

import numpy as np
import pytest

from gatewayd.buses.i2c import I2CDevice
from gatewayd.errors import DeviceException
from gatewayd.sources.vibration import decode as d
from gatewayd.sources.vibration.adxl345 import Adxl345
from gatewayd.testing import adxl345 as chip
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus


def rig(z=lambda t: np.full(len(t), 0.5), odr: float = 3200, range_g: int = 16):
    clock = ManualClock(100.0)
    model = chip.Adxl345(z=z, clock=clock)
    bus = SimBus({0x53: model})
    drv = Adxl345(I2CDevice(bus, "sim:test", 0x53, "adxl345"), odr, range_g, "z")
    drv.open()
    return clock, model, bus, drv


@pytest.mark.parametrize(
    "hz, code", [(3200, 0x0F), (1600, 0x0E), (100, 0x0A), (25, 0x08), (6.25, 0x06)]
)
def test_rate_codes(hz: float, code: int) -> None:
    """BW_RATE codes from the datasheet table, and back."""
    assert d.rate_code(hz) == code
    assert chip.odr_hz(code) == hz


@pytest.mark.parametrize(
    "frame, xyz",
    [
        (b"\x00\x01\xff\xff\x00\x80", (256, -1, -32768)),
        (b"\x01\x00\x00\x00\xff\x7f", (1, 0, 32767)),
        ([0x10, 0xF0, 0x00, 0x00, 0x00, 0x00], (-4080, 0, 0)),
    ],
)
def test_decode_frames(frame: bytes, xyz: tuple[int, int, int]) -> None:
    """DATAX0..DATAZ1 are little-endian two's complement."""
    assert d.decode_xyz(frame) == xyz


@pytest.mark.parametrize(
    "mode, wm, byte", [("bypass", 0, 0x00), ("stream", 16, 0x90), ("fifo", 31, 0x5F)]
)
def test_fifo_ctl_bytes(mode: str, wm: int, byte: int) -> None:
    """FIFO_CTL packs the mode in bits 7:6 and the watermark in 4:0."""
    assert d.fifo_ctl(mode, wm) == byte


def test_wrong_devid_is_refused() -> None:
    """A chip answering another DEVID is named as the wrong device."""
    model = chip.Adxl345()
    model.regs[chip.DEVID] = 0x12
    drv = Adxl345(I2CDevice(SimBus({0x53: model}), "sim:test", 0x53, "adxl345"), 3200, 16, "z")
    with pytest.raises(DeviceException, match="adxl345 0x53 on sim:test: DEVID 0x12"):
        drv.open()


def test_samples_follow_the_data_rate_and_scale() -> None:
    """10 ms at 3200 Hz is 32 samples; 0.5 g reads as 128 codes (3.9 mg/LSB) in full resolution."""
    clock, _model, _, drv = rig()
    clock.t += 0.0099
    out = np.zeros(32)
    n, overrun = drv.drain(out)
    assert (n, overrun) == (31, False)
    assert np.all(out[:n] == 0.5)
    clock.t += 0.005
    assert drv.drain(out) == (16, False)


def test_watermark_bit() -> None:
    """INT_SOURCE shows the watermark once 16 entries wait in the FIFO."""
    clock, _model, bus, _ = rig()
    clock.t += 15.5 / 3200
    assert not bus.read_byte_data(0x53, chip.INT_SOURCE) & chip.WATERMARK
    clock.t += 1 / 3200
    assert bus.read_byte_data(0x53, chip.INT_SOURCE) & chip.WATERMARK
    assert bus.read_byte_data(0x53, chip.FIFO_STATUS) == 16


def test_slow_reader_sees_an_overrun_and_the_newest_32() -> None:
    """Stream mode keeps the newest 32 samples; the overrun bit says older ones were lost."""
    clock, _model, _, drv = rig(z=lambda t: (t - 100.0) * 100)
    clock.t += 0.1  # 320 samples due, 32 kept
    out = np.zeros(32)
    n, overrun = drv.drain(out)
    assert (n, overrun) == (32, True)
    assert out[-1] == pytest.approx(9.96875, abs=1 / 256)  # sample 319 at t = 319/3200 s
    assert drv.drain(out) == (0, False)  # reading the FIFO cleared the overrun


@pytest.mark.parametrize("range_g, fmt, limit", [(2, 0x08, 511), (16, 0x0B, 4095)])
def test_range_clips_in_full_resolution(range_g: int, fmt: int, limit: int) -> None:
    """Full resolution keeps 3.9 mg/LSB and clips at the range: 10 bits at 2 g, 13 at 16 g."""
    clock, _model, bus, _drv = rig(z=lambda t: np.full(len(t), 20.0), range_g=range_g)
    assert bus.read_byte_data(0x53, chip.DATA_FORMAT) == fmt
    clock.t += 1 / 3200
    frame = bus.read_i2c_block_data(0x53, chip.DATAX0, 6)
    assert d.decode_xyz(frame)[2] == limit


def test_fifo_mode_keeps_the_oldest() -> None:
    """FIFO mode stops collecting when full: the first 32 samples stay, newer ones are lost."""
    clock, _model, bus, _ = rig(z=lambda t: (t - 100.0) * 256)  # g rising 256 g/s
    bus.write_byte_data(0x53, chip.FIFO_CTL, d.fifo_ctl("fifo", 16))
    clock.t += 0.1
    first = d.decode_xyz(bus.read_i2c_block_data(0x53, chip.DATAX0, 6))[2]
    assert first == 20  # sample 1 at 1/3200 s: 256 codes/g * 65536/3200 ... = 20.48 -> 20
    assert bus.read_byte_data(0x53, chip.FIFO_STATUS) == 31
    assert bus.read_byte_data(0x53, chip.INT_SOURCE) & chip.OVERRUN == 0  # cleared by the read
