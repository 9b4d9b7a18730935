"""Before an experiment runs its LLM augmenters: what will they cost on this backend? (CLI and Augment page.)

Each ``llm-*`` variant is fitted on the first seed's training split and probed with one batch of real calls
(:meth:`recaug.augment.llm.llm_common.LLMAugmenter.estimate`), so the estimate reflects this machine and server, not a
guess. Later seeds cost about the same; answers the probe made are not cached, so they are not double-counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from recaug.augment.base import create_augmenter
from recaug.augment.llm.llm_common import LLMAugmenter, LLMEstimate
from recaug.core.progress import ProgressFn

if TYPE_CHECKING:
    from recaug.augment.llm.skill import SkillReport
    from recaug.data.dataset import Dataset
    from recaug.experiment import ExperimentConfig


def llm_variants(dataset: Dataset, config: ExperimentConfig) -> Iterator[tuple[str, LLMAugmenter, Any, Any]]:
    """(variant name, its augmenter fitted on the first seed's training split, budget, target) per ``llm-*``
    variant of ``config``; the split is built once."""
    from recaug.core.variants import split_variant

    names = [name for name in config.augmenters if split_variant(name)[0].startswith("llm-")]
    if not names:
        return
    seed = config.seeds[0]
    split = config.split_spec().build(dataset.interactions, seed)
    training = dataset.training_data(split.train, cold_items=split.cold_items)
    for name in names:
        method, budget = split_variant(name)
        params = {"seed": seed, **config.augmenter_params.get(method, {}), **config.augmenter_params.get(name, {})}
        augmenter = create_augmenter(method, **params)
        if not isinstance(augmenter, LLMAugmenter):  # an llm-* name registered by a plug-in without the base
            continue
        yield (
            name,
            augmenter.fit(training),
            config.budget if budget is None else budget,
            params.get("target", config.target),
        )


def estimate_llm_variants(dataset: Dataset, config: ExperimentConfig) -> list[LLMEstimate]:
    """One estimate per ``llm-*`` variant of ``config`` (none when it has no LLM augmenter), for one seed."""
    out = []
    for name, augmenter, budget, target in llm_variants(dataset, config):
        estimate = augmenter.estimate(budget, target=target)
        out.append(estimate if name == augmenter.name else _renamed(estimate, name))
    return out


def check_llm_skill(
    dataset: Dataset, config: ExperimentConfig, progress: ProgressFn | None = None
) -> SkillReport | None:
    """The skill check the first spending ``llm-*`` variant of ``config`` will run on the first seed (its rule, or
    ``encoder`` when its check is off), measured now; None when no variant would call the LLM. The run reuses it."""
    from recaug.augment.base import resolve_budget, resolve_target
    from recaug.augment.llm.skill import check_skill, parse_min_skill

    for _, augmenter, budget, target in llm_variants(dataset, config):
        resolved = resolve_target(augmenter.train_, target)
        if augmenter.planned_calls(resolve_budget(budget, len(augmenter.train_.interactions)), resolved) == 0:
            continue
        rule = parse_min_skill(augmenter.min_skill)
        return check_skill(
            augmenter,
            rule="encoder" if rule == "off" else rule,
            users=resolved.users,
            n_users=augmenter.skill_users,
            progress=progress,
        )
    return None


def _renamed(estimate: LLMEstimate, name: str) -> LLMEstimate:
    from dataclasses import replace

    return replace(estimate, augmenter=name)
