"""Augmenters behind one registry; importing this package registers every family explicitly."""

from recaug.augment import random, similarity  # noqa: F401  (registration side effect)
from recaug.augment.base import AUGMENTERS, AugmentResult, Augmenter, create_augmenter

__all__ = ["AUGMENTERS", "AugmentResult", "Augmenter", "create_augmenter"]
