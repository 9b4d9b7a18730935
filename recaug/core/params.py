"""scikit-learn-style parameter handling shared by augmenters and models."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self

from recaug.core.errors import RecaugInputError


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``int``: whole numbers; ``float``: any real) from ``low`` to ``high`` (None: unbounded).

    Booleans are never numbers here, and NaN is never inside an interval.
    """

    kind: type[int] | type[float]
    low: float | None = None
    high: float | None = None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, Integral if self.kind is int else Real):
            return False
        number = float(value)
        if math.isnan(number):
            return False
        low, high = self.low, self.high
        above = low is None or (number >= low if self.closed in ("both", "left") else number > low)
        below = high is None or (number <= high if self.closed in ("both", "right") else number < high)
        return above and below

    def __str__(self) -> str:
        noun = "a whole number" if self.kind is int else "a number"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-∞" if self.low is None else f"{self.low:g}"
        high = "∞" if self.high is None else f"{self.high:g}"
        return f"{noun} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        try:
            return value in self.values
        except TypeError:  # an unhashable or incomparable value is not an option
            return False

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


# A parameter's constraint: an Interval, Options, a type the value must be an instance of, or None (None allowed).
Constraint = Interval | Options | type | None


def satisfies(value: Any, constraint: Constraint) -> bool:
    """Whether ``value`` meets one constraint."""
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        return isinstance(value, constraint) and not (constraint is not bool and isinstance(value, bool))
    return constraint.accepts(value)


def describe(constraints: list[Constraint]) -> str:
    """``a whole number in [1, ∞) or None``: what a parameter accepts, in words."""

    def one(constraint: Constraint) -> str:
        if constraint is None:
            return "None"
        return f"a {constraint.__name__}" if isinstance(constraint, type) else str(constraint)

    return " or ".join(one(c) for c in constraints)


class Parameterised:
    """Constructors take keyword-only parameters and store them unchanged under the same names.

    So ``type(obj)(**obj.get_params(deep=False))`` rebuilds ``obj`` and ``set_params`` changes what the constructor set.
    Each class declares what its own parameters accept in ``_parameter_constraints`` (imbalanced-learn style;
    subclasses inherit and extend them), and ``fit`` calls :meth:`validate_params`, so a bad value fails loudly
    before any work, whichever way it was set.
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

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

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters as passed, so a run can be re-created exactly (scikit-learn's contract, so ``clone`` works).

        ``deep``: also list the parameters of parameter values that have their own (``name__sub``), as
        scikit-learn does for nested estimators; ``type(obj)(**obj.get_params(deep=False))`` rebuilds ``obj``.
        """
        params = {name: getattr(self, name) for name in self.param_names()}
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update({f"{name}__{key}": sub for key, sub in value.get_params(deep=True).items()})
        return params

    def set_params(self, **params: Any) -> Self:
        """Change constructor parameters by name (learned state is not touched); returns self.

        ``name__sub=value`` sets ``sub`` on the object held in parameter ``name`` (scikit-learn's nesting).
        Raises :class:`RecaugInputError` listing the valid names if one is unknown.
        """
        direct = {name: value for name, value in params.items() if "__" not in name}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            if "__" in key:
                name, _, sub = key.partition("__")
                nested.setdefault(name, {})[sub] = value
        self.check_param_names(getattr(type(self), "name", type(self).__name__), {**direct, **nested})
        for name, value in direct.items():
            setattr(self, name, value)
        for name, subs in nested.items():
            holder = getattr(self, name)
            if not hasattr(holder, "set_params"):
                raise RecaugInputError(
                    f"{name} holds {type(holder).__name__}, which has no parameters of its own",
                    fix=f"set {name} itself, not {name}__{next(iter(subs))}",
                )
            holder.set_params(**subs)
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
    def parameter_constraints(cls) -> dict[str, list[Constraint]]:
        """Every declared constraint across the class hierarchy (a subclass's declaration wins)."""
        merged: dict[str, list[Constraint]] = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("_parameter_constraints", {}))
        return merged

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Constructor defaults by parameter name (a subclass's default wins)."""
        defaults: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.kind is p.KEYWORD_ONLY and p.default is not p.empty:
                    defaults[p.name] = p.default
        return defaults

    def validate_params(self) -> None:
        """Raise :class:`RecaugInputError` naming the first parameter whose value meets none of its constraints."""
        label = getattr(type(self), "name", type(self).__name__)
        defaults = self.param_defaults()
        for name, constraints in self.parameter_constraints().items():
            value = getattr(self, name)
            if not any(satisfies(value, constraint) for constraint in constraints):
                raise RecaugInputError(
                    f"{label}: {name} must be {describe(constraints)}, got {value!r}",
                    fix=f"the default is {name}={defaults.get(name)!r}",
                )

    @classmethod
    def create(cls, label: str, **params: Any) -> Any:
        """Instantiate, rejecting unknown parameters with a message that lists the valid ones."""
        cls.check_param_names(label, params)
        return cls(**params)
