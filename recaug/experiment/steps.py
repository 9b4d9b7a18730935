"""A comparison's steps as its progress bar counts them, and the clock that prices the time left by them.

One place for the plan the run reports against (``run_seed_batch`` counts these steps and names each finished fit
with :func:`fitted_message`) and the plan the time left is priced by (the dashboard's jobs and the CLI's bar), so
the two cannot drift apart.
"""

from __future__ import annotations

import re

from recaug.core.progress import ProgressClock
from recaug.evaluate.significance import AA_CONTROL
from recaug.experiment.config import BASELINE, ExperimentConfig

FITTED = re.compile(r"^fitted (\S+) on ")


def variants_of(config: ExperimentConfig) -> list[str]:
    """The arms every seed fits, in the order results list them: baseline, the A/A control, the augmenters."""
    return [BASELINE, *([AA_CONTROL] if config.aa_control else []), *config.augmenters]


def planned_seeds(config: ExperimentConfig) -> int:
    """Seeds the bar is divided into: every seed that may run (``max_seeds`` when seeds are added until decided)."""
    return max(len(config.seeds), int(config.max_seeds or 0))


def fitted_message(model: str, variant: str, seed: int, done: int, total: int) -> str:
    """'fitted bpr on baseline, seed 0 (5 of 21 steps)': what the run says when a fit ends (:func:`fitted_kind`)."""
    return f"fitted {model} on {variant}, seed {seed} ({done} of {total} steps)"


def scope(config: ExperimentConfig, fingerprint: str) -> str:
    """What a step kind's price holds for: the data and its split protocol (a cold-items fit costs what cold-items
    fits cost, not what the same model took on random-811)."""
    return f"{fingerprint} · {config.protocol}"


def fitted_kind(message: str, where: str) -> str | None:
    """The plan kind of the fit a progress message says has finished ('fitted bpr on baseline, seed 0 …');
    ``where``: the run's :func:`scope`."""
    match = FITTED.match(message)
    return f"fit {match[1]} on {where}" if match else None


def seed_steps(config: ExperimentConfig) -> list[str]:
    """One seed's steps: each augmenter, then every model on every arm (the order fits finish in does not matter)."""
    steps = [f"augment {name}" for name in config.augmenters]
    return steps + [f"fit {model}" for _ in variants_of(config) for model in config.models]


def comparison_plan(config: ExperimentConfig, fingerprint: str) -> list[str]:
    """The comparison's steps (``run_seed_batch`` counts them the same way), seed after seed.

    Step kinds name the method or model (not the seed or arm), so a seed's steps price the next seed's, and the
    data and protocol (:func:`scope`), so a run on other data or another split is not priced by this one.
    """
    where = scope(config, fingerprint)
    return [f"{step} on {where}" for _ in range(planned_seeds(config)) for step in seed_steps(config)]


def augment_plan(config: ExperimentConfig, fingerprint: str) -> list[str]:
    """The Augment run's steps: one per method (``run_augmenters`` gives each an equal share of the bar)."""
    return [f"augment {name} on {scope(config, fingerprint)}" for name in config.augmenters]


def comparison_clock(config: ExperimentConfig, fingerprint: str) -> ProgressClock:
    """The time-left clock of a comparison: priced by its steps, silent until one seed's kinds are all timed.

    Why the warm-up: a seed's fits run side by side, so the first of them to finish carries the time of all of
    them; a BPR fit priced by it alone would make the time left of a 1M run three times too long.
    """
    return ProgressClock(
        plan=comparison_plan(config, fingerprint),
        kind_of=lambda message: fitted_kind(message, scope(config, fingerprint)),
        warm_up=len(seed_steps(config)),
    )
