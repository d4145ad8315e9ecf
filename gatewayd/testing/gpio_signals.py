"""Simulated machine signals on gpiozero's mock pins, for the "demo" world (worlds.py).
A scenario owns a MockFactory and a thread that drives its pins like the machine
would; the GPIO source reads them through the same pin code as on a Pi.

"lathe": pin 17 `running` (high 15 s of every 20 s), pin 22 a part made every 2 s while running,
pin 23 a reject on every tenth part.
"""

from __future__ import annotations

import threading
import time

from gpiozero.pins.mock import MockFactory


class LatheSignals:
    RUNNING, PARTS, REJECTS = 17, 22, 23

    def __init__(self) -> None:
        self.factory = MockFactory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-gpio-lathe", daemon=True)

    def start(self) -> LatheSignals:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.factory.close()

    def _pulse(self, pin: int) -> None:
        self.factory.pin(pin).drive_high()
        time.sleep(0.02)  # longer than the input's debounce, as a real part sensor's pulse is
        self.factory.pin(pin).drive_low()

    def _run(self) -> None:
        t0, parts = time.monotonic(), 0
        while not self._stop.wait(0.5):
            t = time.monotonic() - t0
            running = t % 20 < 15
            pin = self.factory.pin(self.RUNNING)
            (pin.drive_high if running else pin.drive_low)()
            if running and int(t * 2) % 4 == 0:
                parts += 1
                self._pulse(self.PARTS)
                if parts % 10 == 0:
                    self._pulse(self.REJECTS)
