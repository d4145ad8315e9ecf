"""Read an IODD (IO-Link device description) into what decoding process data needs.

IODD files come from device makers and installers: untrusted input. They are parsed with
defusedxml and no DTD at all (no entity expansion, no external entities), capped in size, and
any problem is a ConfigError naming the file and what is wrong.

What is kept: the device identity (vendor id, device id, name), and for the chosen ProcessDataIn
its items: bit offset and length, type, raw value range, named single values, and the scaling
and unit the UserInterface documents for each record item (gradient, offset, unitCode).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as DET

from ...errors import ConfigError

MAX_BYTES = 16 * 1024 * 1024  # real IODDs are well under this; a bigger file is not an IODD
TYPES = {"BooleanT": "bool", "UIntegerT": "uint", "IntegerT": "int", "Float32T": "float32",
         "StringT": "string", "OctetStringT": "octets"}
FIXED_BITS = {"BooleanT": 1, "Float32T": 32}

# IO-Link unit codes (IODD standard unit definitions) for the units sensors commonly report.
UNITS = {
    1000: "K", 1001: "°C", 1002: "°F", 1005: "°", 1010: "m", 1013: "mm", 1018: "ft",
    1023: "m²", 1038: "l", 1041: "hl", 1054: "s", 1058: "min", 1059: "h", 1060: "d",
    1061: "m/s", 1077: "Hz", 1081: "kHz", 1082: "1/s", 1083: "1/min", 1088: "kg", 1092: "t",
    1100: "g/cm³", 1105: "g/l", 1120: "N", 1123: "mN", 1130: "Pa", 1133: "kPa", 1137: "bar",
    1138: "mbar", 1149: "mmH2O", 1175: "Wh", 1179: "kWh", 1190: "kW", 1209: "A",
    1211: "mA", 1221: "Ah", 1240: "V", 1342: "%", 1349: "m³/h", 1353: "l/h", 1422: "pH",
}


@dataclass(frozen=True)
class Item:
    """One value inside the process data. Offsets count from the last bit (IO-Link rule)."""

    name: str
    subindex: int
    bit_offset: int
    bit_length: int
    kind: str  # bool, uint, int, float32, string, octets
    lower: float | None = None  # raw value range, when the IODD gives one
    upper: float | None = None
    gradient: float = 1.0
    offset: float = 0.0
    unit: str = ""
    labels: dict[int, str] = field(default_factory=dict, compare=False)

    @property
    def numeric(self) -> bool:
        return self.kind in ("bool", "uint", "int", "float32")


@dataclass(frozen=True)
class Iodd:
    path: str
    vendor_id: int
    device_id: int
    device_name: str
    pd_bits: int
    items: tuple[Item, ...]

    @property
    def pd_octets(self) -> int:
        return (self.pd_bits + 7) // 8

    def item(self, key: str) -> Item:
        """The item named `key` (case-insensitive) or with subindex `key`; ValueError if none."""
        for it in self.items:
            if it.name.lower() == key.lower() or str(it.subindex) == key:
                return it
        known = ", ".join(f"{it.subindex}:{it.name}" for it in self.items)
        raise ValueError(f"an item of {Path(self.path).name}: one of {known}")


def load(path: str | Path, process_data_in: str | None = None) -> Iodd:
    """Parse the IODD at `path`; ConfigError naming the file for anything wrong with it."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise _bad(p, f"larger than {MAX_BYTES // 2**20} MiB")
        root = DET.parse(str(p), forbid_dtd=True).getroot()
    except OSError as e:
        raise _bad(p, f"cannot read: {e.strerror}") from None
    except defusedxml.DefusedXmlException as e:
        why = f"refused unsafe XML ({type(e).__name__}): DTDs and entities are not allowed"
        raise _bad(p, why) from None
    except ET.ParseError as e:
        raise _bad(p, f"not well-formed XML: {e}") from None
    _strip_namespaces(root)
    try:
        return _Reader(root, str(p)).iodd(process_data_in)
    except ValueError as e:
        raise _bad(p, str(e)) from None


def _bad(path: Path, why: str) -> ConfigError:
    return ConfigError([f"{path}: IODD {why}"], str(path))


def _strip_namespaces(root: ET.Element) -> None:
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]


def _xsi_type(el: ET.Element) -> str:
    for key, value in el.attrib.items():
        if key.endswith("}type"):
            return value.rsplit(":", 1)[-1]
    return ""


def _int(el: ET.Element, attr: str, default: int | None = None) -> int:
    raw = el.get(attr)
    if raw is None:
        if default is None:
            raise ValueError(f"<{el.tag}> has no {attr}")
        return default
    try:
        return int(raw, 0) if raw.lower().startswith("0x") else int(raw)
    except ValueError:
        raise ValueError(f"<{el.tag}> {attr}={raw!r} is not an integer") from None


def _float(el: ET.Element, attr: str, default: float) -> float:
    raw = el.get(attr)
    try:
        return default if raw is None else float(raw)
    except ValueError:
        raise ValueError(f"<{el.tag}> {attr}={raw!r} is not a number") from None


