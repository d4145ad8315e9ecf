"""What a config needs from the machine it runs on: files it must read, ports and buses.

The models in config.py say whether a file is well formed; this says whether it can work here.
`gatewayd check` reports all of it. `gatewayd run` refuses to start (exit 78) on the files it
must read (`start_blockers`): without its password or CA file it can never connect. A missing
serial port or I2C bus does not stop `run`: a USB adapter may be plugged in later, and that
device stays down until then while the others run.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import sys
from pathlib import Path
from typing import Any

from . import sources
from .config import Config, KeyPath, Problem

SERVICE_USER = "gatewayd"


def start_blockers(cfg: Config) -> list[Problem]:
    """Problems that make `run` refuse the config: the broker's files."""
    b = cfg.broker
    named = [("password_file", b.password_file), ("ca_file", b.ca_file),
             ("cert_file", b.cert_file), ("key_file", b.key_file)]
    return [Problem(("broker", key), why) for key, path in named
            if path is not None and (why := file_problem(path)) is not None]


def machine_problems(cfg: Config, simulated: bool = False) -> list[Problem]:
    """Everything `check` reports about this machine: the broker's files, and every enabled
    device's serial port or I2C bus (not the I2C buses when a simulated world provides them)
    and the files it reads (certificates, password files: its plugin names them)."""
    problems = start_blockers(cfg)
    for i, dev in enumerate(cfg.devices):
        if dev.enabled:
            problems += [Problem(("devices", i, *key), why)
                         for key, why in _bus_problems(dev, simulated)]
            problems += [Problem(("devices", i, key), why)
                         for key, path in sources.plugin(dev.kind).check().files(dev)
                         if (why := file_problem(path)) is not None]
    return problems


def file_problem(path: Path, service_user: str = SERVICE_USER) -> str | None:
    """Why a file the daemon must read cannot be read by it, or None."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"{path} does not exist"
    except OSError as e:
        return f"{path}: {e.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if not os.access(path, os.R_OK):
        return f"{path} is not readable by this user (mode {stat.S_IMODE(st.st_mode):04o})"
    return _service_user_problem(path, st, service_user)


def _service_user_problem(path: Path, st: os.stat_result, name: str) -> str | None:
    """Run as root, `check` can read anything; the service runs as `gatewayd` and may not."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        return None
    groups = {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
    mode = st.st_mode
    readable = ((st.st_uid == user.pw_uid and mode & stat.S_IRUSR)
                or (st.st_gid in groups and mode & stat.S_IRGRP) or mode & stat.S_IROTH)
    if readable:
        return None
    return (f"{path} is not readable by the service user {name} (mode "
            f"{stat.S_IMODE(mode):04o}): chgrp {name} {path} && chmod 0640 {path}")


def _bus_problems(dev: Any, simulated: bool) -> list[tuple[KeyPath, str]]:
    """A device's port or bus, when it names a device file here that cannot be used."""
    key = str(getattr(dev, "bus_key", ""))
    if key.startswith("/dev/"):
        field = next((f for f in ("serial_port", "port") if getattr(dev, f, None) == key), "port")
        why = port_problem(key)
        return [((field,), why)] if why else []
    if key.startswith("i2c-") and key[4:].isdigit() and not simulated:
        path = Path("/dev") / key
        if not path.exists():
            return [(("bus",), f"{path} does not exist: enable I2C (raspi-config nonint do_i2c 0, "
                     "or scripts/install --enable-i2c) or pick another bus")]
    return []


def port_problem(port: str) -> str | None:
    """Why a serial device file cannot be opened, in an installer's words, or None."""
    try:
        st = os.stat(port)
    except FileNotFoundError:
        return (f"{port} does not exist: is the adapter plugged in? "
                "(ls /dev/serial/by-id/ lists the ones present)")
    except OSError as e:
        return f"{port}: {e.strerror}"
    if not stat.S_ISCHR(st.st_mode):
        return f"{port} is not a serial device"
    if not os.access(port, os.R_OK | os.W_OK):
        return (f"{port}: permission denied; the service user needs the group of the port "
                f"({_group_name(st.st_gid)})")
    return None


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def one_line(path: str | Path, problems: list[str]) -> str:
    """What `run` says when it refuses a config: the first problem, and where the rest are."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"config refused: {problems[0]}{more}; `gatewayd check {path}` lists every problem"


def verified(path: str | Path, simulated: bool = False) -> Config | None:
    """`check`'s verdict for a command about to use the config (`check`, `test`): the config,
    or None after listing every problem on stderr."""
    cfg, problems = verify(path, simulated=simulated)
    if cfg is None:
        print(f"{path}: INVALID, {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
    return cfg


def verify(path: str | Path, machine: bool = True, builds: bool = True,
           simulated: bool = False) -> tuple[Config | None, list[str]]:
    """The whole of what `check` checks, formatted with line, column and device name: the
    file, the models, with `builds` the devices' builds (IODD files), and with `machine` the
    ports and buses too (else only what `run` refuses). The config comes back only when
    nothing is wrong."""
    from . import config as config_mod
    from .errors import ConfigError
    from .supervisor import build_devices, offline_context

    try:
        text, data = config_mod.read_document(path)
    except ConfigError as e:
        return None, e.problems
    cfg, problems = config_mod.validate(data)
    if cfg is not None:
        problems += machine_problems(cfg, simulated) if machine else start_blockers(cfg)
        index = {d.name: i for i, d in enumerate(cfg.devices)}
        _, unbuilt = build_devices(cfg, offline_context(cfg)) if builds else (None, [])
        problems += [Problem(("devices", index[name]), why) for name, why in unbuilt]
    if problems:
        return None, config_mod.format_problems(problems, str(path), data, text)
    return cfg, []
