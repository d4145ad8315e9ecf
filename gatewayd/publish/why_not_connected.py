"""Why the broker connection fails, in words an installer can act on.

paho retries a failed connect in its own loop and hands us no exception (its `on_connect_fail`
callback carries none), so nothing was logged and `status` only said "disconnected". On a
failure we make one connection attempt of our own, with the same TLS settings, on a short
thread of our own (never paho's, never the pump), and name what went wrong:

    unknown CA         the broker's certificate is not signed by ca_file
    hostname mismatch  the certificate is for another name than the one in broker.url
    expired            the certificate's validity has ended (or the gateway's clock is wrong)

The diagnosis is logged once per distinct reason, and kept for `status` and the live view.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code carries them
_VERIFY = {
    9: "certificate not yet valid (is the gateway's clock right?)",
    10: "expired certificate: the broker's certificate is no longer valid "
        "(or the gateway's clock is wrong)",
    18: "unknown CA: the broker's certificate is self-signed and not in ca_file",
    19: "unknown CA: the broker's certificate chain ends at a CA that is not in ca_file",
    20: "unknown CA: the broker's certificate is not signed by a CA in ca_file",
    21: "unknown CA: the broker's certificate is not signed by a CA in ca_file",
    62: "hostname mismatch: the broker's certificate is not for the host in broker.url",
}
# OpenSSL's reason codes (ssl.SSLError.reason) for a broker refusing a handshake that carried
# no client certificate: TLS 1.3 has an alert for it, TLS 1.2 only the generic failure.
_NO_CLIENT_CERT = {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE"}
PROBE_EVERY_S = 30.0  # at most one diagnosis this often, whatever paho's retry rate


def explain(err: BaseException) -> str:
    """One line for an exception from connecting: the TLS verification reason when there is
    one, else the socket's."""
    if isinstance(err, ssl.SSLCertVerificationError):
        known = _VERIFY.get(err.verify_code)
        detail = err.verify_message or str(err)
        return f"TLS: {known} ({detail})" if known else f"TLS: certificate refused: {detail}"
    if isinstance(err, ssl.SSLError):
        if err.reason == "TLSV1_ALERT_UNKNOWN_CA":
            return ("TLS: the broker does not know the CA of our cert_file "
                    f"(alert from the broker: {err.reason})")
        if err.reason in _NO_CLIENT_CERT:
            return f"TLS: the broker wants a client certificate (cert_file/key_file): {err.reason}"
        return f"TLS: {err.reason or err}"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused: nothing listens on that port"
    if isinstance(err, socket.gaierror):
        return f"unknown host: {err.strerror}"
    if isinstance(err, TimeoutError | socket.timeout):
        return "no answer (timeout): firewall, or a wrong address"
    return f"{type(err).__name__}: {err}"


def tls_context(ca_file: Path | None, cert_file: Path | None, key_file: Path | None
                ) -> ssl.SSLContext:
    """The context paho builds from the same settings: system CAs, or ca_file alone."""
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file is not None:
        ctx.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return ctx


def probe(host: str, port: int, ctx: ssl.SSLContext | None, timeout_s: float = 5.0) -> str | None:
    """Connect (and with `ctx`, shake hands) once; why that failed, or None if it worked."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            if ctx is None:
                return None
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                tls.do_handshake()
                # TLS 1.3 sends the server's verdict on our certificate after the handshake
                tls.settimeout(0.5)
                with contextlib.suppress(TimeoutError):
                    tls.recv(1)
    except (OSError, ValueError) as e:
        return explain(e)
    return None


class Diagnosis:
    """Runs `probe` on a thread of its own when told a connect failed, at most every
    PROBE_EVERY_S, and reports each new reason once through `report`."""

    def __init__(self, host: str, port: int, ctx: Callable[[], ssl.SSLContext | None],
                 report: Callable[[str], None]) -> None:
        self.host, self.port = host, port
        self._ctx = ctx
        self._report = report
        self.reason = ""  # the latest reason, "" while unknown or connected
        self._last = -PROBE_EVERY_S
        self._busy = threading.Lock()

    def connect_failed(self) -> None:
        """Called from paho's thread: only starts the probe thread."""
        if time.monotonic() - self._last < PROBE_EVERY_S or not self._busy.acquire(blocking=False):
            return
        self._last = time.monotonic()
        threading.Thread(target=self._run, name="broker diagnosis", daemon=True).start()

    def connected(self) -> None:
        self.reason = ""
        self._last = -PROBE_EVERY_S

    def _run(self) -> None:
        try:
            try:
                ctx = self._ctx()
            except (OSError, ValueError) as e:
                why: str | None = f"TLS settings: {e}"
            else:
                why = probe(self.host, self.port, ctx)
            if why is not None and why != self.reason:
                self.reason = why
                self._report(why)
        finally:
            self._busy.release()
