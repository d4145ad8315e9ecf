"""Why the broker connection fails, logged and shown in status: a real mosquitto with TLS
certificates made here, each wrong in one way (unknown CA, another hostname, expired)."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pki_kit import make_cert, new_key, pem

from gatewayd import config
from gatewayd.publish.why_not_connected import explain, probe
from gatewayd.supervisor import Supervisor
from gatewayd.testing.broker import free_port, mosquitto_binary, stay_user, wait_port


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A CA the gateway trusts, one it does not, and three server certificates."""
    out = {}
    ca_key, other_key = new_key(), new_key()
    ca, other = make_cert("plant-ca", ca_key, ca=True), make_cert("other-ca", other_key, ca=True)
    _, out["ca"] = pem(tmp_path / "ca", ca_key, ca)
    for name, issuer, kw in (("good", (ca.subject, ca_key), {}),
                             ("unknown_ca", (other.subject, other_key), {}),
                             ("wrong_host", (ca.subject, ca_key), {"hosts": ("broker.elsewhere",)}),
                             ("expired", (ca.subject, ca_key), {"days": -1})):
        key = new_key()
        out[f"{name}_key"], out[name] = pem(tmp_path / name, key, make_cert("broker", key, issuer,
                                                                              **kw))
    return out


@pytest.fixture
def tls_mosquitto(tmp_path: Path) -> Iterator[Any]:
    """Start a TLS mosquitto serving a given certificate; stopped (by PID) at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(cert: Path, key: Path, extra: str = "") -> int:
        port = free_port()
        conf = tmp_path / f"mosquitto-{port}.conf"
        conf.write_text(f"{stay_user()}listener {port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n"
                        f"allow_anonymous true\n{extra}")
        procs.append(subprocess.Popen([mosquitto_binary(), "-c", str(conf)],
                                      stderr=subprocess.DEVNULL))
        wait_port(port)
        return port

    yield start
    for p in procs:
        p.terminate()
        p.wait(5)


# paho drops the socket of a failed TLS handshake without closing it (its retry loop); the
# garbage collector's ResourceWarning about that socket is paho's, not ours.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("case, says", [
    ("unknown_ca", "TLS: unknown CA: the broker's certificate is not signed by a CA in ca_file"),
    ("wrong_host", "TLS: hostname mismatch: the broker's certificate is not for the host in "
                   "broker.url"),
    ("expired", "TLS: expired certificate"),
])
def test_tls_failure_is_logged_with_its_reason(tmp_path: Path, pki: dict[str, Path],
                                               tls_mosquitto: Any, caplog: Any, case: str,
                                               says: str) -> None:
    """The daemon's publisher logs why (once) and status shows it; with the right
    certificate the same settings connect."""
    port = tls_mosquitto(pki[case], pki[f"{case}_key"])
    cfg = config.parse({"gateway": {"id": f"gw-{case}"},
                        "broker": {"url": f"mqtts://localhost:{port}", "ca_file": str(pki["ca"])},
                        "store": {"path": str(tmp_path / "q.db")}})
    sup = Supervisor(cfg)
    caplog.set_level(logging.WARNING, logger="gatewayd")
    sup.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not sup.status()["broker"]["error"]:
            time.sleep(0.05)
        st = sup.status()["broker"]
    finally:
        sup.stop(drain_s=0)
    assert not st["connected"]
    assert st["error"].startswith(says), st["error"]
    logged = [r.getMessage() for r in caplog.records if "cannot connect" in r.getMessage()]
    assert len(logged) == 1 and logged[0] == (f"broker mqtts://localhost:{port}: cannot connect: "
                                              f"{st['error']}")
    good = tls_mosquitto(pki["good"], pki["good_key"])
    from gatewayd.publish.why_not_connected import tls_context

    assert probe("localhost", good, tls_context(pki["ca"], None, None)) is None


def test_a_broker_that_refuses_our_certificate_says_why(pki: dict[str, Path],
                                                        tls_mosquitto: Any) -> None:
    """A broker that wants client certificates from the plant CA: none sent (TLS 1.3, and 1.2
    where the alert is a bare handshake failure), and one from a CA it does not know, each
    named from the TLS alert's reason code."""
    from gatewayd.publish.why_not_connected import tls_context

    port = tls_mosquitto(pki["good"], pki["good_key"],
                         f"cafile {pki['ca']}\nrequire_certificate true\n")
    none = probe("localhost", port, tls_context(pki["ca"], None, None))
    assert none is not None and none.startswith("TLS: the broker wants a client certificate"), none
    theirs = tls_context(pki["ca"], pki["unknown_ca"], pki["unknown_ca_key"])
    unknown = probe("localhost", port, theirs)
    assert unknown is not None and unknown.startswith(
        "TLS: the broker does not know the CA of our cert_file"), unknown
    ours = tls_context(pki["ca"], pki["good"], pki["good_key"])
    assert probe("localhost", port, ours) is None
    tls12 = tls_mosquitto(pki["good"], pki["good_key"],
                          f"cafile {pki['ca']}\nrequire_certificate true\ntls_version tlsv1.2\n")
    old = probe("localhost", tls12, tls_context(pki["ca"], None, None))  # no alert of its own
    assert old is not None and old.startswith("TLS: the broker wants a client certificate"), old


def test_plain_reasons() -> None:
    """Nothing listening, and an unknown host name, each in an installer's words."""
    port = free_port()
    assert probe("127.0.0.1", port, None) == "connection refused: nothing listens on that port"
    assert explain(TimeoutError()).startswith("no answer (timeout)")


@pytest.fixture
def tls_login_broker(tmp_path: Path, pki: dict[str, Path]) -> Iterator[int]:
    """mosquitto over TLS with the plant CA's certificate and a password file."""
    passwd = tmp_path / "passwd"
    passwd.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "installer", "s3cret"], check=True)
    port = free_port()
    conf = tmp_path / "login.conf"
    conf.write_text(f"{stay_user()}listener {port} 127.0.0.1\ncertfile {pki['good']}\n"
                    f"keyfile {pki['good_key']}\npassword_file {passwd}\nallow_anonymous false\n")
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def test_tail_over_an_mqtts_broker_with_a_password(tmp_path: Path, pki: dict[str, Path],
                                                    tls_login_broker: int) -> None:
    """`tail --broker mqtts://...` with a CA file, a username and a password file connects;
    without the CA file it says why it cannot (the broker's CA is unknown)."""
    import sys

    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    url = f"mqtts://localhost:{tls_login_broker}"
    base = [sys.executable, "-m", "gatewayd.cli", "tail", "--broker", url, "--gateway", "gw",
            "--config", str(tmp_path / "none.toml"), "--seconds", "1", "--interval-s", "0.5",
            "--username", "installer", "--password-file", str(pw)]
    ok = subprocess.run([*base, "--ca-file", str(pki["ca"])], capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "gatewayd 'gw'" in ok.stdout
    ko = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert ko.returncode == 1
    assert f"cannot reach the broker at {url}: TLS: unknown CA" in ko.stderr
    pw.write_text("wrong\n")
    refused = subprocess.run([*base, "--ca-file", str(pki["ca"])], capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 1
    assert f"the broker at {url} did not accept the connection" in refused.stderr
