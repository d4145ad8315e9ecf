"""ADXL345 driver: stream-mode FIFO drained by polling, samples of one axis in g."""

from __future__ import annotations

import numpy as np

from ...buses.i2c import I2CDevice
from ...errors import DeviceException
from ...model import Quality
from . import decode as d

AXES = {"x": 0, "y": 1, "z": 2}


class Adxl345:
    """Configures the chip and pops FIFO entries; reports an overrun as a gap."""

    def __init__(self, dev: I2CDevice, odr_hz: float, range_g: int, axis: str) -> None:
        self.dev, self.odr_hz, self.range_g, self.axis = dev, odr_hz, range_g, AXES[axis]
        self.scale = d.g_per_lsb(range_g)

    def open(self) -> None:
        devid = self.dev.read(d.REG["devid"], 1)[0]
        if devid != d.DEVID_VALUE:
            raise DeviceException(
                f"{self.dev.label}: DEVID 0x{devid:02x}, not an ADXL345 (0xe5)",
                Quality.BAD_WRONG_DEVICE,
            )
        self.dev.write(d.REG["power_ctl"], b"\x00")  # standby while configuring
        self.dev.write(d.REG["bw_rate"], bytes([d.rate_code(self.odr_hz)]))
        self.dev.write(d.REG["data_format"], bytes([d.data_format(self.range_g)]))
        self.dev.write(d.REG["fifo_ctl"], bytes([d.fifo_ctl("bypass", 0)]))  # empties the FIFO
        self.dev.write(d.REG["fifo_ctl"], bytes([d.fifo_ctl("stream", 16)]))
        self.dev.write(d.REG["power_ctl"], bytes([d.MEASURE]))

    def close(self) -> None:
        self.dev.write(d.REG["power_ctl"], b"\x00")

    def drain(self, out: np.ndarray) -> tuple[int, bool]:
        """Pop every FIFO entry into `out` (g); True if samples were lost since the last call."""
        with self.dev.transaction():  # hold the bus: status and entries belong together
            overrun = bool(self.dev.read(d.REG["int_source"], 1)[0] & d.OVERRUN)
            entries = d.fifo_entries(self.dev.read(d.REG["fifo_status"], 1)[0])
            for i in range(min(entries, len(out))):
                out[i] = d.decode_xyz(self.dev.read(d.REG["datax0"], 6))[self.axis] * self.scale
        return min(entries, len(out)), overrun
