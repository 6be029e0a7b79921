"""The one registry helper behind every plug-in point: data sets, executors, screeners,
predictors and accounting profiles.

In the style of timm's model registry: a decorator registers an object under a name,
:meth:`Registry.get` looks it up, :meth:`Registry.names` lists what can be asked for.
Two ways of finding entries without a hand-kept list:

* ``discover``: a function run once before the first lookup (for example, one that imports
  every module of a package, each of which registers itself);
* ``entry_point_group``: plug-ins from other packages (or heavy parts of this one, such as the
  GNN) declared as ``[project.entry-points."GROUP"]`` in their ``pyproject.toml``. Their names
  are listed without importing them; an entry point is loaded only when its name is asked for,
  so ``--help`` or a screener listing never imports torch-geometric.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from munas.errors import UserError

T = TypeVar("T")
V = TypeVar("V")


class Registry(Generic[T]):
    """Named entries of one kind.

    Args:
        kind: what an entry is, for messages (``"executor"``, ``"data set"``).
        discover: run once before the first lookup, to register the built-in entries.
        entry_point_group: the entry-point group whose plug-ins are loaded on demand.
    """

    def __init__(self, kind: str, *, discover: Callable[[], None] | None = None,
                 entry_point_group: str | None = None) -> None:
        self.kind = kind
        self._discover = discover
        self._entry_point_group = entry_point_group
        self._entries: dict[str, T] = {}
        self._discovered = discover is None

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``; a name registered twice is a programming error."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[V], V]:
        """Decorator: register the decorated class or function itself under ``name``."""

        def decorate(entry: V) -> V:
            self.add(name, entry)  # type: ignore[arg-type]
            return entry

        return decorate

    def names(self) -> list[str]:
        """Every name that :meth:`get` accepts, sorted (plug-ins are listed, not loaded)."""
        self._ensure_discovered()
        return sorted(set(self._entries) | set(self._plugins()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str) -> T:
        """The entry registered as ``name``, loading its plug-in if it comes from one.

        Raises:
            UserError: ``name`` is not registered (the message lists the valid names), or its
                plug-in fails to import.
        """
        self._ensure_discovered()
        if name not in self._entries:
            plugin = self._plugins().get(name)
            if plugin is None:
                raise UserError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
            self._entries[name] = self._load(plugin)
        return self._entries[name]

    def _load(self, plugin: EntryPoint) -> T:
        try:
            return plugin.load()
        except ImportError as error:
            raise UserError(f"the {self.kind} {plugin.name!r} failed to import ({error}); reinstall munas with "
                            "pip install -e . or choose another") from None

    def _plugins(self) -> dict[str, EntryPoint]:
        if self._entry_point_group is None:
            return {}
        return {plugin.name: plugin for plugin in entry_points(group=self._entry_point_group)}

    def _ensure_discovered(self) -> None:
        if not self._discovered:
            self._discovered = True  # set first: discovery registers through add()
            assert self._discover is not None
            self._discover()
