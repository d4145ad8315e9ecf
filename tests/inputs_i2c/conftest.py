"""Fixtures of the I2C and 4-20 mA tests (helpers to import live in i2c_testing.py)."""

from __future__ import annotations

import pytest
from i2c_testing import SimClock


@pytest.fixture
def clock() -> SimClock:
    return SimClock()
