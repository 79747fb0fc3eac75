"""Lazy package exports (PEP 562): a name is imported from its module on first use, not at start-up."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str,
                 names: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` that import ``names[attr]`` only when ``attr`` is
    first read: ``".module"`` (relative to the package) gives the attribute of that name from the
    module, ``".module:"`` the module itself, ``".module:other"`` the module's ``other``."""

    def __getattr__(attr: str) -> object:
        module = names.get(attr)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        module, sep, name = module.partition(":")
        value = importlib.import_module(module, package)
        return value if sep and not name else getattr(value, name or attr)

    def __dir__() -> list[str]:
        return sorted(set(names) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
