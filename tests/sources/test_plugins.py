"""Every kind is a plugin with the same shape: its manifest resolves, its folder has the same
file set, its README the same skeleton embedding its sample, and its sample validates; nothing
outside `sources/` (and the test equipment) names a kind."""

from __future__ import annotations

import argparse
import ast
import tomllib
from pathlib import Path

import pytest

from gatewayd import sources
from gatewayd.config import parse
from gatewayd.sources.plugin import FILES, HEADINGS, Checks, load
from gatewayd.toolkit.warnings import lint
from gatewayd.validation import fields_of

PACKAGE = Path(sources.__file__).resolve().parent


def test_registry_is_the_folders() -> None:
    """Each kind folder is registered, and each registered kind has a folder."""
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(sources.KINDS)


@pytest.mark.parametrize("kind", sources.KINDS)
def test_manifest_resolves(kind: str) -> None:
    """The manifest names the kind's model, builder, checks and probe, and they all load."""
    plugin = sources.plugin(kind)
    assert plugin.kind == kind and plugin.summary
    model = plugin.config_model()
    (kind_field,) = [f for f in fields_of(model) if f.name == "kind"]
    assert kind_field.type.__args__ == (kind,)  # Literal[kind]
    assert callable(plugin.builder())
    assert isinstance(plugin.check(), Checks)
    if plugin.probe is not None:
        parser = argparse.ArgumentParser()
        load(plugin.probe.arguments)(parser)
        assert callable(load(plugin.probe.run))


@pytest.mark.parametrize("kind", sources.KINDS)
def test_folder_has_the_file_set(kind: str) -> None:
    """Every kind's folder has the same files: manifest, config, source, checks, sample, README."""
    folder = sources.plugin(kind).folder
    assert [f for f in FILES if not (folder / f).is_file()] == []


@pytest.mark.parametrize("kind", sources.KINDS)
def test_readme_skeleton_embeds_the_sample(kind: str) -> None:
    """The README starts with `# <kind>:`, has the headings wiring, config, faults, probe in
    that order, and carries sample.toml verbatim under its config heading."""
    plugin = sources.plugin(kind)
    text = plugin.readme.read_text()
    assert text.startswith(f"# {kind}: ")
    at = [text.find(f"\n{h}\n") for h in HEADINGS]
    assert -1 not in at and at == sorted(at), dict(zip(HEADINGS, at, strict=True))
    sample = "```toml\n" + plugin.sample.read_text() + "```"
    assert at[1] < text.find(sample) < at[2]


@pytest.mark.parametrize("kind", sources.KINDS)
def test_sample_validates_and_is_lint_clean(kind: str) -> None:
    """sample.toml loads, holds devices of its own kind only, and `check` has no warning."""
    plugin = sources.plugin(kind)
    data = tomllib.loads(plugin.sample.read_text())
    cfg = parse(data, str(plugin.sample))
    assert cfg.devices and {d.kind for d in cfg.devices} == {kind}
    assert lint(cfg) == []


def _kind_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [f"{path.name}:{n.lineno}: {n.value!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in sources.KINDS]


def test_nothing_outside_the_plugins_names_a_kind() -> None:
    """The toolkit, supervisor, config loader, schema and runner ask the plugin; none of them
    compares with a kind's name (the plugins themselves and the test equipment may)."""
    root = PACKAGE.parent
    assert _kind_literals(PACKAGE / "modbus" / "__init__.py")  # the detector sees a name
    found = [hit for path in sorted(root.rglob("*.py"))
             if not path.is_relative_to(PACKAGE) and not path.is_relative_to(root / "testing")
             for hit in _kind_literals(path)]
    assert found == [], (
        "ask the kind's plugin instead of naming the kind: sources.plugin(kind) gives its "
        "model, builder, checks, probe and how tail shows it (plugin(kind).tail == 'device' "
        "for the vibration view); add what you need to the manifest (sources/plugin.py)")
