"""Old name of `gatewayd.testing`, kept while other branches still import it.

`import gatewayd.sims.X` hands back the very module `gatewayd.testing.X` (one module object,
so classes compare equal across both names). New code imports `gatewayd.testing`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_OLD, _NEW = "gatewayd.sims.", "gatewayd.testing."


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if not fullname.startswith(_OLD):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(_NEW + spec.name.removeprefix(_OLD))

    def exec_module(self, module: ModuleType) -> None:
        """Already executed under its new name."""


if not any(isinstance(f, _Alias) for f in sys.meta_path):
    sys.meta_path.insert(0, _Alias())
