"""A PLC server in its own process, on a loopback port, stopped and restarted by its PID.

Each PLC server of the test equipment (s7_server, logix_server, opcua_server) is a module run
as `python -m gatewayd.testing.<module> --port N ...` that prints `ready` on stdout once it
listens. Restarting keeps the port, as a PLC that reboots keeps its address.

    with ServerProcess("gatewayd.testing.s7_server") as plc:
        ... plc.port ...
        plc.stop(); plc.start()    # the PLC reboots
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from types import TracebackType

from .broker import free_port

READY = "ready"


class ServerProcess:
    def __init__(self, module: str, *args: str, port: int | None = None, ready_s: float = 20.0) -> None:
        self.module = module
        self.args = list(args)
        self.port = port or free_port()
        self.ready_s = ready_s
        self.proc: subprocess.Popen[str] | None = None
        self.tail: deque[str] = deque(maxlen=50)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> ServerProcess:
        """Start the server and wait until it says it listens (RuntimeError with its output if it
        dies or stays silent)."""
        if self.proc is not None:
            return self
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port), *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.ready_s
        seen: list[str] = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.strip() == READY:
                    self._drain(self.proc)
                    return self
                if line:
                    seen.append(line)
                    continue
            if self.proc.poll() is not None:
                break
        out = "".join(seen)[-2000:]
        proc = self.proc
        self.stop()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        raise RuntimeError(f"{self.module} did not start on port {self.port}:\n{out}")

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        """Keep reading the server's output so it never blocks on a full pipe; keep its tail."""
        def run() -> None:
            assert proc.stdout is not None
            with proc.stdout:
                for line in proc.stdout:
                    self.tail.append(line)

        threading.Thread(target=run, name=f"{self.module} output", daemon=True).start()

    def stop(self) -> None:
        """SIGTERM to our own PID, then SIGKILL if it does not end within 5 s."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_until_signalled() -> None:
    """For the server modules: say `ready`, then wait for SIGTERM/SIGINT."""
    done = {"flag": False}

    def _stop(signum: int, frame: object) -> None:
        done["flag"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(READY, flush=True)
    while not done["flag"]:
        time.sleep(0.05)
