"""Conformance kits: the test suites every augmenter and every recommender inherits (as LensKit and implicit ship).

A new model gets the whole recommender suite by subclassing::

    from recaug.testing import RecommenderConformance

    class TestMyModel(RecommenderConformance):
        model_name = "my-model"
        params = {"max_epochs": 20}

and a new augmenter the augmenter suite with ``AugmenterConformance`` and ``augmenter_name``. The kits import
pytest, so import them from tests only (``import recaug`` never loads this package).
"""

from recaug.testing.augmenters import AugmenterConformance
from recaug.testing.data import SliceData, checkerboard, default_slice, slice_of
from recaug.testing.recommenders import FoldInConformance, RecommenderConformance

__all__ = [
    "AugmenterConformance",
    "FoldInConformance",
    "RecommenderConformance",
    "SliceData",
    "checkerboard",
    "default_slice",
    "slice_of",
]
