"""What an experiment returns: one seed's outcome, the merged result, and the wide before/after view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from recaug.data.schema import POLARITY, USER
from recaug.data.splits import Split
from recaug.evaluate.protocol import SELECTION_CELLS, UserMetrics
from recaug.evaluate.sequential import Stopping
from recaug.evaluate.slices import SliceValues
from recaug.experiment.config import BASELINE, ExperimentConfig
from recaug.text.llm.memorisation import memorisation_line

# What validation chose per fit (``Recommender.selection``), one row per chosen setting: a BPR's epoch and epochs
# run, a grid's point; ``valid_ndcg@10`` is the fit's chosen validation score, repeated on each of its rows;
# ``valid_users``: how many validation users each look of that seed ranked (from the run's ``selection``, by
# :func:`with_valid_users`, so a saved run's notes can say them; empty in runs saved before it was recorded).
VALID_USERS = "valid_users"
CHOSEN_COLUMNS = ["model", "variant", "seed", "setting", "value", "valid_ndcg@10", VALID_USERS]
# A fit kept a barely trained model when validation kept epoch <= EARLY_EPOCH in the first half of the epochs run (so
# early stopping ended it, not max_epochs), or scored 0 at the point it kept (it never rose above its first look).
# Measured (pop,bpr, baseline and random arms, seeds 0-2: BPR's 6 chosen epochs): full ML-100k (943 validation users)
# 48-78 of 60-90 run; its first 40 users 2, 2, 2, 4, 94, 154; first 20 users 2, 2, 4, 8, 10, 20 (epochs <= 2 alone
# marked 3 and 2 of 6 fits there, short of a majority). Epochs only: ALS converges in a few iterations by design.
EARLY_EPOCH = 10
EPOCH_SETTINGS = ("epoch",)


def chosen_rows(key: tuple[str, str, int], selection: dict[str, Any]) -> list[dict[str, Any]]:
    """One fit's ``selection()`` as rows of the chosen table (none where the fit chose nothing)."""
    from recaug.models.base import VALID_SCORE

    model, variant, seed = key
    score = selection.get(VALID_SCORE)
    return [
        {"model": model, "variant": variant, "seed": seed, "setting": name, "value": value, VALID_SCORE: score}
        for name, value in selection.items()
        if name != VALID_SCORE
    ]


def chosen_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The chosen rows as a frame with :data:`CHOSEN_COLUMNS` (empty, with them, when no model chose anything).
    ``value`` keeps each value's own type, so an epoch is written 56, not 56.0, next to an lr of 0.005."""
    frame = pd.DataFrame(rows, columns=CHOSEN_COLUMNS)
    frame["value"] = pd.Series([row["value"] for row in rows], index=frame.index, dtype=object)
    return frame


def with_valid_users(chosen: pd.DataFrame, selection: dict[int, tuple[int, int]]) -> pd.DataFrame:
    """``chosen`` with :data:`VALID_USERS` set from ``selection`` (seed -> (users a look ranked, validation users));
    unchanged where ``selection`` is empty (a result rebuilt from a saved run keeps what its file says)."""
    if not selection or chosen.empty:
        return chosen
    ranked = chosen["seed"].map({seed: pair[0] for seed, pair in selection.items()}).astype("Int64")
    return chosen.assign(**{VALID_USERS: ranked})


