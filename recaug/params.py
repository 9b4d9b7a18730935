"""scikit-learn-style parameter handling shared by augmenters and models."""

from __future__ import annotations

import inspect
from typing import Any, Self

from recaug.errors import RecaugInputError


class Parameterised:
    """Constructors take keyword-only parameters and store them unchanged under the same names.

    So ``type(obj)(**obj.get_params())`` rebuilds ``obj`` and ``set_params`` changes what the constructor set.
    """

    @classmethod
    def param_names(cls) -> list[str]:
        """Keyword-only constructor parameters across the class hierarchy."""
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.kind is p.KEYWORD_ONLY and p.name not in names:
                    names.append(p.name)
        return names

    def get_params(self) -> dict[str, Any]:
        """Parameters as passed, so a run can be re-created exactly."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        """Change constructor parameters by name (learned state is not touched); returns self.

        Raises :class:`RecaugInputError` listing the valid names if one is unknown.
        """
        self.check_param_names(getattr(type(self), "name", type(self).__name__), params)
        for name, value in params.items():
            setattr(self, name, value)
        return self

    @classmethod
    def check_param_names(cls, label: str, params: dict[str, Any]) -> None:
        """Raise :class:`RecaugInputError` naming the unknown parameters of ``label`` and the valid ones."""
        unknown = sorted(set(params) - set(cls.param_names()))
        if unknown:
            raise RecaugInputError(
                f"{label} has no parameter(s) {', '.join(unknown)}",
                fix=f"valid parameters: {', '.join(cls.param_names())}",
            )

    @classmethod
    def create(cls, label: str, **params: Any) -> Any:
        """Instantiate, rejecting unknown parameters with a message that lists the valid ones."""
        cls.check_param_names(label, params)
        return cls(**params)
