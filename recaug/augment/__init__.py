"""Augmenters behind one registry; importing this package registers every family explicitly."""

import recaug.augment.control.edge_dropout
import recaug.augment.control.popularity
import recaug.augment.control.random
import recaug.augment.ensemble
import recaug.augment.gan.cfgan
import recaug.augment.gan.embedding_gan
import recaug.augment.gan.rl_gan
import recaug.augment.graph.itemknn_expansion
import recaug.augment.graph.link_prediction
import recaug.augment.interpolation.aggregation
import recaug.augment.interpolation.mixup
import recaug.augment.llm.llm_cold_items
import recaug.augment.llm.llm_init
import recaug.augment.llm.llm_interactions
import recaug.augment.llm.llm_item_text
import recaug.augment.llm.llm_profiles
import recaug.augment.text.similarity  # noqa: F401
from recaug.augment.base import AUGMENTERS, Augmenter, AugmentResult, create_augmenter

__all__ = ["AUGMENTERS", "AugmentResult", "Augmenter", "create_augmenter"]
