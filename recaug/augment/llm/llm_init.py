"""``llm-init`` (LLMInit, EMNLP'25 industry track): item factors start from item-text embeddings; no rows added.

The LLM first enriches the text of the thinnest target items (fewest training interactions; ``max_items`` of
them, 0 = all, one generation each, as ``llm-item-text`` does; ``enrich=False`` skips the LLM); then every item
the training split may see is embedded with the sentence encoder. The experiment hands these vectors to the
models that can start from them (BPR, LightGCN: ``uses_item_init``), which project them to their own dimension
(:mod:`recaug.models.item_init`). Models that cannot use them fit exactly as the baseline does, and the CLI and
the Compare page say so.

It competes as a variant on the same split, under the same validation selection, as every other method. The
budget does not apply (it adds no interactions). Leakage: only items visible to the training split get a vector;
items known only from validation or test keep their random start.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recaug.augment.base import Target, register
from recaug.augment.llm.llm_common import LLMAugmenter
from recaug.augment.llm.llm_item_text import enrich_items, thin_items
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for


@register
class LLMInitAugmenter(LLMAugmenter):
    """Item-text embeddings (thin items LLM-enriched first) as start vectors for item factors; see the module."""

    name = "llm-init"
    description = "LLMInit: BPR/LightGCN item factors start from (LLM-enriched) item-text embeddings; adds no rows"
    family = "llm"
    adds_rows = False
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "enrich": [bool],
        "max_items": [Interval(int, 0, None)],
        "max_new_tokens": [Interval(int, 1, None)],
        "encoder": [str],
    }

    def __init__(
        self,
        *,
        enrich: bool = True,
        max_items: int = 50,
        max_new_tokens: int = 32,
        encoder: str = DEFAULT_ENCODER,
        **shared: Any,
    ) -> None:
        super().__init__(**shared)
        self.enrich = enrich  # False: plain item text, no LLM call
        self.max_items = max_items  # thin target items enriched by the LLM before embedding (0: all of them)
        self.max_new_tokens = max_new_tokens
        self.encoder = encoder

    def _fit(self, train: TrainingData) -> None:
        super()._fit(train)
        self.encoder_ = encoder_for(
            self.encoder, train.matrix, train.items["text"].tolist(), seed=self.seed, info=self.info_
        )
        self.item_vectors_ = encode_texts(train.items["text"].tolist(), model=self.encoder_)

    def planned_calls(self, budget: int, target: Target) -> int:
        return min(len(target.items), self.max_items or len(target.items)) if self.enrich else 0

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        self._begin()
        wanted = self.planned_calls(budget, target)
        items = thin_items(self.train_, target.items, min(wanted, self.call_cap()))
        frame = enrich_items(self, items, self.max_new_tokens, sub_progress(progress, 0.0, 0.9))
        vectors = self.item_vectors_.copy()
        if len(frame):
            enriched = frame["index"].to_numpy(dtype=np.int64)
            vectors[enriched] = encode_texts(frame["enriched_text"].tolist(), model=self.encoder_)
        visible = self.train_.item_visible()
        self.item_init_ = pd.DataFrame(vectors[visible], index=self.train_.item_ids[visible].astype(str))
        self.item_init_.index.name = ITEM
        self._end(
            {
                "items_prompted": len(items),
                "items_enriched": len(frame),
                "calls_capped": len(items) < wanted,
                "items_with_start_vectors": int(visible.sum()),
            }
        )
        progress(1.0, f"{self.name}: start vectors for {int(visible.sum()):,} items")
        return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE, "prompt_id"])
