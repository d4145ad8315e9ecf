"""Fixtures of the I2C and 4-20 mA tests (helpers to import live in i2c_testing.py)."""

from __future__ import annotations

import pytest

from gatewayd.sims.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)
