"""BoundedClient against a real mosquitto: under MQTT 3.1.1 an oversized PUBLISH is read off the
socket and thrown away as it arrives, paho gets a stand-in with the same topic (and packet id,
so QoS 1 and 2 complete), and everything around it arrives intact. (paho hands a QoS 2 message
over at PUBREL, so arrival order across QoS levels is paho's, not checked here.)"""

from __future__ import annotations

import os
import queue
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd.publish.inbound import OVERSIZED, PACKET_MAX, BoundedClient


def _client(broker: Any, protocol: int, got: queue.Queue[tuple[str, bytes, bool]],
            topic: str) -> BoundedClient:
    c = BoundedClient(CallbackAPIVersion.VERSION2, protocol=protocol)
    c.on_message = lambda _c, _u, m: got.put((m.topic, bytes(m.payload), bool(m.retain)))
    c.connect("127.0.0.1", broker.port)
    c.subscribe(topic + "/#", qos=2)
    c.loop_start()
    time.sleep(0.3)
    return c


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_oversized_packets_become_stand_ins(broker: Any, protocol: int) -> None:
    """Small, just-under-the-cap and oversized messages at QoS 0, 1 and 2, and a retained
    oversized one met at subscribe time: every one arrives, oversized ones as stand-ins."""
    topic = f"inbound/{protocol}"
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    big = os.urandom(3 << 20)
    pub.publish(topic + "/retained", big, qos=1, retain=True).wait_for_publish(10)
    got: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
    sub = _client(broker, protocol, got, topic)
    try:
        sent = [("a", b"small", 0), ("b", big, 1), ("c", os.urandom(PACKET_MAX - 200), 1),
                ("d", big, 0), ("e", b"after", 2), ("f", big, 2), ("g", b"last", 1)]
        for leaf, payload, qos in sent:
            pub.publish(f"{topic}/{leaf}", payload, qos=qos).wait_for_publish(10)
        seen = [got.get(timeout=10) for _ in range(len(sent) + 1)]
    finally:
        pub.publish(topic + "/retained", b"", qos=1, retain=True).wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
        sub.loop_stop()
        sub.disconnect()
    # No Maximum Packet Size is sent here, even under MQTT 5: the filter alone does the work,
    # as it must with a broker that ignores the property.
    by_topic = {t: p for t, p, _ in seen}
    assert by_topic[topic + "/retained"].startswith(OVERSIZED)
    for leaf, payload, _ in sent:
        p = by_topic[f"{topic}/{leaf}"]
        if len(payload) > PACKET_MAX:
            assert p.startswith(OVERSIZED) and int(p[len(OVERSIZED):]) > len(payload)
        else:
            assert p == payload
    assert sub.oversized == 4


def test_mosquitto_honours_our_maximum_packet_size(broker: Any) -> None:
    """Plain paho under MQTT 5 with our CONNECT properties: mosquitto never sends the oversized
    QoS 1 message (it is dropped for this client), and the one behind it still arrives."""
    from gatewayd.publish.inbound import connect_properties

    topic = "inbound/maxpacket"
    got: queue.Queue[tuple[str, int]] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sub.on_message = lambda _c, _u, m: got.put((m.topic, len(m.payload)))
    sub.connect("127.0.0.1", broker.port, properties=connect_properties(True))
    sub.subscribe(topic + "/#", qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        time.sleep(0.3)
        pub.publish(topic + "/big", os.urandom(PACKET_MAX + 1), qos=1).wait_for_publish(10)
        pub.publish(topic + "/small", b"ok", qos=1).wait_for_publish(10)
        assert got.get(timeout=10) == (topic + "/small", 2)
        time.sleep(0.3)
        assert got.empty()
    finally:
        pub.loop_stop()
        pub.disconnect()
        sub.loop_stop()
        sub.disconnect()
