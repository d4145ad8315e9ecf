"""The installer's and operator's toolkit: what `gatewayd check`, `schema`, `probe` and `tail` run.

One module per command (warnings, schema, probe, tail) plus progress display; `cli.add_commands`
registers them with the `gatewayd` parser. Hardware is reached only through gatewayd.buses.
"""
