"""Recommenders behind one fit/score interface; importing this package registers them all."""

from recaug.models import als, bpr, content, ease, itemknn, lightgcn, pop, tuned  # noqa: F401  (registration side effect)
from recaug.models.base import MODELS, Recommender, create_model

__all__ = ["MODELS", "Recommender", "create_model"]
