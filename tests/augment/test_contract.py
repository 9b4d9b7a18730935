"""The shared augmenter contract (:class:`recaug.testing.AugmenterConformance`), run over EVERY registered augmenter.

One test class per augmenter is generated below; adding an augmenter to the registry adds it here automatically.
Augmenters that are slow at their defaults get a cheap configuration from ``FAST_PARAMS``.
"""

from __future__ import annotations

from typing import Any

import pytest

from recaug.augment import AUGMENTERS, create_augmenter
from recaug.augment.base import BASE_OPTIONS, Augmenter, AugmentOptions
from recaug.core.errors import RecaugInputError
from recaug.testing import AugmenterConformance

FAST_PARAMS: dict[str, dict[str, Any]] = {
    "cfgan": {"epochs": 3},
    "embedding-gan": {"epochs": 5},
    "rl-gan": {"epochs": 2},
    "ensemble": {"members": ["itemknn-expansion", "popularity", "random"], "mode": "vote"},
    "llm-interactions": {"max_users": 2},
    "llm-profiles": {"max_users": 2, "max_new_tokens": 16},
    "llm-item-text": {"max_items": 2, "max_new_tokens": 16},
    "llm-cold-items": {"max_items": 2, "users_per_item": 2, "max_users": 10, "min_yes": 0.0},
    "llm-init": {"max_items": 2, "max_new_tokens": 16},
}


def _class_name(name: str) -> str:
    return "Test" + "".join(part.title() for part in name.split("-")) + "Conformance"


for _name in AUGMENTERS.names():
    _suite = type(
        _class_name(_name),
        (AugmenterConformance,),
        {"augmenter_name": _name, "params": FAST_PARAMS.get(_name, {}), "__module__": __name__},
    )
    globals()[_suite.__name__] = _suite


def test_every_registered_augmenter_has_a_suite() -> None:
    suites = {cls.augmenter_name for cls in globals().values() if isinstance(cls, type) and cls.__name__[:4] == "Test"}
    assert suites == set(AUGMENTERS.names())


def test_the_shared_options_are_defined_once() -> None:
    """The options' names (``AugmentOptions``) are the base constructor's, beyond seed and target."""
    base = [name for name in Augmenter.param_names() if name not in ("seed", "target")]
    assert list(BASE_OPTIONS) == list(AugmentOptions.__annotations__) == base


@pytest.mark.parametrize("name", ["random", "similarity"])
def test_unknown_parameters_are_refused_by_name(name: str) -> None:
    with pytest.raises(RecaugInputError, match=r"no parameter.*denoize"):
        create_augmenter(name, denoize=0.2)
    with pytest.raises(RecaugInputError, match=r"no parameter.*denoize"):
        AUGMENTERS.get(name)().set_params(denoize=0.2)