@dataclass
class ExperimentResult:
    """Tidy outputs of one run."""

    config: ExperimentConfig
    results: pd.DataFrame
    synthetic: pd.DataFrame
    split: pd.DataFrame
    augment_info: list[dict[str, Any]]
    user_metrics: dict[tuple[str, str, int], UserMetrics]
    timings: dict[str, float]
    fingerprint: str
    models: dict[tuple[str, str, int], Any] = field(default_factory=dict, repr=False)
    logs: list[pd.DataFrame] = field(default_factory=list, repr=False)  # LLM provenance logs, with a seed column
    # Per-user values of every slice (n_users, per-user views such as the explorer).
    slice_values: dict[tuple[str, str, int], dict[str, SliceValues]] = field(default_factory=dict, repr=False)
    # Each seed's split, built once by the experiment: fidelity, the report, the explorer and the what-ifs read these.
    splits: dict[int, Split] = field(default_factory=dict, repr=False)
    # config.save_top_k > 0: each fit's top-k list for the test users (user_id, rank, item_id, score).
    top_k: dict[tuple[str, str, int], pd.DataFrame] = field(default_factory=dict, repr=False)
    # How many seeds ran and why no more were added (seeds until decided, issue 17); None for results built by hand.
    stopping: Stopping | None = None
    # Per seed: (validation users one model-selection look ranks, validation users with targets); they differ where
    # the look ranks a seeded sample (recaug.evaluate.protocol.selection_size). Empty for results built by hand.
    selection: dict[int, tuple[int, int]] = field(default_factory=dict)
    # The first seed's fidelity report when it was computed while the fits ran (run_experiment(fidelity=True));
    # None: record_comparison computes it afterwards.
    fidelity: pd.DataFrame | None = field(default=None, repr=False)
    # What validation chose for each fit (CHOSEN_COLUMNS; selection.csv); empty for results built by hand and for
    # runs saved before it was recorded.
    chosen: pd.DataFrame = field(default_factory=lambda: chosen_table([]), repr=False)

    def split_of(self, seed: int | None = None) -> Split:
        """The split a seed's models were trained on (default: the first seed)."""
        if not self.splits:
            raise KeyError("this result carries no splits (reloaded from disk); rebuild with config.split_spec()")
        return self.splits[self.config.seeds[0] if seed is None else seed]


@dataclass
class SeedOutcome:
    """Everything one seed produces. Seeds are independent tasks (locally or on Ray), so this must pickle."""

    seed: int
    split: Split
    rows: list[dict[str, Any]]
    synthetic: list[pd.DataFrame]
    infos: list[dict[str, Any]]
    logs: list[pd.DataFrame]
    timings: dict[str, float]
    user_metrics: dict[tuple[str, str, int], UserMetrics]
    slice_values: dict[tuple[str, str, int], dict[str, SliceValues]]
    models: dict[tuple[str, str, int], Any]
    top_k: dict[tuple[str, str, int], pd.DataFrame] = field(default_factory=dict)
    fidelity: pd.DataFrame | None = None  # this seed's fidelity report, where it was computed during the fits
    chosen: list[dict[str, Any]] = field(default_factory=list)  # rows of what validation chose (chosen_rows)


def compare_table(results: pd.DataFrame, slice_name: str = "all") -> pd.DataFrame:
    """Wide before/after table: one row per model x variant x metric@k with the mean over seeds and the delta."""
    frame = results[results["slice"] == slice_name]
    mean = frame.groupby(["model", "variant", "metric", "k"], as_index=False)["value"].mean()
    base = mean[mean["variant"] == BASELINE][["model", "metric", "k", "value"]].rename(columns={"value": "baseline"})
    merged = mean[mean["variant"] != BASELINE].merge(base, on=["model", "metric", "k"], how="left")
    merged = merged.rename(columns={"value": "augmented"})
    merged["delta"] = merged["augmented"] - merged["baseline"]
    merged["delta_pct"] = 100 * merged["delta"] / merged["baseline"].where(merged["baseline"] != 0)
    return merged[["model", "variant", "metric", "k", "baseline", "augmented", "delta", "delta_pct"]]


def negatives_note(synthetic: pd.DataFrame, models: list[str]) -> str | None:
    """A sentence saying which models used the synthetic negative interactions (``polarity`` -1) and which ignored
    them; None when no variant produced any."""
    from recaug.data.schema import ORIGIN, POLARITY
    from recaug.models import MODELS

    if POLARITY not in synthetic.columns or not (synthetic[POLARITY] < 0).any():
        return None
    negative = synthetic[synthetic[POLARITY] < 0]
    per_variant = ", ".join(f"{name} {count:,}" for name, count in negative.groupby(ORIGIN, sort=False).size().items())
    used = [m for m in models if MODELS.get(m).uses_negatives]
    ignored = [m for m in models if not MODELS.get(m).uses_negatives]
    return (
        f"Synthetic negatives (over all seeds: {per_variant}) were used as fixed hard negatives by "
        f"{', '.join(used) or 'no model'}; {', '.join(ignored) or 'no model'} cannot use negatives and ignored them."
    )


