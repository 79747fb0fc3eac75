"""One shape for every registry of named things (encoder sources, formats, similarities, maps, heads...)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from stitchcli import plugins
from stitchcli.errors import StitchError

T = TypeVar("T")
_MISSING: Any = object()


class _Lazy:
    """An entry named as ``"module:attr"``, imported on first ``get``: the name is known (for help
    texts and checks) without importing the module, which may import torch."""

    __slots__ = ("target",)

    def __init__(self, target: str) -> None:
        module, sep, attr = target.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"a lazy registry entry is 'module:attr', not {target!r}")
        self.target = target

    def resolve(self) -> Any:
        module, _, attr = self.target.partition(":")
        value: Any = importlib.import_module(module)
        for part in attr.split("."):
            value = getattr(value, part)
        return value


class Registry(Generic[T]):
    """Named entries of one kind in registration order, with plugins from an entry-point group.

    Args:
        kind: what one entry is, for the unknown-name error ("similarity", "head architecture").
        group: an entry-point group (``stitchcli.similarities``) whose plugins are registered on
            first use, once per process (``stitchcli.plugins.load_group``).
        named_by: the attribute that names a plugin's object (``"name"``); None: the entry point's name.
        hint: the hint of the unknown-name error; ``{choices}`` becomes the names, comma-separated.
        error: the error class of an unknown name (``UsageError`` for exit code 2).
        modules: modules imported on first use, before plugins, that register entries themselves.

    Example::

        POOLINGS = Registry("pooling")
        POOLINGS.register("mean", masked_mean, help="masked")
        POOLINGS.register("cls", "my_package.pooling:cls_token")  # imported on first get

        @POOLINGS.register("max")
        def max_pool(outputs, mask): ...

        POOLINGS.get("mean")        # masked_mean; POOLINGS.get("sum") raises StitchError
        POOLINGS.choices_text()     # "mean, cls or max", for --help
    """

    def __init__(self, kind: str, *, group: str | None = None, named_by: str | None = None,
                 hint: str = "choose one of {choices}.", error: type[StitchError] = StitchError,
                 modules: Sequence[str] = ()) -> None:
        self.kind = kind
        self.group = group
        self.named_by = named_by
        self.hint = hint
        self.error = error
        self._modules = tuple(modules)
        self._entries: dict[str, Any] = {}
        self._help: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"

    # Registering ---------------------------------------------------------------------------------
    def register(self, name: str, obj: Any = _MISSING, *, help: str | None = None) -> Any:  # noqa: A002
        """Add ``obj`` under ``name`` (a ``"module:attr"`` string: imported on first ``get``) and
        return it; without ``obj``, a decorator. ``help`` is a short phrase for ``--help`` texts.
        A name registered again is replaced in place (its position is kept)."""
        if obj is _MISSING:
            def decorator(target: T) -> T:
                self.register(name, target, help=help)
                return target

            return decorator
        self._entries[name] = _Lazy(obj) if isinstance(obj, str) else obj
        if help is not None:
            self._help[name] = help
        return obj

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests, and plugins that replace a built-in); unknown names are ignored."""
        self._entries.pop(name, None)
        self._help.pop(name, None)

    def __setitem__(self, name: str, obj: T) -> None:
        self.register(name, obj)

    def __delitem__(self, name: str) -> None:
        if name not in self._entries:
            raise KeyError(name)
        self.unregister(name)

    # Looking up ----------------------------------------------------------------------------------
    def _ready(self) -> None:
        """Import ``modules`` and load the plugin group, each once (both before any lookup)."""
        if self._modules:
            modules, self._modules = self._modules, ()
            for module in modules:
                importlib.import_module(module)
        if self.group is not None:
            plugins.load_group(self.group, self._register_plugin)

    def _register_plugin(self, entry_name: str, obj: Any) -> None:
        self.register(getattr(obj, self.named_by) if self.named_by else entry_name, obj)

    def get(self, name: str, default: Any = _MISSING, *, load: bool = True) -> T:
        """The entry named ``name`` (imported now if it was registered lazily). An unknown name
        raises the one-line ``unknown <kind> 'name'`` error with the choices, or returns ``default``
        when one is given (as ``dict.get``). ``load=False``: a built-in or already registered entry,
        without loading plugins (for help texts)."""
        if load:
            self._ready()
        entry = self._entries.get(name, _MISSING) if isinstance(name, str) else _MISSING
        if entry is _MISSING:
            if default is not _MISSING:
                return default
            raise self.unknown(name)
        if isinstance(entry, _Lazy):
            entry = self._entries[name] = entry.resolve()
        return entry

    __getitem__ = get

    def unknown(self, name: object, context: str = "") -> StitchError:
        """The error for an unknown ``name`` (raise it): ``unknown <kind> 'name' [context]``, with
        the hint listing every name (plugins' too)."""
        message = f"unknown {self.kind} {name!r}" + (f" {context}" if context else "")
        return self.error(message, hint=self.hint.format(choices=", ".join(self.names())))

    def names(self, load: bool = True) -> list[str]:
        """Every name in registration order; ``load=False``: without importing ``modules`` or
        loading plugins (what is registered so far, for checks that must stay light)."""
        if load:
            self._ready()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._ready()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs in registration order; lazy entries are imported."""
        return [(name, self.get(name)) for name in self.names()]

    def values(self) -> list[T]:
        return [entry for _, entry in self.items()]

    # Help texts ----------------------------------------------------------------------------------
    def help(self, name: str) -> str | None:  # noqa: A003
        """The short phrase ``name`` was registered with, if any."""
        return self._help.get(name)

    def choices_text(self, *, described: bool = False, before: Sequence[str] = (),
                     after: Sequence[str] = (), exclude: Sequence[str] = (), conjunction: str = "or",
                     describe: Callable[[str], str | None] | None = None) -> str:
        """The names as a phrase for ``--help``: ``"a, b or c"``; ``described``: ``"a (phrase), b or
        c"``. Built-in and already registered names only: help imports no entry and loads no plugin.
        ``before``/``after`` add names that are not entries (``none``), ``exclude`` leaves some out."""
        names = [*before, *(n for n in self._entries if n not in exclude and n not in before), *after]
        if described:
            phrase = describe or self.help
            names = [f"{name} ({phrase(name)})" if phrase(name) else name for name in names]
        if len(names) < 2:
            return "".join(names)
        return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"
