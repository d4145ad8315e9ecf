"""The one rule by which `gatewayd listen` and `gatewayd tail --broker` reach a broker
(gatewayd.broker_options): a config's credentials go only to the config's own broker; the
command line's go wherever it points. Both commands are parsed by the real `gatewayd` parser and
resolved by their own code, so a second rule cannot creep back into either."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatewayd.broker_options import same_broker
from gatewayd.cli import parser
from gatewayd.listen import Settings
from gatewayd.toolkit.tail import target_of


def _config(tmp_path: Path) -> Path:
    (tmp_path / "plant-pw").write_text("plant-secret\n")
    (tmp_path / "ca.pem").write_text("")
    conf = tmp_path / "gw.toml"
    conf.write_text(f"""
[gateway]
id = "gw-rule"

[broker]
url = "mqtts://plant-broker.local:8883"
username = "plant"
password_file = "{tmp_path / 'plant-pw'}"
ca_file = "{tmp_path / 'ca.pem'}"

[store]
path = "{tmp_path / 'q.db'}"
""")
    return conf


def _both(argv: list[str]) -> list[tuple[str, str, str, str | None]]:
    """(url, username, password, ca_file) as listen and as tail would log in."""
    got = []
    listen = Settings(parser().parse_args(["listen", *argv]))
    got.append((listen.url, listen.credentials.username, listen.credentials.password,
                listen.credentials.ca_file))
    t = target_of(parser().parse_args(["tail", *argv]))
    assert t.broker is not None and t.credentials is not None
    got.append((t.broker, t.credentials.username, t.credentials.password,
                t.credentials.ca_file))
    return got


def test_the_configs_credentials_go_to_its_own_broker(tmp_path: Path) -> None:
    conf = _config(tmp_path)
    url = "mqtts://PLANT-broker.local:8883/"  # the same endpoint, spelled differently
    for row in _both(["--config", str(conf), "--broker", url]):
        assert row == (url, "plant", "plant-secret", str(tmp_path / "ca.pem"))


def test_another_broker_gets_none_of_the_configs_credentials(tmp_path: Path) -> None:
    """Changed for listen (it used to apply the config's credentials to any --broker)."""
    conf = _config(tmp_path)
    for url in ("mqtt://127.0.0.1:1883", "mqtts://elsewhere.example:8883",
                "mqtts://plant-broker.local:9883"):
        for row in _both(["--config", str(conf), "--broker", url]):
            assert row == (url, "", "", None)


def test_the_command_line_credentials_go_wherever_it_points(tmp_path: Path) -> None:
    conf = _config(tmp_path)
    (tmp_path / "mine").write_text("installer-pw\n")
    url = "mqtt://127.0.0.1:1883"
    for row in _both(["--config", str(conf), "--broker", url, "--username", "installer",
                      "--password-file", str(tmp_path / "mine"), "--ca-file", "/x/ca.pem"]):
        assert row == (url, "installer", "installer-pw", "/x/ca.pem")


def test_listen_with_only_the_config_uses_its_broker_and_credentials(tmp_path: Path) -> None:
    s = Settings(parser().parse_args(["listen", "--config", str(_config(tmp_path))]))
    assert (s.url, s.credentials.username, s.credentials.password) == (
        "mqtts://plant-broker.local:8883", "plant", "plant-secret")


def test_an_unreadable_password_file_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    args = parser().parse_args(["listen", "--gateway", "g", "--password-file",
                                str(tmp_path / "absent")])
    with pytest.raises(SystemExit, match="cannot read the password file"):
        Settings(args)


def test_same_broker_compares_endpoints() -> None:
    assert same_broker("mqtt://h:1883", "mqtt://H/")
    assert same_broker("mqtts://h", "mqtts://h:8883")
    assert not same_broker("mqtt://h:1883", "mqtts://h:1883")
    assert not same_broker("mqtt://h:1883", "mqtt://h:1884")
    assert not same_broker("mqtt://h:x", "mqtt://h:1883")
