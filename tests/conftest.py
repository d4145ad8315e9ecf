"""Fixtures shared by every test: a real mosquitto on a free loopback port, leak checks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd.sims.broker import Broker, free_port, wait_port  # noqa: F401 - re-exported


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


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves threads of its own running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            return
        time.sleep(0.05)
    names = ", ".join(t.name for t in extra)
    raise AssertionError(f"test leaked threads: {names}")


REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")