class _Reader:
    """Walks one parsed IODD tree; methods raise ValueError saying what is wrong."""

    def __init__(self, root: ET.Element, path: str) -> None:
        if root.tag != "IODevice":
            raise ValueError(f"root element is <{root.tag}>, expected <IODevice>")
        self.root = root
        self.path = path
        self.texts = {t.get("id"): t.get("value", "") for t in root.iter("Text")}
        self.datatypes = {d.get("id"): d for d in root.iter("Datatype") if d.get("id")}

    def text(self, el: ET.Element | None, fallback: str) -> str:
        name = el.find("Name") if el is not None else None
        if name is None:
            return fallback
        return self.texts.get(name.get("textId"), "") or fallback

    def iodd(self, pd_id: str | None) -> Iodd:
        ident = self.root.find(".//DeviceIdentity")
        if ident is None:
            raise ValueError("has no <DeviceIdentity>")
        name_el = ident.find("DeviceName")
        device_name = self.texts.get(name_el.get("textId"), "") if name_el is not None else ""
        pd_in = self.process_data_in(pd_id)
        bits = _int(pd_in, "bitLength")
        items = self.items(pd_in, bits)
        return Iodd(self.path, _int(ident, "vendorId"), _int(ident, "deviceId"), device_name,
                    bits, tuple(items))

    def process_data_in(self, pd_id: str | None) -> ET.Element:
        found = list(self.root.iter("ProcessDataIn"))
        if not found:
            raise ValueError("has no <ProcessDataIn>")
        if pd_id is None:
            return found[0]
        for el in found:
            if el.get("id") == pd_id:
                return el
        ids = ", ".join(str(el.get("id")) for el in found)
        raise ValueError(f"has no ProcessDataIn with id {pd_id!r} (it has {ids})")

    def resolve(self, holder: ET.Element, what: str) -> ET.Element:
        """The datatype element of `holder`: inline (<Datatype>/<SimpleDatatype>) or by ref."""
        for tag in ("Datatype", "SimpleDatatype"):
            el = holder.find(tag)
            if el is not None:
                return el
        ref = holder.find("DatatypeRef")
        if ref is not None and ref.get("datatypeId") in self.datatypes:
            return self.datatypes[ref.get("datatypeId")]
        raise ValueError(f"{what} has no datatype")

    def items(self, pd_in: ET.Element, bits: int) -> list[Item]:
        dt = self.resolve(pd_in, f"ProcessDataIn {pd_in.get('id')}")
        infos = self.ui_infos(pd_in.get("id", ""))
        if _xsi_type(dt) != "RecordT":
            name = self.text(pd_in, "value")
            return [self.item(dt, name, 0, 0, infos.get(0), bits)]
        out = []
        for rec in dt.findall("RecordItem"):
            sub = _int(rec, "subindex")
            sdt = self.resolve(rec, f"record item {sub}")
            item = self.item(sdt, self.text(rec, f"item{sub}"), sub, _int(rec, "bitOffset"),
                             infos.get(sub), None)
            if item.bit_offset + item.bit_length > bits:
                raise ValueError(f"record item {sub} ({item.name}) runs past the "
                                 f"{bits} bits of the process data")
            out.append(item)
        if not out:
            raise ValueError("ProcessDataIn record has no <RecordItem>")
        return out

    def item(self, dt: ET.Element, name: str, sub: int, offset: int,
             info: ET.Element | None, whole: int | None) -> Item:
        xtype = _xsi_type(dt)
        if xtype not in TYPES:
            raise ValueError(f"item {name!r} has type {xtype or '(none)'}, expected one of "
                             + ", ".join(TYPES))
        length = FIXED_BITS.get(xtype) or self.bit_length(dt, xtype, name, whole)
        lower, upper = self.value_range(dt)
        unit_code = _int(info, "unitCode", 0) if info is not None else 0
        return Item(
            name, sub, offset, length, TYPES[xtype], lower, upper,
            _float(info, "gradient", 1.0) if info is not None else 1.0,
            _float(info, "offset", 0.0) if info is not None else 0.0,
            UNITS.get(unit_code, ""), self.labels(dt),
        )

    def bit_length(self, dt: ET.Element, xtype: str, name: str, whole: int | None) -> int:
        if xtype in ("StringT", "OctetStringT"):
            return 8 * _int(dt, "fixedLength")
        length = _int(dt, "bitLength", whole or 0)
        if not 1 <= length <= 64:
            raise ValueError(f"item {name!r} has bitLength {length}, expected 1..64")
        return length

    @staticmethod
    def value_range(dt: ET.Element) -> tuple[float | None, float | None]:
        vr = dt.find("ValueRange")
        if vr is None:
            return None, None
        return _float(vr, "lowerValue", float("-inf")), _float(vr, "upperValue", float("inf"))

    def labels(self, dt: ET.Element) -> dict[int, str]:
        out = {}
        for sv in dt.findall("SingleValue"):
            raw = sv.get("value", "")
            key = {"true": 1, "false": 0}.get(raw.lower())
            try:
                out[key if key is not None else int(float(raw))] = self.text(sv, raw)
            except ValueError:
                continue  # a float single value: not a label we can key by raw integer
        return out

    def ui_infos(self, pd_id: str) -> dict[int, ET.Element]:
        out: dict[int, ET.Element] = {}
        for ref in self.root.iter("ProcessDataRef"):
            if ref.get("processDataId") == pd_id:
                for info in ref.findall("ProcessDataRecordItemInfo"):
                    out[_int(info, "subindex")] = info
        return out
