"""Bounds on what the broker may send us. Anyone who can publish to `.../cmd/+` reaches this
process, so no inbound message may be large enough to move its resident memory.

paho reads a whole packet into memory before it calls back, so a cap applied in the callback
comes too late for the bytes themselves. The real fence is earlier:

- MQTT 5: CONNECT carries Maximum Packet Size = PACKET_MAX. The broker must then not send us
  anything larger; mosquitto drops such a message for this client (and a QoS 1 one does not
  hold up the messages behind it). Nothing larger ever reaches our socket.
- MQTT 3.1.1 has no such property: the broker sends what it has and paho buffers it whole. What
  the gateway can still do is refuse it before any parsing (MAX_COMMAND_BYTES, checked on
  arrival by the command worker) and let it go at once. What only the broker can do is cap
  what it accepts from publishers (mosquitto: `max_packet_size`, or `message_size_limit` in
  older versions) and deny `.../cmd/#` to all but the fleet's account in its ACL. docs/fleet.md
  says so.
"""

from __future__ import annotations

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
