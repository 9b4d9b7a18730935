"""What an experiment is: the configuration written to config.json, and the names every table uses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.core.variants import Variant
from recaug.data.splits import SplitSpec
from recaug.evaluate.catalog import ALL_METRICS, EXPERIMENT_KS

BASELINE = "baseline"
RESULT_COLUMNS = ["model", "variant", "seed", "slice", "metric", "k", "value", "n_users"]
AA_SEED_OFFSET = 100_003  # the A/A control's model seeds: fresh, and never another seed's baseline


@dataclass
class ExperimentConfig:
    """Everything needed to reproduce a run (written to config.json)."""

    data: str = "ml-100k"
    protocol: str = "random-811"
    protocol_params: dict[str, Any] = field(default_factory=dict)  # e.g. {"n": 3} for cold-users
    augmenters: list[str] = field(default_factory=lambda: ["similarity"])
    augmenter_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget: float | int = 0.1
    target: str = "light-users"
    models: list[str] = field(default_factory=lambda: ["pop", "itemknn", "bpr"])
    model_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    ks: list[int] = field(default_factory=lambda: list(EXPERIMENT_KS))
    metrics: list[str] = field(default_factory=lambda: list(ALL_METRICS))
    # Refit the baseline with fresh seeds on the same data: the A/A control, an opt-in calibration check. Off by
    # default (issue 17): it is a third of the default run's fits and, spent as seeds, the same fits buy 1.5x the
    # seeds; each row's noise is its own seed spread, and benchmarks/null_calibration.md checks calibration.
    aa_control: bool = False
    # The question declared before the run (issue 17): per model, these metric@k rows on slice "all" and on the
    # augmentation's target slice form the primary family; every other row is exploratory.
    primary: list[str] = field(default_factory=lambda: ["ndcg@10", "recall@20"])
    # 0: run exactly ``seeds``. N > len(seeds): start with ``seeds`` and add seeds, up to N in all, while a primary
    # row is undecided and can still be decided (the sequential rule lives in recaug.evaluate).
    max_seeds: int = 0
    # Written by the run, not read: the seeds that ran, in order, and why no more were added (issue 17).
    seeds_run: list[int] = field(default_factory=list)
    stopped: str = ""
    # > 0: keep each (model, variant, seed)'s top-k recommendation lists for the test users (written as Parquet).
    save_top_k: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def variants(self) -> list[Variant]:
        """The augmented arms, typed (``augmenters`` holds their names, as written to config.json)."""
        return [Variant.parse(name) for name in self.augmenters]

    def check_seeds(self) -> None:
        """Refuse seeds that do not replicate: each seed is one replicate, the unit of inference, so a repeated seed
        would count one replicate twice (``0,0,1`` gave a verdict from two); negative seeds cannot seed numpy."""
        seeds = list(self.seeds)
        if not seeds:
            raise RecaugInputError("no seeds to run", fix="give at least one seed, e.g. --seeds 0,1,2 (seeds=3)")
        bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
        if bad:
            raise RecaugInputError(
                f"seeds must be whole numbers 0 or above, got {', '.join(map(repr, bad))}",
                fix="use seeds like 0,1,2",
            )
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        if repeated:
            raise RecaugInputError(
                f"seed {', '.join(map(str, repeated))} is given twice: a repeated seed is the same replicate counted "
                "again, not more evidence",
                fix="give distinct seeds, e.g. 0,1,2",
            )
        if 0 < int(self.max_seeds or 0) < len(seeds):
            raise RecaugInputError(
                f"max_seeds {self.max_seeds} is below the {len(seeds)} seeds given: adding seeds until decided "
                "starts from the given seeds and adds more up to max_seeds",
                fix=f"use --max-seeds above {len(seeds)} (e.g. {len(seeds) * 3}), or leave it out",
            )

    def split_spec(self) -> SplitSpec:
        """The split definition every seed is built from (raises RecaugInputError for bad parameters)."""
        return SplitSpec.of(self.protocol, self.protocol_params)
