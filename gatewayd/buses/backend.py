"""Where the buses get their hardware: the machine's own, or a simulated world chosen once.

As gpiozero picks its pin factory once for a process, gatewayd picks its backend once: the
entry point reads `--simulate <world>` (or `GATEWAYD_SIMULATE=<world>`) and hands the result to
the supervisor. A config cannot name a simulator; without the flag the daemon never imports
`gatewayd.testing`, the package that holds the simulators.

A backend opens what a bus needs from the operating system:

    open_i2c(number)   an smbus2-compatible handle for /dev/i2c-<number>; the bus closes it
    pin_factory()      a gpiozero pin factory (None: gpiozero's own choice, lgpio on a Pi)
    close()            stop what the backend runs (a simulated machine's signals)
"""

from __future__ import annotations

import os
from typing import Any, Protocol

ENV = "GATEWAYD_SIMULATE"


class Backend(Protocol):
    name: str

    def open_i2c(self, number: int) -> Any: ...
    def pin_factory(self) -> Any: ...
    def close(self) -> None: ...


class Hardware:
    """The gateway's own buses: /dev/i2c-N through smbus2, pins through gpiozero's default."""

    name = "hardware"

    def open_i2c(self, number: int) -> Any:
        import smbus2  # raises OSError when /dev/i2c-N is missing; the I2C bus translates it

        return smbus2.SMBus(number)

    def pin_factory(self) -> Any:
        return None

    def close(self) -> None:
        """Nothing runs on the hardware's behalf."""


def select(world: str | None = None) -> Backend:
    """The backend for this process: the named simulated world, else `$GATEWAYD_SIMULATE`'s,
    else the hardware. ValueError (listing the worlds) for an unknown name."""
    name = world if world is not None else os.environ.get(ENV, "")
    if not name:
        return Hardware()
    from ..testing.worlds import build_world  # test equipment: imported only when asked for

    return build_world(name)
