"""Which chip answers at an I2C address: a table of common addresses, and identity registers.

An identity is read only where the read is harmless: a read-only ID register, or the ADS1x15
config register (reading it starts nothing). Values are from the chips' datasheets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

KNOWN: dict[range | int, tuple[str, ...]] = {
    range(0x20, 0x28): ("MCP23017/MCP23008 GPIO expander", "PCF8574 GPIO expander"),
    0x23: ("BH1750 light sensor",),
    0x29: ("VL53L0X distance", "TSL2591 light"),
    range(0x3C, 0x3E): ("SSD1306 OLED display",),
    0x40: ("INA219 current monitor", "HTU21D/Si7021 humidity", "PCA9685 PWM driver"),
    range(0x44, 0x46): ("SHT3x humidity/temperature",),
    range(0x48, 0x4C): ("ADS1115/ADS1015 ADC", "TMP102/LM75 temperature", "PCF8591 ADC"),
    range(0x4C, 0x50): ("TMP102/LM75 temperature", "PCF8591 ADC"),
    range(0x50, 0x58): ("24Cxx EEPROM (HAT ID at 0x50)",),
    0x53: ("ADXL345 accelerometer", "24Cxx EEPROM"),
    0x1D: ("ADXL345 accelerometer (ALT high)",),
    range(0x5A, 0x5C): ("MLX90614 IR thermometer", "CCS811 air quality"),
    range(0x68, 0x6A): ("MPU6050/MPU9250 IMU", "DS3231/DS1307 real-time clock"),
    0x70: ("TCA9548A I2C multiplexer",),
    range(0x76, 0x78): ("BME280/BMP280 environment", "BME680 gas", "MS5611 pressure"),
}


class IdRegister(NamedTuple):
    register: int
    length: int
    chips: dict[int, str]


IDENTITY: dict[int, IdRegister] = {
    **dict.fromkeys((0x53, 0x1D), IdRegister(0x00, 1, {0xE5: "ADXL345 accelerometer"})),
    **dict.fromkeys(
        (0x76, 0x77),
        IdRegister(
            0xD0, 1, {0x60: "BME280 environment", 0x58: "BMP280 pressure", 0x61: "BME680 gas"}
        ),
    ),
    **dict.fromkeys(
        (0x68, 0x69),
        IdRegister(0x75, 1, {0x68: "MPU6050 IMU", 0x70: "MPU6500 IMU", 0x71: "MPU9250 IMU"}),
    ),
    # no ID register: the config register reads 0x8583 after power-on (OS=1, AIN0-AIN1, 2.048 V)
    **dict.fromkeys(
        range(0x48, 0x4C),
        IdRegister(0x01, 2, {0x8583: "ADS1115/ADS1015 ADC (config at power-on default)"}),
    ),
}


def candidates(address: int) -> list[str]:
    """Every chip of the table that can sit at `address`."""
    out: list[str] = []
    for key, chips in KNOWN.items():
        if address == key or (isinstance(key, range) and address in key):
            out += [c for c in chips if c not in out]
    return out


def identify(address: int, read: Callable[[int, int], bytes]) -> str | None:
    """The chip an identity register names, or None; `read(register, length)` may raise OSError."""
    idr = IDENTITY.get(address)
    if idr is None:
        return None
    try:
        value = int.from_bytes(read(idr.register, idr.length), "big")
    except OSError:
        return None
    return idr.chips.get(value)
