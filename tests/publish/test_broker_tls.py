"""TLS with a client certificate and username/password against a real mosquitto, over MQTT 5
and 3.1.1; a wrong password is refused and nothing is lost meanwhile."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from pki_kit import make_cert, new_key, pem

from gatewayd import config
from gatewayd.supervisor import Supervisor
from gatewayd.testing.broker import free_port, mosquitto_binary, stay_user, wait_port


@pytest.fixture
def tls_broker(tmp_path: Path):
    ca_key = new_key()
    ca = make_cert("test-ca", ca_key, ca=True)
    _, ca_pem = pem(tmp_path / "ca", ca_key, ca)
    srv_key = new_key()
    srv_k, srv_c = pem(tmp_path / "server", srv_key, make_cert("localhost", srv_key, (ca.subject, ca_key)))
    cli_key = new_key()
    cli_k, cli_c = pem(tmp_path / "client", cli_key, make_cert("gw-tls", cli_key, (ca.subject, ca_key)))
    passwd = tmp_path / "passwd"
    passwd.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "gw", "s3cret"], check=True)
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"{stay_user()}listener {port} 127.0.0.1\ncafile {ca_pem}\n"
                    f"certfile {srv_c}\nkeyfile {srv_k}\n"
                    f"require_certificate true\npassword_file {passwd}\nallow_anonymous false\n")
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stderr=subprocess.DEVNULL)
    wait_port(port)
    yield {"port": port, "ca": ca_pem, "cert": cli_c, "key": cli_k}
    proc.terminate()
    proc.wait(5)
    proc.__exit__(None, None, None)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_tls_client_cert_and_password(tmp_path: Path, tls_broker: dict, protocol: str) -> None:
    """With CA, client certificate and password the gateway connects and its batches are acked;
    with a wrong password it is refused and keeps the batches queued."""
    results = {}
    for password in ("s3cret", "wrong"):
        cfg = config.parse({
            "gateway": {"id": f"gw-tls-{protocol}"},
            "broker": {"url": f"mqtts://localhost:{tls_broker['port']}", "protocol": protocol,
                       "ca_file": str(tls_broker["ca"]), "cert_file": str(tls_broker["cert"]),
                       "key_file": str(tls_broker["key"]), "username": "gw", "password": password},
            "store": {"path": str(tmp_path / f"q-{password}.db")}, "publish": {"interval_ms": 100}})
        sup = Supervisor(cfg)
        sup.start()
        from gatewayd.model import Event

        assert sup.batcher is not None
        sup.batcher.event(Event(0, "hello", {}))
        deadline = time.monotonic() + (8 if password == "s3cret" else 2)
        while time.monotonic() < deadline and not (sup.publisher and sup.publisher.stats.acked):
            time.sleep(0.05)
        assert sup.publisher is not None and sup.store is not None
        results[password] = (sup.publisher.stats.connected, sup.publisher.stats.acked,
                             sup.store.stats().depth)
        sup.stop(drain_s=0.5)
    assert results["s3cret"][:2] == (True, 1)
    assert results["wrong"] == (False, 0, 1)


def test_listen_reads_broker_tls_and_credentials_from_the_gateway_config(
        tmp_path: Path, tls_broker: dict) -> None:
    """`gatewayd listen --config` takes the broker URL, CA, client certificate, username and
    password file from the gateway's own config, and decodes what the gateway publishes."""
    import json
    import sys

    (tmp_path / "pw").write_text("s3cret\n")
    conf = tmp_path / "gw.toml"
    conf.write_text(f"""
[gateway]
id = "gw-tls-listen"

[broker]
url = "mqtts://localhost:{tls_broker['port']}"
ca_file = "{tls_broker['ca']}"
cert_file = "{tls_broker['cert']}"
key_file = "{tls_broker['key']}"
username = "gw"
password_file = "{tmp_path / 'pw'}"

[store]
path = "{tmp_path / 'q.db'}"
""")
    sup = Supervisor(config.load(conf))
    sup.start()
    try:
        out = subprocess.run([sys.executable, "-m", "gatewayd.cli", "listen", "--config", str(conf),
                              "--all", "--count", "1", "--timeout-s", "20"],
                             capture_output=True, text=True, timeout=30)
    finally:
        sup.stop()
    assert out.returncode == 0, out.stderr
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["type"] in ("birth", "state") and "refused" not in out.stderr
