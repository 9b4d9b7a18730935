"""scikit-learn's parameter contract on every registered augmenter and model, so ``sklearn.base.clone`` works.

``clone`` rebuilds an object from ``get_params(deep=False)`` and then checks that the constructor stored every
value unchanged (the very same object); a constructor that copies or converts a parameter fails it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sklearn.base import clone

from recaug.augment import AUGMENTERS
from recaug.augment.base import NotFittedError
from recaug.core.errors import RecaugInputError
from recaug.core.params import Parameterised
from recaug.models import MODELS


def _non_default(value: Any) -> Any:
    """A different value of the same kind, to show clone keeps what was set rather than the default."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.5
    return value


@pytest.mark.parametrize(
    ("registry", "name"),
    [(AUGMENTERS, n) for n in AUGMENTERS.names()] + [(MODELS, n) for n in MODELS.names()],
    ids=lambda v: v if isinstance(v, str) else v.kind,
)
def test_clone_gives_an_unfitted_copy_with_the_same_parameters(registry: Any, name: str) -> None:
    cls = registry.get(name)
    original = cls(seed=7)
    numbers = {k: _non_default(v) for k, v in original.get_params(deep=False).items() if k != "seed"}
    original.set_params(**{k: v for k, v in numbers.items() if isinstance(v, int | float)})
    copy = clone(original)
    assert type(copy) is cls and copy is not original
    assert copy.get_params(deep=False) == original.get_params(deep=False)
    assert copy.get_params(deep=True) == original.get_params(deep=True)  # no nested estimators: deep adds nothing
    assert copy.get_params(deep=False)["seed"] == 7
    assert not [attr for attr in vars(copy) if attr.endswith("_") and not attr.startswith("_")], "learned state"


def test_a_clone_of_a_fitted_augmenter_must_be_fitted_again() -> None:
    from recaug.testing.data import default_slice

    fitted = AUGMENTERS.get("random")(seed=3).fit(default_slice().train)
    with pytest.raises(NotFittedError):
        clone(fitted).augment(10)


class _Inner(Parameterised):
    def __init__(self, *, alpha: float = 1.0, beta: int = 2) -> None:
        self.alpha = alpha
        self.beta = beta


class _Outer(Parameterised):
    def __init__(self, *, inner: _Inner | None = None, seed: int = 0) -> None:
        self.inner = inner
        self.seed = seed


def test_deep_params_and_nested_set_params_follow_scikit_learn() -> None:
    outer = _Outer(inner=_Inner(alpha=0.5))
    assert outer.get_params(deep=False) == {"inner": outer.inner, "seed": 0}
    assert outer.get_params() == {"inner": outer.inner, "seed": 0, "inner__alpha": 0.5, "inner__beta": 2}
    outer.set_params(inner__beta=9, seed=4)
    assert outer.inner is not None and outer.inner.beta == 9 and outer.seed == 4
    copy = clone(outer)
    assert copy.inner is not outer.inner and copy.get_params(deep=True)["inner__beta"] == 9
    with pytest.raises(RecaugInputError, match="no parameter"):
        outer.set_params(gamma__x=1)
    with pytest.raises(RecaugInputError, match="no parameters of its own"):
        outer.set_params(seed__x=1)