def item_init_note(variants: list[str], models: list[str]) -> str | None:
    """A sentence saying which models started from a variant's item vectors (``llm-init``) and which ignored them
    (so their rows for that variant equal the baseline's); None when no variant gives start vectors."""
    from recaug.augment import AUGMENTERS
    from recaug.core.variants import Variant
    from recaug.models import MODELS

    starting = [
        v
        for v in variants
        if Variant.parse(v).method in AUGMENTERS and not AUGMENTERS.get(Variant.parse(v).method).adds_rows
    ]
    if not starting:
        return None
    used = [m for m in models if MODELS.get(m).uses_item_init]
    ignored = [m for m in models if not MODELS.get(m).uses_item_init]
    return (
        f"{', '.join(starting)} adds no rows: it gives item start vectors, used by {', '.join(used) or 'no model'}; "
        f"{', '.join(ignored) or 'no model'} cannot start from them, so their results for it equal the baseline's."
    )


def selection_note(selection: dict[int, tuple[int, int]], models: list[str]) -> str | None:
    """A sentence saying that model selection ranked a sample of the validation users (the score budget of
    :func:`recaug.evaluate.protocol.selection_size`); None when every look ranked them all or no model selects."""
    from recaug.models import MODELS

    choosing = [m for m in models if MODELS.get(m).selects_on_validation]
    sampled = {seed: pair for seed, pair in selection.items() if pair[0] < pair[1]}
    if not choosing or not sampled:
        return None
    ranked = sorted({pair[0] for pair in sampled.values()})
    totals = sorted({pair[1] for pair in sampled.values()})
    total = f"{totals[0]:,}" if len(totals) == 1 else f"{totals[0]:,}-{totals[-1]:,}"
    return (
        f"Model selection ({', '.join(choosing)}: epochs / grids on validation) ranked a fixed, seeded sample of "
        f"{'/'.join(f'{n:,}' for n in ranked)} of {total} validation users per look (score budget: at most "
        f"{SELECTION_CELLS / 1e6:g}M users x items), the same users for the baseline and every arm; "
        "test metrics use every test user."
    )


def _setting_text(value: Any) -> str:
    """A chosen value as a note shows it: numbers short (an epoch read back from a CSV as 56.0 is 56)."""
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def chosen_notes(chosen: pd.DataFrame) -> list[str]:
    """One line per model that chose on validation: its choice per arm, seed by seed, e.g. "bpr: epoch chosen on
    validation — baseline 56, 61; random 54, 60 (seeds 0, 1)". How long a fit ran (``*_run``) stays in the table.
    A model that kept a barely trained model in most of its fits gets a second line (:func:`undertrained_note`)."""
    shown = chosen[~chosen["setting"].astype(str).str.endswith("_run")] if len(chosen) else chosen
    lines: list[str | None] = []
    for model, rows in shown.groupby("model", sort=False):
        settings = list(dict.fromkeys(rows["setting"]))
        seeds = sorted(dict.fromkeys(int(seed) for seed in rows["seed"]))
        arms = []
        for variant, arm in rows.groupby("variant", sort=False):
            cells = zip(arm["seed"], arm["setting"], arm["value"], strict=True)
            values = {(int(seed), name): value for seed, name, value in cells}
            arm_seeds = sorted({seed for seed, _ in values})
            points = ["/".join(_setting_text(values.get((seed, name), "–")) for name in settings) for seed in arm_seeds]
            arms.append(f"{variant} {', '.join(points)}")
        lines.append(
            f"{model}: {'/'.join(settings)} chosen on validation — {'; '.join(arms)} "
            f"(seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
        )
        lines.append(undertrained_note(str(model), chosen[chosen["model"] == model]))
    return [line for line in lines if line]


def barely_trained(fit: pd.DataFrame) -> bool:
    """Whether one fit's chosen rows show validation kept a barely trained model (see :data:`EARLY_EPOCH`)."""
    from recaug.models.base import VALID_SCORE

    values = dict(zip(fit["setting"].astype(str), fit["value"], strict=True))
    score = pd.to_numeric(fit[VALID_SCORE], errors="coerce")
    if len(score) and score.notna().all() and (score == 0).all():
        return True  # every look scored 0: what validation "chose" is its first point
    for name in EPOCH_SETTINGS:
        epoch, run = pd.to_numeric(pd.Series([values.get(name), values.get(f"{name}s_run")]), errors="coerce")
        if pd.notna(epoch) and epoch <= EARLY_EPOCH and (pd.isna(run) or 2 * epoch <= run):
            return True
    return False


