"""`gatewayd probe opcua`: connect to a server, browse its nodes, read the variables' values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ...errors import DeviceError


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, help="opc.tcp://10.0.0.50:4840")
    p.add_argument("--node", help="start here (default: the Objects folder)")
    p.add_argument("--depth", type=int, default=3, help="levels to descend (3)")
    p.add_argument("--timeout-ms", type=int, default=3000)
    p.add_argument("--security-policy", choices=("None", "Basic256Sha256"), default="None")
    p.add_argument("--security-mode", choices=("None", "Sign", "SignAndEncrypt"), default="None")
    p.add_argument("--certificate-file", type=Path)
    p.add_argument("--private-key-file", type=Path)
    p.add_argument("--username")
    p.add_argument("--password-file", type=Path)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from ...buses.opcua import Security, UaLink
    from .decode import quality

    out = out or sys.stdout
    security = None
    if args.security_policy != "None":
        if not (args.certificate_file and args.private_key_file) or args.security_mode == "None":
            print("probe opcua: Basic256Sha256 needs --security-mode Sign or SignAndEncrypt, "
                  "--certificate-file and --private-key-file", file=sys.stderr)
            return 2
        security = Security(args.security_policy, args.security_mode, args.certificate_file,
                            args.private_key_file)
    password = args.password_file.read_text().strip() if args.password_file else None
    link = UaLink(args.endpoint, args.timeout_ms / 1000, security, args.username, password)
    try:
        link.connect([])
        nodes = link.browse(args.node, args.depth)
        variables = [n for n in nodes if n[3] == "Variable"]
        read = link.read([n[1] for n in variables]) if variables else []  # all in one Read
        values = {n[1]: s for n, s in zip(variables, read, strict=True)}
        print(f"{link.label}: {len(nodes)} node(s)", file=out)
        for level, node_id, name, cls in nodes:
            line = f"{'  ' * (level + 1)}{name:<28} {node_id:<32} {cls}"
            if (s := values.get(node_id)) is not None:
                line += f"  = {s.value!r} ({quality(s.status).label})"
            print(line, file=out)
    except DeviceError as e:
        print(f"probe opcua: {e}", file=sys.stderr)
        return 1
    finally:
        link.close()
    return 0
