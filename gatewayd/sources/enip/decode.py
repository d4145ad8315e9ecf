"""Logix tag names and values, and what a CIP general status means for a point (no I/O).

Logix tags are symbolic: the controller resolves the name, so there is nothing to decode but the
value's type. pylogix hands values as Python numbers, bools or strings; a tag's CIP status says
whether it was read.
"""

from __future__ import annotations

import re

from ...model import Quality

# Name, then .Member or [index] parts; a program tag starts Program:<program>.
_PART = r"[A-Za-z_][A-Za-z0-9_]{0,39}(?:\[\d+(?:,\d+){0,2}\])?"
_TAG = re.compile(rf"^(?:Program:[A-Za-z_][A-Za-z0-9_]{{0,39}}\.)?{_PART}(?:\.{_PART})*(?:\.\d{{1,2}})?$")

SUCCESS = 0x00
# CIP general status codes (Vol. 1, Appendix B) that mean the link, not the tag, failed.
LINK_FAILURES = {0x01: "connection failure", 0x07: "connection lost"}
TAG_PROBLEMS = {
    0x04: "the controller does not know this tag (path segment error)",
    0x05: "the controller does not know this tag (path destination unknown)",
    0x06: "partial transfer",
    0x08: "service not supported",
    0x0F: "privilege violation: the tag's External Access is None",
    0x13: "not enough data",
    0x1F: "vendor specific error",
    0x26: "path size invalid",
}


TAG_FORM = ("a Logix tag: write Tank_Level, Levels[3], Motor.Speed, Word.5 (a bit) or "
            "Program:MainProgram.Speed")


def is_tag(name: str) -> bool:
    """Whether `name` is a Logix tag reference (what RSLogix/Studio 5000 accepts)."""
    return bool(_TAG.match(name))


def check_tag(name: str) -> None:
    if not is_tag(name):
        raise ValueError(f"{name!r} is not {TAG_FORM}")


def tag_quality(status: int) -> Quality:
    """A point's quality from its tag's CIP status."""
    if status == SUCCESS:
        return Quality.GOOD
    return Quality.BAD_COMM if status in LINK_FAILURES else Quality.BAD_DEVICE_EXCEPTION


def tag_problem(tag: str, status: int) -> str:
    text = LINK_FAILURES.get(status) or TAG_PROBLEMS.get(status) or "refused"
    return f"tag {tag}: {text} (CIP status 0x{status:02X})"


def raw_value(value: object) -> float | int | str | None:
    """A tag's value as the point stage takes it: BOOL as 0/1, numbers as they are, STRING as text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return None  # a UDT or an array read whole: not a point value
