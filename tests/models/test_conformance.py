"""The recommender conformance suite (:class:`recaug.testing.RecommenderConformance`) for EVERY registered model.

Each class sets small caps (epochs, grids) so the whole file stays fast; ``test_every_model_has_a_suite`` fails
when a model is registered without one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from recaug.models import MODELS
from recaug.testing import FoldInConformance, RecommenderConformance

# Torch models (BPR, LightGCN): a high learning rate and few epochs learn the 40 x 40 checkerboard in about a second.
FAST_TORCH: dict[str, Any] = {"lr": 0.05, "max_epochs": 40, "batch_size": 256, "factors": 16}


def grid_of(params: dict[str, Any], **varied: tuple[Any, ...]) -> dict[str, Any]:
    """A tuning grid with one point per fixed parameter, and several for ``varied``."""
    return {"grid": {**{key: (value,) for key, value in params.items()}, **varied}}


class TestPop(RecommenderConformance):
    model_name = "pop"
    personalised = False


class TestItemKNN(FoldInConformance):
    model_name = "itemknn"


class TestEASE(RecommenderConformance):
    model_name = "ease"


class TestALS(RecommenderConformance):
    model_name = "als"
    params: ClassVar[dict[str, Any]] = {"factors": 8, "max_iterations": 9}


class TestBPR(RecommenderConformance):
    model_name = "bpr"
    params: ClassVar[dict[str, Any]] = FAST_TORCH


class TestLightGCN(RecommenderConformance):
    model_name = "lightgcn"
    params: ClassVar[dict[str, Any]] = FAST_TORCH


class TestContent(RecommenderConformance):
    model_name = "content"
    params: ClassVar[dict[str, Any]] = {"factors": 8}


class TestBPRTuned(RecommenderConformance):
    model_name = "bpr-tuned"
    params: ClassVar[dict[str, Any]] = grid_of(FAST_TORCH, factors=(8, 16))


class TestLightGCNTuned(RecommenderConformance):
    model_name = "lightgcn-tuned"
    params: ClassVar[dict[str, Any]] = grid_of(FAST_TORCH)


class TestItemKNNTuned(RecommenderConformance):
    model_name = "itemknn-tuned"
    params: ClassVar[dict[str, Any]] = {"grid": {"k": (10, 100)}}


def test_every_model_has_a_suite() -> None:
    suites = {cls.model_name for cls in globals().values() if isinstance(cls, type) and cls.__name__[:4] == "Test"}
    assert suites == set(MODELS.names())
