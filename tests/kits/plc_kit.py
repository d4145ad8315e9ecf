"""Helpers of the PLC kinds' tests (s7, enip): the simulator of a test module in its own
process, and a device that is opened for a block and closed whatever happens in it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from gatewayd.model import Reading
from gatewayd.testing.plc_process import ServerProcess


def server(module: str, *args: str) -> Any:
    """A fixture for one test module: `python -m gatewayd.testing.<module> *args` started
    once (it says `ready` when it listens) and stopped by its PID after the last test."""

    @pytest.fixture(scope="module")
    def running() -> Iterator[ServerProcess]:
        with ServerProcess(f"gatewayd.testing.{module}", *args) as plc:
            yield plc

    return running


@contextlib.contextmanager
def opened(dev: Any) -> Iterator[Any]:
    """`dev` opened for the block, closed at its end, failed assertions included."""
    dev.open()
    try:
        yield dev
    finally:
        dev.close()


def read_once(dev: Any, ts_ms: int = 0) -> dict[int, Reading]:
    """Open `dev`, poll it once at `ts_ms`, close it: its readings by alias."""
    with opened(dev):
        return {r.alias: r for r in dev.read(ts_ms)}
