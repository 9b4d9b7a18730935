"""One explicit, loud registry type used for augmenters, models and split protocols."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from recaug.core.errors import RecaugInputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object. Duplicate registration and unknown lookups raise, never pass silently."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise RecaugInputError(
                f"unknown {self.kind} '{name}'", fix=f"choose one of: {', '.join(sorted(self._entries))}"
            ) from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
