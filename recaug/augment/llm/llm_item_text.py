"""``llm-item-text`` (the seed's item-description augmentation, KAR-style item knowledge).

The LLM enriches the text of the items with the fewest training interactions (ties: the thinnest text) with
keywords on genre, mood and themes. The enriched text replaces those items' vectors in the sentence-embedding
space of the ``similarity`` augmenter, and each enriched item is then given to the targeted users whose history
profile is closest to it (cold-item expansion). ``artifacts_["item_text"]`` keeps original and enriched texts.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recaug.augment.base import Target, register
from recaug.augment.llm.llm_common import LLMAugmenter
from recaug.augment.text.similarity import history_profiles, ranked_matches, round_robin
from recaug.core.params import Constraint, Interval
from recaug.core.progress import ProgressFn, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import CONFIDENCE, ITEM, USER
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import encoder_for
from recaug.text.llm.parsing import clean_answer

ITEM_TEXT_COLUMNS = [ITEM, "title", "original_text", "keywords", "enriched_text", "prompt_id"]


def thin_items(train: TrainingData, items: np.ndarray, limit: int) -> np.ndarray:
    """The ``limit`` items with the fewest training interactions, ties broken by the shortest text."""
    popularity = train.item_popularity()[items]
    length = train.items["text"].astype(str).str.len().to_numpy()[items]
    order = np.lexsort((items, length, popularity))
    return items[order[:limit]]


@register
class LLMItemTextAugmenter(LLMAugmenter):
    """LLM-enriched text for thin items, then similarity expansion to users; see the module docstring."""

    name = "llm-item-text"
    description = "LLM enriches thin item text (genre, mood, keywords); enriched items go to the most similar users"
    family = "llm"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "max_items": [Interval(int, 0, None)],
        "max_new_tokens": [Interval(int, 1, None)],
        "encoder": [str],
    }

    def __init__(
        self, *, max_items: int = 50, max_new_tokens: int = 32, encoder: str = DEFAULT_ENCODER, **shared: Any
    ) -> None:
        super().__init__(**shared)
        self.max_items = max_items
        self.max_new_tokens = max_new_tokens
        self.encoder = encoder

    def _fit(self, train: TrainingData) -> None:
        super()._fit(train)
        self.encoder_ = encoder_for(
            self.encoder, train.matrix, train.items["text"].tolist(), seed=self.seed, info=self.info_
        )
        self.item_vectors_ = encode_texts(train.items["text"].tolist(), model=self.encoder_)

    def prompt(self, item: int) -> str:
        return keywords_prompt(self.item_noun, str(self.texts_[item]))

    def planned_calls(self, budget: int, target: Target) -> int:
        return min(len(target.items), self.max_items or len(target.items))

    def _propose(self, budget: int, target: Target, rng: np.random.Generator, progress: ProgressFn) -> pd.DataFrame:
        self._begin()
        wanted = self.planned_calls(budget, target)
        items = thin_items(self.train_, target.items, min(wanted, self.call_cap()))
        frame = enrich_items(self, items, self.max_new_tokens, sub_progress(progress, 0.0, 0.9))
        self._end({"items_prompted": len(items), "items_enriched": len(frame), "calls_capped": len(items) < wanted})
        users = target.users[self.train_.user_degree()[target.users] > 0]
        return give_items_to_users(self, frame, users, budget, sub_progress(progress, 0.9, 1.0))


def keywords_prompt(noun: str, text: str) -> str:
    """The enrichment question about one item's text."""
    return (
        f"{noun.capitalize()}: {text}\nWrite eight keywords describing its genre, mood and themes, separated by commas."
    )


def enrich_items(aug: LLMAugmenter, items: np.ndarray, max_new_tokens: int, progress: ProgressFn) -> pd.DataFrame:
    """One generation per item: keywords appended to its text (``ITEM_TEXT_COLUMNS`` + ``index``), logged in
    ``aug``'s provenance log; kept in ``aug.artifacts_["item_text"]``."""
    prompts = [keywords_prompt(aug.item_noun, str(aug.texts_[i])) for i in items]
    answers = aug.generate_in_batches(prompts, max_new_tokens, progress, "item texts enriched")
    table = []
    for item, prompt, answer in zip(items, prompts, answers, strict=True):
        keywords = " ".join(clean_answer(answer.text).split()) if answer.error is None else ""
        prompt_id = aug.record_text(answer, prompt, keywords, empty="empty answer", item=int(item))
        if prompt_id:
            original = str(aug.texts_[item])
            table.append(
                {
                    ITEM: str(aug.train_.item_ids[item]),
                    "title": str(aug.titles_[item]),
                    "original_text": original,
                    "keywords": keywords,
                    "enriched_text": f"{original} Keywords: {keywords}",
                    "prompt_id": prompt_id,
                    "index": int(item),
                }
            )
    frame = pd.DataFrame(table, columns=[*ITEM_TEXT_COLUMNS, "index"])
    aug.artifacts_["item_text"] = frame[ITEM_TEXT_COLUMNS]
    return frame


def give_items_to_users(
    aug: Any, frame: pd.DataFrame, users: np.ndarray, budget: int, progress: ProgressFn
) -> pd.DataFrame:
    """Each enriched item goes to the users whose history profile is closest to its enriched text (round robin over
    items, best first), ``budget`` x 2 proposals at most. ``aug`` needs ``item_vectors_`` and ``encoder_``."""
    if frame.empty or len(users) == 0:
        return pd.DataFrame(columns=[USER, ITEM, CONFIDENCE, "prompt_id"])
    enriched = frame["index"].to_numpy(dtype=np.int64)
    vectors = aug.item_vectors_.copy()
    vectors[enriched] = encode_texts(frame["enriched_text"].tolist(), model=aug.encoder_)
    aug.artifacts_["item_text_embeddings"] = vectors[enriched]
    history = aug.train_.matrix[users]
    profiles = history_profiles(history, vectors)
    depth = min(len(users), int(np.ceil(budget / len(enriched))) + 1)
    top, sims = ranked_matches(
        vectors[enriched], profiles, history[:, enriched].T.tocsr(), depth, progress, "matching enriched items to users"
    )
    i, u, s = round_robin([np.full(depth, item) for item in enriched], list(users[top]), list(sims), budget * 2)
    ok = np.isfinite(s)
    prompt_of = dict(zip(enriched.tolist(), frame["prompt_id"], strict=True))
    return aug.rows_frame(u[ok], i[ok], np.clip((s[ok] + 1.0) / 2.0, 0.0, 1.0), [prompt_of[int(x)] for x in i[ok]])
