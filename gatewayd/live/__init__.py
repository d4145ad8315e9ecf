"""The daemon's live view on a unix socket in its runtime directory (no network listener).

    values.py   the last reading of every point, recorded as readings leave the point stage
    server.py   the daemon side: hands each client one JSON snapshot of Supervisor.status()
    client.py   `gatewayd status`, `tail` and `test` side: finds the socket and reads a snapshot
"""
