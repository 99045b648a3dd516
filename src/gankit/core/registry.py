"""Name -> object registries for datasets, objectives and metrics.

Adding an option is one function plus one ``@REGISTRY.register("name")`` line; the CLI and the
config validation read the accepted names from here, so they never go stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from gankit.core.errors import GankitError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._loaders: dict[str, Callable[[], T]] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            self._claim(name)
            self._items[name] = item
            return item

        return add

    def register_lazy(self, name: str, load: Callable[[], T]) -> None:
        """``name``, its item made by ``load`` (which imports it) on first use: a heavy
        dependency of one option (pandas, for tables) is then imported only by the runs that use it."""
        self._claim(name)
        self._loaders[name] = load

    def _claim(self, name: str) -> None:
        if name in self:
            raise ValueError(f"{self.kind} '{name}' is registered twice")

    def get(self, name: str) -> T:
        if name in self._loaders:  # a loader that fails (a missing dependency) stays for the next try
            self._items[name] = self._loaders[name]()
            del self._loaders[name]
        try:
            return self._items[name]
        except KeyError:
            raise GankitError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self.names())}; "
                f"choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted([*self._items, *self._loaders])

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._loaders

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
