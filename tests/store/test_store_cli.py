"""`gatewayd queue aside` on store files that are not what it expects: one made before batches
were set aside, and one that is not a database at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gatewayd.cli import main as cli
from gatewayd.errors import StoreCorrupt
from gatewayd.store.cli import read_aside


def config(tmp_path: Path, store: Path) -> Path:
    conf = tmp_path / "gw.toml"
    conf.write_text(f'[gateway]\nid = "gw-aside"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\n'
                    f'[store]\npath = "{store}"\n')
    return conf


def test_a_store_without_the_aside_table_has_nothing_set_aside(tmp_path: Path, capsys: Any) -> None:
    """A store file with no `aside` table (made before batches were set aside) lists none."""
    store = tmp_path / "old.db"
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE batches (seq INTEGER PRIMARY KEY, payload BLOB)")
    db.close()
    assert read_aside(store) == []
    assert cli(["queue", "aside", "--config", str(config(tmp_path, store))]) == 0
    assert capsys.readouterr().out == f"{store}: no batches set aside\n"


def test_a_store_that_is_not_a_database_is_a_store_fault(tmp_path: Path, capsys: Any) -> None:
    """Garbage where the store should be is StoreCorrupt (from sqlite's error code, not its
    words), and the command says it cannot read the store and exits 1."""
    store = tmp_path / "junk.db"
    store.write_bytes(b"this is not an SQLite file" * 200)
    with pytest.raises(StoreCorrupt, match=f"^{store}: "):
        read_aside(store)
    assert cli(["queue", "aside", "--config", str(config(tmp_path, store))]) == 1
    assert capsys.readouterr().err.startswith(f"cannot read the store: {store}: ")
