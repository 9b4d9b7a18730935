"""One explicit, loud registry type used for augmenters, models and split protocols.

Built-in entries are added explicitly at import. Third-party packages add theirs through an entry point group
(``recaug.augmenters``, ``recaug.models``): each entry point names a class, loaded the first time the registry is
read, never at ``import recaug``. A plug-in that fails to load, is of the wrong type, or reuses a name raises;
nothing is dropped silently. ``RECAUG_NO_PLUGINS=1`` turns plug-in loading off (to rule a package out).
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from recaug.core.errors import RecaugInputError

T = TypeVar("T")
NO_PLUGINS_ENV = "RECAUG_NO_PLUGINS"


class Registry(Generic[T]):
    """Name -> object. Duplicate registration and unknown lookups raise, never pass silently.

    ``entry_point_group``: also load the entry points of that group on first read; ``check(name, obj)`` raises
    when a loaded object does not belong in this registry.
    """

    def __init__(
        self, kind: str, *, entry_point_group: str | None = None, check: Callable[[str, object], None] | None = None
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._check = check
        self._entries: dict[str, T] = {}
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = obj

    def load_plugins(self) -> None:
        """Add every entry point of ``entry_point_group`` once (a no-op afterwards, or without a group)."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True  # first: a plug-in that reads this registry while loading must not recurse
        if os.environ.get(NO_PLUGINS_ENV, "").strip() not in ("", "0"):
            return
        assert self.entry_point_group is not None
        for entry in sorted(importlib.metadata.entry_points(group=self.entry_point_group), key=lambda e: e.name):
            source = f"entry point '{entry.name} = {entry.value}'" + (f" of {entry.dist.name}" if entry.dist else "")
            fix = f"fix or uninstall that package, or set {NO_PLUGINS_ENV}=1 to start without plug-ins"
            try:
                obj = entry.load()
            except Exception as err:  # any error of third-party code: reported with where it came from
                raise RecaugInputError(f"the {self.kind} plug-in {source} failed to load: {err!r}", fix=fix) from err
            if self._check is not None:
                try:
                    self._check(entry.name, obj)
                except (TypeError, ValueError) as err:
                    raise RecaugInputError(f"the {self.kind} plug-in {source} is refused: {err}", fix=fix) from err
            if self._entries.get(entry.name) is obj:
                continue  # the plug-in's module registered itself on import (with recaug's ``register``)
            if entry.name in self._entries:
                raise RecaugInputError(f"the {self.kind} plug-in {source} reuses the name '{entry.name}'", fix=fix)
            self._entries[entry.name] = obj

    def get(self, name: str) -> T:
        if name in self._entries:  # built-ins need no plug-in loading (so reading one while importing is safe)
            return self._entries[name]
        self.load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            raise RecaugInputError(
                f"unknown {self.kind} '{name}'", fix=f"choose one of: {', '.join(sorted(self._entries))}"
            ) from None

    def names(self) -> list[str]:
        self.load_plugins()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        if name in self._entries:
            return True
        self.load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self.load_plugins()
        return iter(self._entries)


def subclass_check(base: type, what: str) -> Callable[[str, object], None]:
    """A ``check`` for registries of classes: the object is a subclass of ``base`` whose ``name`` is the entry's."""

    def check(name: str, obj: object) -> None:
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise TypeError(f"it is {obj!r}, not a subclass of {base.__module__}.{base.__qualname__} ({what})")
        if getattr(obj, "name", None) != name:
            raise ValueError(f"its class says name = {getattr(obj, 'name', None)!r}; the entry point says '{name}'")

    return check
