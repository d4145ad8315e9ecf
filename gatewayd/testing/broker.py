"""A mosquitto process of our own on a free loopback port (tests, benchmarks, the demo)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, timeout_s: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port}")


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(found).exists():
        raise FileNotFoundError("mosquitto is not installed (scripts/setup installs it)")
    return found


def stay_user() -> str:
    """Run as root, mosquitto drops to the `mosquitto` user, which cannot read or write the
    test's private temporary folders: keep our own user for these throwaway brokers."""
    return "user root\n" if os.geteuid() == 0 else ""


class Broker:
    """Started on a free loopback port; stop() and start() again keep the port (outage tests)."""

    def __init__(self, workdir: Path, port: int | None = None, persistence: bool = False) -> None:
        self.port = port or free_port()
        self.persistence = persistence
        self.workdir = Path(workdir)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        # With persistence, a broker stopped with SIGTERM keeps its sessions and their queued
        # messages across the restart, as a production broker is usually set up.
        store = (f"persistence true\npersistence_location {self.workdir}/\n" if self.persistence
                 else "persistence false\n")
        conf.write_text(
            f"{stay_user()}listener {self.port} 127.0.0.1\nallow_anonymous true\n{store}"
            "max_queued_messages 100000\nmax_inflight_messages 0\n"
        )
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
