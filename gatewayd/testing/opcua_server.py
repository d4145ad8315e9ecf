"""An OPC UA server on loopback: asyncua's own Server, in its own process, with a small
machine's address space, security policy Basic256Sha256 (Sign and SignAndEncrypt) and
username login.

    python -m gatewayd.testing.opcua_server --port 4840 [--cert server.der --key server.pem]
        [--secure-only] [--user operator:secret]

Nodes, in namespace 2 (urn:gatewayd:test-plc), under Objects/Line1:

    ns=2;s=Line1.Temperature   Double   21.5
    ns=2;s=Line1.Counter       Int32    +1 every 100 ms
    ns=2;s=Line1.Ramp          Double   +0.25 every 100 ms
    ns=2;s=Line1.Running       Boolean  true
    ns=2;s=Line1.Recipe        String   "PUMP-7"
    ns=2;s=Line1.Faulty        Double   status BadSensorFailure
    ns=2;s=Line1.Setpoint      Double   50.0, writable (tests change it over OPC UA)

`--secure-only` offers only the two Basic256Sha256 endpoints; `--user name:password` refuses
anonymous sessions and every other login. Certificates are made by the tests (asyncua's own
certificate helpers), never shipped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

NAMESPACE = "urn:gatewayd:test-plc"


def _user_manager(login: str) -> Any:
    from asyncua.crypto.permission_rules import User, UserRole

    name, _, secret = login.partition(":")

    class OneUser:
        def get_user(self, iserver: Any, username: str | None = None, password: str | None = None,
                     certificate: Any = None) -> User | None:
            if username == name and password == secret:
                return User(role=UserRole.User, name=name)
            return None

    return OneUser()


async def serve(args: argparse.Namespace) -> None:
    from asyncua import ua
    from asyncua.server.server import Server
    from asyncua.ua.status_codes import StatusCodes

    server = Server(user_manager=_user_manager(args.user) if args.user else None)
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{args.port}/gatewayd/")
    server.set_server_name("gatewayd test PLC")
    secure = [ua.SecurityPolicyType.Basic256Sha256_Sign, ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
    server.set_security_policy(secure if args.secure_only else [ua.SecurityPolicyType.NoSecurity, *secure])
    if args.user:
        server.set_security_IDs(["Username"])
    if args.cert:
        await server.load_certificate(args.cert)
        await server.load_private_key(args.key)
    idx = await server.register_namespace(NAMESPACE)
    line = await server.nodes.objects.add_object(f"ns={idx};s=Line1", f"{idx}:Line1")

    async def var(name: str, value: Any, vtype: Any) -> Any:
        return await line.add_variable(f"ns={idx};s=Line1.{name}", f"{idx}:{name}", ua.Variant(value, vtype))

    await var("Temperature", 21.5, ua.VariantType.Double)
    counter = await var("Counter", 0, ua.VariantType.Int32)
    ramp = await var("Ramp", 0.0, ua.VariantType.Double)
    await var("Running", True, ua.VariantType.Boolean)
    await var("Recipe", "PUMP-7", ua.VariantType.String)
    faulty = await var("Faulty", 0.0, ua.VariantType.Double)
    setpoint = await var("Setpoint", 50.0, ua.VariantType.Double)
    await setpoint.set_writable()
    bench = [await var(f"Bench{i}", 0.0, ua.VariantType.Double) for i in range(args.extra)]
    await faulty.write_value(ua.DataValue(ua.Variant(0.0, ua.VariantType.Double),
                                          StatusCode=ua.StatusCode(ua.UInt32(StatusCodes.BadSensorFailure))))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        print("ready", flush=True)
        n = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.1)
            except TimeoutError:
                n += 1
                await counter.write_value(ua.Variant(n, ua.VariantType.Int32))
                await ramp.write_value(ua.Variant(n * 0.25, ua.VariantType.Double))
                for i, node in enumerate(bench):
                    await node.write_value(ua.Variant(n + i / 1000, ua.VariantType.Double))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--secure-only", action="store_true")
    ap.add_argument("--user", help="name:password, the one login accepted")
    ap.add_argument("--extra", type=int, default=0,
                    help="Line1.Bench0..N-1, Double, all changing every 100 ms (bench/plc.py)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
