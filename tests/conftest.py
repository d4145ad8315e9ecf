"""Fixtures shared by every test: a real mosquitto on a free loopback port, leak checks."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd.testing.broker import Broker, free_port, wait_port  # noqa: F401 - re-exported
from gatewayd.testing.clock import ManualClock

# helpers that test folders share (i2c_testing, ...) are imported by name
sys.path.insert(0, str(Path(__file__).resolve().parent / "kits"))


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One real mosquitto for the whole session (tests use distinct gateway ids)."""
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    """A mosquitto of this test alone, for tests that stop and start it."""
    b = Broker(tmp_path, persistence=True).start()
    yield b
    b.stop()


def child_pids() -> set[int]:
    """Our live child processes (zombies already exited: they are not running anything)."""
    pids: set[int] = set()
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        try:
            pids.update(int(p) for p in children.read_text().split())
        except FileNotFoundError:  # that thread ended between the listing and the read
            continue
    return {p for p in pids if not _zombie(p)}


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves threads or child processes of its own running."""
    threads, children = set(threading.enumerate()), child_pids()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t.name for t in threading.enumerate() if t not in threads and t.is_alive()]
        extra += [f"process {p}" for p in child_pids() - children]
        if not extra:
            return
        time.sleep(0.05)
    raise AssertionError(f"test leaked: {', '.join(extra)}")


REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")


@pytest.fixture
def clock() -> ManualClock:
    """A simulated clock at t = 1000 s (a test module may define its own)."""
    return ManualClock(1000.0)
