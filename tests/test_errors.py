"""The error tree drawn in gatewayd/errors.py is the tree in the code: every class it defines
is drawn under its real parent, and every other exception class in the package is one of the
local errors the docstring lists, caught only where it says."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
from pathlib import Path

from gatewayd import errors

PACKAGE = Path(errors.__file__).resolve().parent
DOC = errors.__doc__ or ""
BUILTIN = {n for n, o in vars(builtins).items() if inspect.isclass(o) and issubclass(o, BaseException)}


def drawn_tree() -> dict[str, str]:
    """Class -> parent, read from the drawing (a name's column says its depth)."""
    lines = DOC.split("\n\n")[1].splitlines()
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        m = re.match(r"^([\s│├└─]*)(\w+)", line)
        assert m is not None, line
        col, name = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= col:
            stack.pop()
        parents[name] = stack[-1][1] if stack else ""
        stack.append((col, name))
    return parents


def kept_out() -> dict[str, tuple[str, str]]:
    """Local error -> (the module raising it, the module catching it), from the docstring."""
    rows = re.findall(r"^    (\w+)\s+([\w/]+)\s+->\s+([\w/]+)\s", DOC, re.M)
    return {name: (raiser, catcher) for name, raiser, catcher in rows}


def defined_here() -> dict[str, type[BaseException]]:
    return {n: c for n, c in vars(errors).items()
            if inspect.isclass(c) and issubclass(c, BaseException) and c.__module__ == errors.__name__}


def test_the_drawing_is_the_tree() -> None:
    """Every exception class of gatewayd.errors is drawn, under the class it derives from
    first, and all of them stand under GatewayError."""
    drawn, classes = drawn_tree(), defined_here()
    assert drawn["GatewayError"] == ""
    assert set(drawn) == set(classes)
    for name, cls in classes.items():
        assert issubclass(cls, errors.GatewayError), name
        parent = cls.__bases__[0]
        assert drawn[name] == ("" if parent is Exception else parent.__name__), name


def test_every_other_exception_class_is_a_listed_local_error() -> None:
    """An exception class defined anywhere else in the package is in the kept-out list; a new
    one must either join the tree or be listed with the module that translates it."""
    tree, local = set(defined_here()), kept_out()
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute)
                     else "" for b in node.bases}
            assert not bases & tree, f"{path}: {node.name} derives from the tree outside errors.py"
            if bases & (BUILTIN | set(local)):
                found.add(node.name)
                assert local.get(node.name, ("",))[0] == str(path.relative_to(PACKAGE).with_suffix(""))
    assert found == set(local)


def test_the_local_errors_stay_local() -> None:
    """Each kept-out error is named only by the module raising it and the one translating it,
    and is not a GatewayError (it would belong in the drawing)."""
    for name, (raiser, catcher) in kept_out().items():
        module = importlib.import_module("gatewayd." + raiser.replace("/", "."))
        cls = getattr(module, name)
        assert issubclass(cls, Exception) and not issubclass(cls, errors.GatewayError), name
        naming = {str(p.relative_to(PACKAGE).with_suffix("")) for p in PACKAGE.rglob("*.py")
                  if p.name != "errors.py" and re.search(rf"\b{name}\b", p.read_text())}
        assert naming == {raiser, catcher}, (name, naming)
