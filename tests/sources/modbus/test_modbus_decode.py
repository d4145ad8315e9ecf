"""Pure Modbus decoding and read planning, by tables of register vectors."""

from __future__ import annotations

import pytest

from gatewayd.points.stage import transform_of
from gatewayd.sources.modbus.config import ModbusPoint
from gatewayd.sources.modbus.decode import decode_registers, encode_value, plan_reads


def pt(**kw: object) -> ModbusPoint:
    base = {"alias": 1, "name": "p", "register": 0}
    return ModbusPoint.load({**base, **kw})


@pytest.mark.parametrize(("kw", "regs", "expected"), [
    ({"data_type": "uint16"}, [0xFFFF], 65535),
    ({"data_type": "int16"}, [0xFFFF], -1),
    ({"data_type": "int16"}, [0x8000], -32768),
    ({"data_type": "uint32"}, [0x0001, 0x0002], 0x00010002),
    ({"data_type": "uint32", "word_order": "little"}, [0x0002, 0x0001], 0x00010002),
    ({"data_type": "int32"}, [0xFFFF, 0xFFFE], -2),
    ({"data_type": "float32"}, [0x4148, 0x0000], 12.5),
    ({"data_type": "float32", "word_order": "little"}, [0x0000, 0x4148], 12.5),
    ({"data_type": "float32", "byte_order": "little"}, [0x4841, 0x0000], 12.5),
    ({"data_type": "float32", "byte_order": "little", "word_order": "little"}, [0x0000, 0x4841], 12.5),
    ({"data_type": "int64"}, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFD], -3),
    ({"data_type": "uint64"}, [0, 0, 1, 0], 65536),
    ({"data_type": "float64"}, [0x4029, 0x0000, 0x0000, 0x0000], 12.5),
    ({"data_type": "bit", "bit": 0}, [0b1010], 0),
    ({"data_type": "bit", "bit": 3}, [0b1010], 1),
    ({"data_type": "bool"}, [7], 1),
    ({"data_type": "int16", "gain": 0.1, "offset": -40}, [650], 25.0),
])
def test_decode_table(kw: dict, regs: list[int], expected: float) -> None:
    """Each type, byte order and word order decodes the documented register layout; the
    point stage then applies the point's scale and offset (`gain` is the old name of scale)."""
    p = pt(**kw)
    value, _ = transform_of(p, p.point("d")).value(decode_registers(p, regs), 0)
    assert value == pytest.approx(expected)


@pytest.mark.parametrize("dtype", ["int16", "uint16", "int32", "uint32", "int64", "float32", "float64"])
@pytest.mark.parametrize("bo", ["big", "little"])
@pytest.mark.parametrize("wo", ["big", "little"])
def test_encode_is_inverse_of_decode(dtype: str, bo: str, wo: str) -> None:
    """The simulator's encoder and the gateway's decoder agree for every layout."""
    value = -1234 if dtype.startswith("int") else 1234 if dtype.startswith("uint") else -12.375
    regs = encode_value(value, dtype, bo, wo)
    assert decode_registers(pt(data_type=dtype, byte_order=bo, word_order=wo), regs) == value


def test_adjacent_registers_coalesce_into_few_reads() -> None:
    """300 adjacent float32 points need ceil(600/125) reads, never splitting a value."""
    points = [pt(alias=i + 1, name=f"p{i}", register=2 * i, data_type="float32") for i in range(300)]
    blocks = plan_reads(points)
    assert len(blocks) == 5
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.points) for b in blocks) == 300
    for b in blocks:
        assert all(b.start <= p.address and p.address + 2 <= b.start + b.count for p in b.points)


def test_tables_and_gaps_split_reads() -> None:
    """Different tables never share a read; a hole wider than max_gap splits a block."""
    points = [pt(alias=1, name="a", register=0), pt(alias=2, name="b", register=1),
              pt(alias=3, name="c", register=10), pt(alias=4, name="d", register=0, table="input"),
              pt(alias=5, name="e", register=5, table="coil", data_type="bool")]
    blocks = plan_reads(points)
    assert [(b.table, b.start, b.count) for b in blocks] == [
        ("holding", 0, 2), ("holding", 10, 1), ("input", 0, 1), ("coil", 5, 1)]
    merged = plan_reads(points, max_gap=8)
    assert next((b.table, b.start, b.count) for b in merged) == ("holding", 0, 11)
