"""Parameter constraints (imbalanced-learn style): declared once per class, checked in ``fit``, tested over every
registered augmenter and model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recaug.augment import AUGMENTERS
from recaug.core.errors import RecaugInputError
from recaug.core.params import Interval, Options, Parameterised, describe, satisfies
from recaug.models import MODELS
from recaug.testing.data import checkerboard, default_slice

ESTIMATORS = [("augmenter", name) for name in AUGMENTERS.names()] + [("model", name) for name in MODELS.names()]
# Constructor parameters without a declared constraint (none: every estimator declares all of its parameters).
UNCONSTRAINED: dict[str, set[str]] = {}


class Invalid:
    """A value no constraint accepts (not a number, option, string, container or None)."""

    def __repr__(self) -> str:
        return "Invalid()"


def estimator_class(kind: str, name: str) -> type[Parameterised]:
    return AUGMENTERS.get(name) if kind == "augmenter" else MODELS.get(name)


def fit(kind: str, estimator: Parameterised) -> None:
    if kind == "augmenter":
        estimator.fit(default_slice().train)  # type: ignore[attr-defined]
    else:
        estimator.fit(checkerboard().train)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("kind", "name"), ESTIMATORS)
def test_every_parameter_is_constrained_and_the_defaults_pass(kind: str, name: str) -> None:
    cls = estimator_class(kind, name)
    constraints = cls.parameter_constraints()
    assert set(constraints) <= set(cls.param_names()), "constraints name constructor parameters only"
    assert set(cls.param_names()) - set(constraints) == UNCONSTRAINED.get(name, set())
    cls().validate_params()


@pytest.mark.parametrize(("kind", "name"), ESTIMATORS)
def test_fit_refuses_an_invalid_value_of_every_constrained_parameter(kind: str, name: str) -> None:
    """imbalanced-learn's ``test_check_param_validation``: each parameter in turn gets a value nothing accepts."""
    cls = estimator_class(kind, name)
    for parameter in cls.parameter_constraints():
        estimator = cls().set_params(**{parameter: Invalid()})
        with pytest.raises(RecaugInputError, match=f"{parameter} must be .*, got Invalid()"):
            fit(kind, estimator)


def test_intervals_options_and_types() -> None:
    whole = Interval(int, 1, None)
    assert satisfies(1, whole) and satisfies(np.int64(3), whole)
    assert not satisfies(0, whole) and not satisfies(True, whole) and not satisfies(2.0, whole)
    fraction = Interval(float, 0.0, 1.0, closed="left")
    assert satisfies(0, fraction) and satisfies(np.float32(0.5), fraction)
    assert not satisfies(1.0, fraction) and not satisfies(math.nan, fraction) and not satisfies("0.5", fraction)
    assert satisfies("vote", Options(("vote", "union"))) and not satisfies(["vote"], Options(("vote",)))
    assert satisfies(None, None) and satisfies({}, dict) and not satisfies(True, int) and satisfies(True, bool)
    assert describe([Interval(int, 1, None), None]) == "a whole number in [1, ∞) or None"
    assert describe([fraction]) == "a number in [0, 1)"


def test_choices_declared_for_forms_are_checked_too() -> None:
    """``param_choices`` (what forms and --param offer) count as constraints, so they are declared once."""
    ensemble = AUGMENTERS.get("ensemble")(mode="majority")
    with pytest.raises(RecaugInputError, match="mode must be one of 'union'"):
        ensemble.validate_params()
