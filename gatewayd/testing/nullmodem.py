"""A null-modem cable between two pseudo-terminals: bytes written to one end come out of the
other, so a simulated RS-485 device and the gateway can each open a real tty path."""

from __future__ import annotations

import os
import select
import threading
import tty


class NullModem:
    def __init__(self) -> None:
        self._masters: list[int] = []
        self._slaves: list[int] = []
        self.paths: list[str] = []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            self._masters.append(master)
            self._slaves.append(slave)
            self.paths.append(os.ttyname(slave))
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._relay, name="nullmodem", daemon=True)

    @property
    def a(self) -> str:
        return self.paths[0]

    @property
    def b(self) -> str:
        return self.paths[1]

    def start(self) -> NullModem:
        self._thread.start()
        return self

    def _relay(self) -> None:
        peer = {self._masters[0]: self._masters[1], self._masters[1]: self._masters[0]}
        while True:
            ready, _, _ = select.select([*peer, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue  # nobody has that end open right now
                os.write(peer[fd], data)

    def stop(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        for fd in (*self._masters, *self._slaves, self._stop_r, self._stop_w):
            os.close(fd)

    def __enter__(self) -> NullModem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
