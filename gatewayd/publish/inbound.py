"""Bounds on what the broker may send us. Anyone who can publish to `.../cmd/+` reaches this
process, so no inbound message may be large enough to move its resident memory.

paho reads a whole packet into memory before it calls back, so a cap applied in the callback
comes too late for the bytes themselves. The real fence is earlier:

- MQTT 5: CONNECT carries Maximum Packet Size = PACKET_MAX. The broker must then not send us
  anything larger; mosquitto drops such a message for this client (and a QoS 1 one does not
  hold up the messages behind it). Nothing larger ever reaches our socket.
- MQTT 3.1.1 has no such property: the broker sends what it has. `BoundedClient` therefore
  reads the stream under paho: a PUBLISH whose remaining length exceeds PACKET_MAX is read
  off the socket in chunks and thrown away as it arrives, and paho is handed the same PUBLISH
  (topic, packet id, so a QoS 1 message is still acknowledged) with the payload OVERSIZED +
  its size. The command worker turns that into a `command dropped` event. (The seam is paho's
  `_sock_recv`, the one place paho reads its socket; tests/fleet pins paho's behaviour.)
- And in any case, before anything parses a command, its size is checked again
  (MAX_COMMAND_BYTES, by the command worker). What only the broker can do is cap what it
  accepts from publishers (mosquitto: `max_packet_size`) and deny `.../cmd/#` to all but the
  fleet's account in its ACL. docs/fleet.md says so.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

# A signed update command (a manifest and a URL) is about 2 KB; 64 KiB leaves ample room.
MAX_COMMAND_BYTES = 64 * 1024
# The largest packet we accept: a command, its topic (at most 64 KiB by the protocol) and the
# headers. Acks and CONNACK are a few bytes.
PACKET_MAX = MAX_COMMAND_BYTES + 65_536 + 1024


def connect_properties(v5: bool) -> Properties | None:
    """CONNECT's properties under MQTT 5 (Maximum Packet Size); None under 3.1.1."""
    if not v5:
        return None
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.MaximumPacketSize = PACKET_MAX
    return props


OVERSIZED = b"\0gatewayd-oversized:"  # payload of a PUBLISH dropped for its size, + the size
_PUBLISH = 3
_DISCARD_CHUNK = 1 << 16


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


class _Stream:
    """Where we are in the inbound packet stream of one connection."""

    def __init__(self, sock: object) -> None:
        self.sock = sock
        self.state = "header"
        self.header = 0
        self.length_bytes = bytearray()
        self.length = 0
        self.ahead = bytearray()  # read from the socket, not yet given to paho
        self.body_left = 0  # body bytes paho will read straight from the socket
        self.need = 0  # bytes of the variable header still to read (oversized packets)
        self.var = bytearray()
        self.discard = 0


class BoundedClient(mqtt.Client):
    """paho's client, reading its socket through a filter that never lets a PUBLISH larger
    than PACKET_MAX into memory (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stream: _Stream | None = None
        self.oversized = 0  # packets dropped for their size

    def _sock_recv(self, bufsize: int) -> bytes:
        st = self._stream
        if st is None or st.sock is not self._sock:
            st = self._stream = _Stream(self._sock)
        while True:
            if st.ahead:
                out = bytes(st.ahead[:bufsize])
                del st.ahead[:len(out)]
                self._after_ahead(st)
                return out
            if st.state == "body":
                if st.body_left:
                    data = super()._sock_recv(min(bufsize, st.body_left))
                    st.body_left -= len(data)
                    if not st.body_left:
                        st.state = "header"
                    return data
                st.state = "header"
            if st.state == "header":
                data = super()._sock_recv(1)
                if data:
                    st.header, st.state = data[0], "length"
                    st.length_bytes.clear()
                return data
            if not self._advance(st):
                return b""  # connection closed while we were reading ahead

    def _after_ahead(self, st: _Stream) -> None:
        if not st.ahead and st.state == "body" and not st.body_left:
            st.state = "header"

    def _advance(self, st: _Stream) -> bool:
        """Read ahead what the current state needs; False when the peer closed."""
        if st.state == "length":
            return self._read_length(st)
        if st.state == "varhead":
            return self._read_varhead(st)
        return self._discard(st)

    def _read_length(self, st: _Stream) -> bool:
        while True:
            byte = super()._sock_recv(1)  # BlockingIOError: paho retries, our state stays
            if not byte:
                return False
            st.length_bytes.append(byte[0])
            if not byte[0] & 128 or len(st.length_bytes) >= 4:
                break
        st.length = sum((b & 127) << (7 * i) for i, b in enumerate(st.length_bytes))
        if st.header >> 4 == _PUBLISH and st.length > PACKET_MAX:
            st.state, st.need, st.var = "varhead", 2, bytearray()
            return True
        st.ahead += st.length_bytes
        st.state, st.body_left = "body", st.length
        return True

    def _read_varhead(self, st: _Stream) -> bool:
        """Topic (and packet id) of an oversized PUBLISH: at most 64 KiB + 2."""
        qos = (st.header >> 1) & 3
        while st.need:
            data = super()._sock_recv(st.need)
            if not data:
                return False
            st.var += data
            st.need -= len(data)
            if len(st.var) == 2:  # the topic's length is known now
                st.need = int.from_bytes(st.var, "big") + (2 if qos else 0)
        st.state, st.discard = "discard", st.length - len(st.var)
        return True

    def _discard(self, st: _Stream) -> bool:
        while st.discard:
            data = super()._sock_recv(min(st.discard, _DISCARD_CHUNK))
            if not data:
                return False
            st.discard -= len(data)
        self.oversized += 1
        payload = OVERSIZED + str(st.length).encode()
        props = b"\0" if self._protocol == mqtt.MQTTv5 else b""
        body = bytes(st.var) + props + payload
        st.ahead += _varint(len(body)) + body
        st.state, st.body_left = "body", 0
        return True
