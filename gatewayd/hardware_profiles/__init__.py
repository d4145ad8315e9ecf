"""Device profiles (TOML data, no code); `hardware/` in the repository points here."""
