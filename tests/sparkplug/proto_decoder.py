"""An independent Sparkplug B decoder: message classes built by the protobuf library from the
official sparkplug_b.proto kept beside this file (PROVENANCE.md). There is no protoc here, so a
small reader turns the .proto's message and field lines into a FileDescriptorProto; the library
does all the decoding."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO = Path(__file__).with_name("sparkplug_b.proto")
F = descriptor_pb2.FieldDescriptorProto
SCALARS = {"uint32": F.TYPE_UINT32, "uint64": F.TYPE_UINT64, "float": F.TYPE_FLOAT,
           "double": F.TYPE_DOUBLE, "bool": F.TYPE_BOOL, "string": F.TYPE_STRING,
           "bytes": F.TYPE_BYTES}
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|\d+|[{};=]")


def _tokens(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return TOKEN.findall(text)


KNOWN: set[str] = set()  # full names of every message read
PENDING: list[tuple[Any, str, str]] = []  # (field, type as written, scope it was written in)


def _message(tokens: list[str], i: int, msg: Any, scope: str) -> int:
    """Reads a message body from tokens[i] (after its '{'); returns the index after its '}'."""
    KNOWN.add(scope)
    oneof = None
    while tokens[i] != "}":
        t = tokens[i]
        if t == "message":
            nested = msg.nested_type.add(name=tokens[i + 1])
            i = _message(tokens, i + 3, nested, f"{scope}.{tokens[i + 1]}")
        elif t == "oneof":
            oneof = len(msg.oneof_decl)
            msg.oneof_decl.add(name=tokens[i + 1])
            i += 3
            while tokens[i] != "}":
                i = _field(tokens, i, msg, scope, None, oneof)
            i += 1
            oneof = None
        elif t == "extensions":
            end = tokens[i + 3]
            msg.extension_range.add(start=int(tokens[i + 1]),
                                    end=536870912 if end == "max" else int(end) + 1)
            i += 5
        else:
            i = _field(tokens, i, msg, scope, t, oneof)
    return i + 1


def _field(tokens: list[str], i: int, msg: Any, scope: str, label: str | None,
           oneof: int | None) -> int:
    if label in ("optional", "repeated", "required"):
        i += 1
    ftype, name, number = tokens[i], tokens[i + 1], int(tokens[i + 3])
    f = msg.field.add(name=name, number=number,
                      label=F.LABEL_REPEATED if label == "repeated" else F.LABEL_OPTIONAL)
    if ftype in SCALARS:
        f.type = SCALARS[ftype]
    else:
        f.type = F.TYPE_MESSAGE
        PENDING.append((f, ftype, scope))
    if oneof is not None:
        f.oneof_index = oneof
    return i + 5


def _resolve(name: str, scope: str) -> str:
    """Protobuf's scoping: the innermost enclosing message that has the name wins."""
    parts = scope.split(".")
    for n in range(len(parts), -1, -1):
        candidate = ".".join([*parts[:n], name])
        if candidate in KNOWN:
            return candidate
    raise ValueError(f"unknown type {name} in {scope}")


def payload_class() -> Any:
    tokens = _tokens(PROTO.read_text())
    fd = descriptor_pb2.FileDescriptorProto(name="sparkplug_b.proto", syntax="proto2",
                                            package="org.eclipse.tahu.protobuf")
    i = tokens.index("message")
    top = fd.message_type.add(name=tokens[i + 1])
    _message(tokens, i + 3, top, tokens[i + 1])
    for f, written, scope in PENDING:
        f.type_name = f".org.eclipse.tahu.protobuf.{_resolve(written, scope)}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("org.eclipse.tahu.protobuf.Payload"))


Payload = payload_class()


def decode(data: bytes) -> Any:
    msg = Payload()
    msg.ParseFromString(data)
    return msg
