"""Augmenters behind one registry; importing this package registers every family explicitly."""

import recaug.augment.aggregation
import recaug.augment.cfgan
import recaug.augment.edge_dropout
import recaug.augment.embedding_gan
import recaug.augment.ensemble
import recaug.augment.itemknn_expansion
import recaug.augment.link_prediction
import recaug.augment.llm_cold_items
import recaug.augment.llm_interactions
import recaug.augment.llm_item_text
import recaug.augment.llm_profiles
import recaug.augment.mixup
import recaug.augment.popularity
import recaug.augment.rl_gan  # noqa: F401
from recaug.augment import random, similarity  # noqa: F401  (registration side effect)
from recaug.augment.base import AUGMENTERS, Augmenter, AugmentResult, create_augmenter

__all__ = ["AUGMENTERS", "AugmentResult", "Augmenter", "create_augmenter"]
