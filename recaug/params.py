"""scikit-learn-style parameter handling shared by augmenters and models."""

from __future__ import annotations

import inspect
from typing import Any

from recaug.errors import RecaugInputError


class Parameterised:
    """Constructors take keyword-only parameters and store them unchanged under the same names."""

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

    @classmethod
    def create(cls, label: str, **params: Any) -> Any:
        """Instantiate, rejecting unknown parameters with a message that lists the valid ones."""
        unknown = sorted(set(params) - set(cls.param_names()))
        if unknown:
            raise RecaugInputError(
                f"{label} has no parameter(s) {', '.join(unknown)}",
                fix=f"valid parameters: {', '.join(cls.param_names())}",
            )
        return cls(**params)
