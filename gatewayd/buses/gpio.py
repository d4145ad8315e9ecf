"""GPIO inputs: the only module that imports gpiozero.

Pins come from the factory the process's backend gives (gpiozero's default, lgpio on a Pi; a
simulated world's mock pins under `--simulate`), or one a test passes (a fresh `MockFactory`).
Debouncing is done by the caller on our own clock: pin factories differ in how (and whether)
they debounce, and the mock factory does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpiozero import DigitalInputDevice, GPIOZeroError

from ..errors import CommError
from . import Bus
from .backend import Backend, Hardware

PULL_UP = {"up": True, "down": False, "floating": None}


class GpioBus(Bus):
    """One GPIO chip: the pin factory its inputs come from (the backend's, or one a test gives)."""

    kind = "GPIO"

    def __init__(self, key: str, backend: Backend | None = None) -> None:
        super().__init__(key)
        self.backend = backend or Hardware()

    def input(self, pin: int | str, pull: str, active_high: bool,
              on_change: Callable[[bool], None], label: str, factory: Any = None) -> InputPin:
        """An input pin whose callback runs on gpiozero's thread (it should only enqueue)."""
        chosen = factory if factory is not None else self.backend.pin_factory()
        return InputPin(pin, pull, active_high, on_change, chosen, label)


class InputPin:
    """One input pin reporting its *active* level (after the configured polarity)."""

    def __init__(self, pin: int | str, pull: str, active_high: bool,
                 on_change: Callable[[bool], None], factory: Any = None, label: str = "") -> None:
        pull_up = PULL_UP[pull]
        try:
            self._dev = DigitalInputDevice(
                pin, pull_up=pull_up, active_state=active_high if pull_up is None else None,
                bounce_time=None, pin_factory=factory,
            )
        except (GPIOZeroError, ValueError) as e:
            raise CommError(f"{label}: pin {pin}: {e}") from None
        # with a pull resistor gpiozero takes the level opposite the pull as active
        self._invert = pull_up is not None and pull_up == active_high
        self._on_change = on_change
        self._dev.when_activated = self._activated
        self._dev.when_deactivated = self._deactivated

    @property
    def active(self) -> bool:
        return bool(self._dev.value) != self._invert

    def _activated(self) -> None:
        self._on_change(not self._invert)

    def _deactivated(self) -> None:
        self._on_change(self._invert)

    def close(self) -> None:
        self._dev.when_activated = None
        self._dev.when_deactivated = None
        self._dev.close()