def undertrained_note(model: str, rows: pd.DataFrame) -> str | None:
    """A line saying validation kept a barely trained ``model`` in most of its fits (``rows``: its chosen rows, every
    arm and seed), naming how many and the validation users it had; None when most fits trained."""
    fits = [fit for _, fit in rows.groupby(["variant", "seed"], sort=False)]
    early = sum(barely_trained(fit) for fit in fits)
    if 2 * early <= len(fits):
        return None
    recorded = rows[VALID_USERS] if VALID_USERS in rows.columns else pd.Series(dtype=float)  # older runs lack it
    users = sorted({int(n) for n in pd.to_numeric(recorded, errors="coerce").dropna()})
    counted = "" if not users else f"{users[0]:,}" if len(users) == 1 else f"{users[0]:,}-{users[-1]:,}"
    who = f"its {counted} validation users" if counted else "validation (its user count was not recorded)"
    return (
        f"{model}: validation kept a barely trained model in {early} of {len(fits)} fits (epoch {EARLY_EPOCH} or "
        f"earlier, or a validation NDCG@10 that never rose above its first look): {who} could not tell a trained "
        f"{model} from a barely trained one, so this comparison compares near-untrained models. Use more data, a "
        "larger validation share, or compare with pop/itemknn which need no training."
    )


def target_note(config: ExperimentConfig) -> str | None:
    """A cold-items split with the augmentation aimed elsewhere: its rows never reach the held-out items, so the
    cold-items slice cannot move through them (walk 13: the README's own cold-items command did this)."""
    if config.protocol != "cold-items" or not config.augmenters or str(config.target) == "cold-items":
        return None
    return (
        f"The cold-items split holds items out of training, but the augmentation was aimed at {config.target}: "
        "no synthetic row touches a held-out item, so the cold-items slice shows what rows for other items do. To "
        "augment the cold items themselves, aim at them (CLI --target cold-items; Augment page: target cold items)."
    )


# A method whose rows outnumber the real training rows of most users it touched turns those users into mostly
# synthetic ones: README's light-user results (each light user given more rows than their history) were all harm.
DOSE_SHARE = 0.5


def dose_notes(result: ExperimentResult) -> list[str]:
    """Per variant, on the first seed: when most users it touched got more synthetic rows than they have real
    training rows, one line saying how many and how much (walk 13: 3 listed users got ~980 rows each, unsaid)."""
    if not result.splits or result.synthetic.empty or "origin" not in result.synthetic:
        return []
    seed = min(result.splits)
    real = result.splits[seed].train[USER].astype(str).value_counts()
    rows = result.synthetic[result.synthetic["seed"] == seed] if "seed" in result.synthetic else result.synthetic
    if POLARITY in rows:
        rows = rows[rows[POLARITY] != -1]  # negatives are not rows a user "has"
    notes = []
    for origin, made in rows.groupby("origin", sort=False):
        given = made[USER].astype(str).value_counts()
        own = real.reindex(given.index).fillna(0)
        over = int((given > own).sum())
        if over and over > DOSE_SHARE * len(given):
            notes.append(
                f"{origin} gave {over:,} of the {len(given):,} users it touched more synthetic rows than their real "
                f"training rows (median {given.median():.0f} synthetic vs {own.median():.0f} real, seed {seed}): "
                "those users are mostly synthetic now. A per-user cap (max_per_user; CLI --max-per-user) or a "
                "smaller budget limits it."
            )
    return notes


def model_use_notes(result: ExperimentResult) -> list[str]:
    """The sentences every view of a result shows (CLI, Compare, report): which models used what a variant gave
    besides rows (LLM negatives, item start vectors) and which ignored it, how many validation users model
    selection ranked where it was a sample, and what it chose for each arm and seed."""
    backends = {str(info.get("backend")) for info in result.augment_info if info.get("backend")}
    notes = (
        negatives_note(result.synthetic, result.config.models),
        selection_note(result.selection, result.config.models),
        *chosen_notes(result.chosen),
        item_init_note(list(result.config.augmenters), result.config.models),
        target_note(result.config),
        *dose_notes(result),
        *(memorisation_line(result.config.data, kind, result.augment_info) for kind in sorted(backends)),
    )
    return [note for note in notes if note]
