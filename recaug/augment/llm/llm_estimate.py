"""Before an experiment runs its LLM augmenters: what will they cost on this backend? (CLI and Augment page.)

Each ``llm-*`` variant is fitted on the first seed's training split and probed with one batch of real calls
(:meth:`recaug.augment.llm.llm_common.LLMAugmenter.estimate`), so the estimate reflects this machine and server, not a
guess. Later seeds cost about the same; answers the probe made are not cached, so they are not double-counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recaug.augment.base import create_augmenter
from recaug.augment.llm.llm_common import LLMAugmenter, LLMEstimate

if TYPE_CHECKING:
    from recaug.data.dataset import Dataset
    from recaug.experiment import ExperimentConfig


def estimate_llm_variants(dataset: Dataset, config: ExperimentConfig) -> list[LLMEstimate]:
    """One estimate per ``llm-*`` variant of ``config`` (none when it has no LLM augmenter), for one seed."""
    from recaug.core.variants import split_variant

    names = [name for name in config.augmenters if split_variant(name)[0].startswith("llm-")]
    if not names:
        return []
    seed = config.seeds[0]
    split = config.split_spec().build(dataset.interactions, seed)
    training = dataset.training_data(split.train, cold_items=split.cold_items)
    out = []
    for name in names:
        method, budget = split_variant(name)
        params = {"seed": seed, **config.augmenter_params.get(method, {}), **config.augmenter_params.get(name, {})}
        augmenter = create_augmenter(method, **params)
        if not isinstance(augmenter, LLMAugmenter):  # an llm-* name registered by a plug-in without the base
            continue
        augmenter.fit(training)
        estimate = augmenter.estimate(
            config.budget if budget is None else budget, target=params.get("target", config.target)
        )
        out.append(estimate if name == method else _renamed(estimate, name))
    return out


def _renamed(estimate: LLMEstimate, name: str) -> LLMEstimate:
    from dataclasses import replace

    return replace(estimate, augmenter=name)
