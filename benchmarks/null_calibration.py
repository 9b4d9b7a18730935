"""Are recaug's "better"/"worse" verdicts calibrated? Repeated null experiments on real MovieLens-100k (issue #9).

A null experiment compares the baseline with an arm that cannot truly differ from it:

* ``A/A control``: the baseline refitted with fresh model seeds on the same training data;
* ``random@1``: one uniformly random unseen row added to ~80k training interactions.

Design: ``3 x reps`` distinct seeds are run once each with :func:`recaug.experiment.run_seed` (random-811 split,
models refitted per seed); seeds ``3g, 3g+1, 3g+2`` form experiment ``g``. The experiments share no seed, so they are
``reps`` independent 3-seed experiments, each judged by ``significance_from_results`` exactly as the CLI judges a
run. Every "better"/"worse" verdict on a null arm is false. The same per-user values are also judged by the OLD rule
(per-seed percentile bootstrap over test users, commit 8440ff5) for comparison.

Power: the same seeds also fit ``edge-dropout`` arms (5% and 30% of all training edges removed: truly less data) and
a constructed table plants a known shift on the real seed-to-seed noise of BPR's ``random@1`` deltas.

    PYTHONPATH=. .venv/bin/python benchmarks/null_calibration.py   # 20 experiments: 51 min of compute under load
    PYTHONPATH=. .venv/bin/python benchmarks/null_calibration.py --reps 5 --models pop,itemknn --out /tmp/n.md

Per-seed outcomes are cached under ``$RECAUG_HOME/benchmarks/null_calibration`` (keyed by the settings), so a
re-run only re-analyses. BPR is capped at ``--bpr-max-epochs`` (default 30) to keep 5 fits x 60 seeds feasible on a
shared 2-core machine; the cap changes BPR's accuracy, not the logic under test (seed-level inference).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import time
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from recaug.core.runtime import prefer_single_thread_on_small_machines
from recaug.evaluate.significance import AA_CONTROL, BASELINE, KEYS, MIN_USERS, significance_from_results
from recaug.evaluate.slices import SliceValues
from recaug.experiment import ExperimentConfig, run_seed

NULL_ARM = "random@1"
NULL_VARIANTS = (BASELINE, AA_CONTROL, NULL_ARM)
EFFECT_ARMS = ("edge-dropout@5%", "edge-dropout@30%")
METRICS = ["ndcg", "recall"]
KS = [10, 20]
SEEDS_PER_EXPERIMENT = 3
FALSE_WORDS = ("better", "worse", "higher", "lower")
SHIFTS = (1.0, 2.0, 3.0, 5.0)  # planted shift, in units of the per-seed SD of the delta
CACHE_VERSION = 1
Store = dict[tuple[str, str, int], dict[str, SliceValues]]


# ---------------------------------------------------------------------------------------------------------- running
def experiment_config(models: list[str], bpr_max_epochs: int, *, power: bool = True) -> ExperimentConfig:
    """One config for every seed: the null arms (and the planted-effect arms), accuracy metrics @10/@20 only."""
    return ExperimentConfig(
        augmenters=[NULL_ARM, *(EFFECT_ARMS if power else ())],
        augmenter_params={"edge-dropout": {"target": "all"}},
        models=models,
        model_params={"bpr": {"max_epochs": bpr_max_epochs}} if bpr_max_epochs else {},
        ks=list(KS),
        metrics=list(METRICS),
        aa_control=True,
    )


def is_null_slice(name: str) -> bool:
    """Slices of the null design (the baseline is also sliced by the edge-dropout arms' touched users)."""
    return not any(arm in name for arm in EFFECT_ARMS)


def run_one(dataset: Any, config: ExperimentConfig, seed: int) -> dict[str, Any]:
    """One seed, reduced to what the analysis reads: result rows, null per-user values, timings."""
    started = time.perf_counter()
    outcome = run_seed(dataset, config, seed)
    store = {
        key: {name: values for name, values in slices.items() if is_null_slice(name)}
        for key, slices in outcome.slice_values.items()
        if key[1] in NULL_VARIANTS
    }
    return {"rows": outcome.rows, "store": store, "timings": outcome.timings, "seconds": time.perf_counter() - started}


def cache_folder(config: ExperimentConfig, root: str) -> Path | None:
    """Per-settings cache folder (None: no cache)."""
    if root == "none":
        return None
    settings = {**config.to_dict(), "seeds": None, "version": CACHE_VERSION}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]
    if root:
        base = Path(root)
    else:
        from recaug.core.paths import cache_dir

        base = cache_dir("benchmarks") / "null_calibration"
    folder = base / digest
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_seeds(dataset: Any, config: ExperimentConfig, seeds: list[int], folder: Path | None) -> dict[int, dict]:
    """Every seed's record, from the cache where present."""
    records = {}
    for position, seed in enumerate(seeds):
        path = folder / f"seed_{seed}.pkl" if folder else None
        if path is not None and path.exists():
            records[seed] = pickle.loads(path.read_bytes())
            continue
        records[seed] = run_one(dataset, config, seed)
        if path is not None:
            path.with_suffix(".tmp").write_bytes(pickle.dumps(records[seed]))
            path.with_suffix(".tmp").replace(path)
        load = os.getloadavg()[0]
        print(
            f"seed {seed} ({position + 1}/{len(seeds)}): {records[seed]['seconds']:.1f} s, load {load:.1f}", flush=True
        )
    return records


# --------------------------------------------------------------------------------------------------------- old rule
def old_rule_bootstrap_means(diffs: np.ndarray, n_boot: int, key: tuple[Any, ...]) -> np.ndarray:
    """OLD RULE (commit 8440ff5, for comparison only): (n_boot, metrics) means of per-user diffs over users
    resampled with replacement; the resample depends only on ``key`` and the user count, as it did there."""
    n = len(diffs)
    rng = np.random.default_rng([zlib.crc32(repr(key).encode()), n, n_boot])
    draws = rng.integers(0, n, size=(n_boot, n)) + n * np.arange(n_boot)[:, None]
    counts = np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n)
    return counts @ diffs / n


def old_rule_table(store: Store, *, n_boot: int = 1000, confidence: float = 0.95) -> pd.DataFrame:
    """OLD RULE verdicts: per seed, a paired bootstrap over test users; the per-seed bootstrap means are averaged
    over seeds and the percentile interval decides (no seed-level spread, no multiplicity correction).

    Also returns ``boot_se``: the mean over seeds of the within-seed bootstrap SE, the spread the old rule assumed.
    """
    tail = 100 * (1 - confidence) / 2
    boots: dict[tuple[str, str, str], list[np.ndarray]] = {}
    metric_keys: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
    for (model, variant, seed), slices in store.items():
        if variant == BASELINE:
            continue
        base = store[(model, BASELINE, seed)]
        for name, sliced in slices.items():
            keys = sorted(set(sliced.values) & set(base[name].values))
            _, in_base, in_variant = np.intersect1d(base[name].users, sliced.users, return_indices=True)
            if not keys or not len(in_base):
                continue
            diffs = np.column_stack([sliced.values[k][in_variant] - base[name].values[k][in_base] for k in keys])
            boots.setdefault((model, variant, name), []).append(
                old_rule_bootstrap_means(diffs, n_boot, (0, name, seed))
            )
            metric_keys[(model, variant, name)] = keys
    rows = []
    for (model, variant, name), replicates in boots.items():
        mean = np.mean(replicates, axis=0)
        low, high = np.percentile(mean, [tail, 100 - tail], axis=0)
        boot_se = np.mean([r.std(axis=0, ddof=1) for r in replicates], axis=0)
        for (metric, k), lo, hi, se in zip(metric_keys[(model, variant, name)], low, high, boot_se, strict=True):
            word = "better" if lo > 0 else "worse" if hi < 0 else "no clear difference"
            rows.append(dict(zip(KEYS, (model, variant, name, metric, k), strict=True), old_verdict=word, boot_se=se))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------- analysis
def results_of(records: Mapping[int, dict], seeds: Iterable[int]) -> pd.DataFrame:
    return pd.DataFrame([row for seed in seeds for row in records[seed]["rows"]])


def per_metric(values: pd.Series, frame: pd.DataFrame) -> np.ndarray:
    """``values`` (indexed by metric, k) looked up for every row of ``frame``."""
    return values.reindex(pd.MultiIndex.from_frame(frame[["metric", "k"]])).to_numpy()


def experiment_groups(reps: int) -> list[list[int]]:
    """Disjoint groups of seeds: group g is one 3-seed experiment."""
    return [list(range(g * SEEDS_PER_EXPERIMENT, (g + 1) * SEEDS_PER_EXPERIMENT)) for g in range(reps)]


def null_verdicts(records: Mapping[int, dict], groups: list[list[int]]) -> pd.DataFrame:
    """One row per (experiment, model, null arm, slice, metric, k): the new and the old rule's verdicts."""
    tables = []
    for number, seeds in enumerate(groups):
        results = results_of(records, seeds)
        results = results[results["variant"].isin(NULL_VARIANTS) & results["slice"].map(is_null_slice)]
        new = significance_from_results(results)
        old = old_rule_table({key: v for s in seeds for key, v in records[s]["store"].items()})
        tables.append(new.merge(old, on=KEYS, how="left").assign(experiment=number))
    return pd.concat(tables, ignore_index=True)


def rate_cells(false: pd.Series, experiment: pd.Series) -> dict[str, str]:
    """False-verdict rate with its binomial and cluster (per-experiment) Monte-Carlo SEs, and the share of
    experiments with at least one false verdict."""
    n, hits = len(false), int(false.sum())
    rate = hits / n
    per_experiment = false.groupby(experiment).mean()
    cluster_se = per_experiment.std(ddof=1) / np.sqrt(len(per_experiment)) if len(per_experiment) > 1 else np.nan
    binomial_se = np.sqrt(rate * (1 - rate) / n)
    any_false = false.groupby(experiment).any()
    shown = f"{hits}/{n} = {100 * rate:.1f}% ± {100 * binomial_se:.1f} (cluster ± {100 * cluster_se:.1f})"
    if hits == 0:
        shown = f"0/{n} = 0% (95% upper bound {100 * (1 - 0.05 ** (1 / n)):.1f}%)"
    return {"false verdicts": shown, "experiments with ≥ 1": f"{int(any_false.sum())}/{len(any_false)}"}


def false_rate_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model and overall, new rule next to old rule, over the verdict rows given."""
    rows = []
    overall = [("all models", frame)] if frame["model"].nunique() > 1 else []
    for model, part in [*frame.groupby("model", sort=False), *overall]:
        row: dict[str, Any] = {"model": model, "rows": len(part)}
        for label, column in (("new", "verdict"), ("old", "old_verdict")):
            cells = rate_cells(part[column].isin(FALSE_WORDS), part["experiment"])
            row.update({f"{label}: {name}": value for name, value in cells.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def noise_table(verdicts: pd.DataFrame, records: Mapping[int, dict], seeds: list[int]) -> pd.DataFrame:
    """Why the old rule fails: the seed-to-seed SD of a null delta vs the within-seed user-bootstrap SE it used."""
    results = results_of(records, seeds)
    results = results[(results["slice"] == "all") & results["variant"].isin(NULL_VARIANTS)]
    wide = results.pivot_table(index=["model", "seed", "metric", "k"], columns="variant", values="value")
    rows = []
    for (model, metric, k), part in wide.groupby(level=["model", "metric", "k"], sort=False):
        chosen = verdicts[(verdicts["model"] == model) & (verdicts["slice"] == "all") & (verdicts["metric"] == metric)]
        chosen = chosen[chosen["k"] == k]
        for arm in (AA_CONTROL, NULL_ARM):
            delta = part[arm] - part[BASELINE]
            boot = chosen.loc[chosen["variant"] == arm, "boot_se"].mean()
            rows.append(
                {
                    "model": model,
                    "metric": f"{metric}@{k}",
                    "arm": arm,
                    "seeds with Δ ≠ 0": f"{int((delta != 0).sum())}/{len(delta)}",
                    "SD of per-seed Δ": float(delta.std(ddof=1)),
                    "old rule's per-seed SE": float(boot),
                    "mean noise floor (new)": float(chosen["noise_floor"].mean()),
                }
            )
    return pd.DataFrame(rows)


def effect_table(records: Mapping[int, dict], groups: list[list[int]]) -> pd.DataFrame:
    """Detection of the edge-dropout arms (slice all, new rule).

    The truth of a row is the mean delta over all ``3 x reps`` seeds: an effect where it is more than 3 standard
    errors from 0 (a verdict in its direction is a detection, the other direction is wrong), otherwise unresolved
    (any verdict there is counted apart: it may be false).
    """
    all_seeds = [s for g in groups for s in g]
    results = results_of(records, all_seeds)
    results = results[results["slice"] == "all"]
    wide = results.pivot_table(index=["model", "metric", "k", "seed"], columns="variant", values="value")
    rows = []
    for arm in [arm for arm in EFFECT_ARMS if arm in set(results["variant"])]:
        tables = []
        for number, seeds in enumerate(groups):
            part = results[results["seed"].isin(seeds) & results["variant"].isin([BASELINE, arm])]
            tables.append(significance_from_results(part).assign(experiment=number))
        table = pd.concat(tables, ignore_index=True)
        for model, part in table.groupby("model", sort=False):
            delta = (wide[arm] - wide[BASELINE]).xs(model, level="model").groupby(level=["metric", "k"])
            truth, se = delta.mean(), delta.std(ddof=1) / np.sqrt(delta.count())
            real = np.abs(per_metric(truth, part)) > 3 * per_metric(se, part)
            right = np.where(per_metric(truth, part) < 0, "worse", "better")
            verdict = part["verdict"].to_numpy()
            hits = real & (verdict == right)
            judged = part["verdict"].isin(FALSE_WORDS).to_numpy()
            rows.append(
                {
                    "arm": arm,
                    "model": model,
                    "Δ ndcg@10 (all seeds ± SE)": f"{truth[('ndcg', 10)]:+.4f} ± {se[('ndcg', 10)]:.4f}",
                    "Δ recall@20 (all seeds ± SE)": f"{truth[('recall', 20)]:+.4f} ± {se[('recall', 20)]:.4f}",
                    "metric@k with a real effect": f"{int(real.sum() / len(groups))}/{int(len(real) / len(groups))}",
                    "detected": f"{int(hits.sum())}/{int(real.sum())} = {100 * hits.sum() / real.sum():.0f}%"
                    if real.any()
                    else "—",
                    "wrong direction": int((real & judged & ~hits).sum()),
                    "verdicts where no effect is resolved": f"{int((~real & judged).sum())}/{int((~real).sum())}",
                }
            )
    return pd.DataFrame(rows)


def planted_shift_table(records: Mapping[int, dict], groups: list[list[int]], model: str = "bpr") -> pd.DataFrame:
    """Constructed power check on real noise: add ``c`` x (per-seed SD of the random@1 delta) to ``model``'s
    random@1 values (slice all) and count "better" verdicts; next to it the power of one t-test (df 2) at that
    shift, ignoring Benjamini-Hochberg."""
    from scipy import stats

    all_seeds = [s for g in groups for s in g]
    results = results_of(records, all_seeds)
    results = results[(results["slice"] == "all") & (results["model"] == model)]
    results = results[results["variant"].isin([BASELINE, NULL_ARM])]
    if results.empty:
        return pd.DataFrame()
    wide = results.pivot_table(index=["metric", "k", "seed"], columns="variant", values="value")
    sd = (wide[NULL_ARM] - wide[BASELINE]).groupby(level=["metric", "k"]).std(ddof=1)
    arm = results["variant"] == NULL_ARM
    rows = []
    for shift in SHIFTS:
        bump = pd.Series(shift * per_metric(sd, results), index=results.index).where(arm, 0.0)
        planted = results.assign(value=results["value"] + bump)
        hits = []
        for seeds in groups:
            table = significance_from_results(planted[planted["seed"].isin(seeds)])
            hits.extend(table["verdict"].eq("better").tolist())
        n = SEEDS_PER_EXPERIMENT
        critical = stats.t.ppf(0.975, n - 1)
        ncp = shift * np.sqrt(n)
        power = 1 - stats.nct.cdf(critical, n - 1, ncp) + stats.nct.cdf(-critical, n - 1, ncp)
        rows.append(
            {
                "shift (× per-seed SD)": f"{shift:g}",
                "shift ndcg@10": f"{shift * sd[('ndcg', 10)]:+.4f}",
                "rows detected": f"{int(np.sum(hits))}/{len(hits)} = {100 * np.mean(hits):.0f}%",
                "one t-test's power (theory)": f"{100 * power:.0f}%",
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------- report
def markdown_table(frame: pd.DataFrame, floats: str = "{:.5f}") -> str:
    if frame.empty:
        return "(none)"
    cells = frame.map(lambda v: floats.format(v) if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.to_numpy().tolist()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20, help="independent 3-seed experiments (3 x reps seeds)")
    parser.add_argument("--models", default="pop,itemknn,bpr")
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".md")), help="markdown report")
    parser.add_argument("--bpr-max-epochs", type=int, default=30, help="0 = the model's default")
    parser.add_argument("--null-only", action="store_true", help="skip the edge-dropout arms (power)")
    parser.add_argument("--cache", default="", help="cache folder ('none' = no cache)")
    args = parser.parse_args()
    prefer_single_thread_on_small_machines()
    from recaug.data.loading import load_dataset
    from recaug.models import MODELS

    load_before = os.getloadavg()
    started = time.perf_counter()
    dataset, _ = load_dataset("ml-100k")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    config = experiment_config(models, args.bpr_max_epochs, power=not args.null_only)
    for name in models:
        MODELS.get(name).warm_up()
    groups = experiment_groups(args.reps)
    seeds = [s for g in groups for s in g]
    records = run_seeds(dataset, config, seeds, cache_folder(config, args.cache))
    compute = sum(records[s]["seconds"] for s in seeds)
    bpr_fits = [v for s in seeds for k, v in records[s]["timings"].items() if k.startswith("fit:bpr:")]

    verdicts = null_verdicts(records, groups)
    sections = {
        "False verdicts on null arms, slice `all` (A/A control and random@1; NDCG/Recall @10/@20)": false_rate_table(
            verdicts[verdicts["slice"] == "all"]
        ),
        "False verdicts on null arms, every slice": false_rate_table(verdicts),
        "False verdicts on null arms, every slice of ≥ 30 users (without the 1-user `touched:random@1` slice)": (
            false_rate_table(verdicts[verdicts["n_users"] >= MIN_USERS])
        ),
        "Noise: seed-to-seed spread of a null delta vs the old rule's within-seed bootstrap SE (slice `all`)": (
            noise_table(verdicts, records, seeds)
        ),
        "Power: real planted effects (edge-dropout, all users; slice `all`, new rule)": effect_table(records, groups),
        "Power: a constructed shift on BPR's real seed noise (random@1 + c × SD, slice `all`)": planted_shift_table(
            records, groups
        ),
    }
    load_after = os.getloadavg()
    command = "PYTHONPATH=. .venv/bin/python benchmarks/null_calibration.py " + " ".join(sys.argv[1:])
    header = [
        "# Null calibration of recaug's verdicts (issue #9)",
        "",
        f"`{command.strip()}`",
        "",
        f"ML-100k (built-in), random-811, models {', '.join(models)}"
        + (f" (BPR capped at {args.bpr_max_epochs} epochs)" if args.bpr_max_epochs and "bpr" in models else "")
        + f"; {args.reps} independent experiments × {SEEDS_PER_EXPERIMENT} seeds (seeds 0–{len(seeds) - 1}, each "
        "seed used once); verdicts from `significance_from_results` (seed-level t-test, Benjamini–Hochberg per "
        "slice, A/A control in its own family). Old rule: per-seed paired percentile bootstrap over test users "
        "(1,000 resamples, commit 8440ff5), CI excluding 0 ⇒ verdict.",
        "",
        f"Compute: {compute / 60:.1f} min for {len(seeds)} seeds ({len(bpr_fits)} BPR fits, median "
        f"{np.median(bpr_fits) if bpr_fits else float('nan'):.1f} s); this invocation "
        f"{(time.perf_counter() - started) / 60:.1f} min "
        "(cached seeds are not recomputed). "
        f"{os.cpu_count()} cores; load average before {', '.join(f'{v:.2f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.2f}' for v in load_after)}.",
        "",
        "Rates: binomial Monte-Carlo SE over rows, and the cluster SE over experiments (rows of one experiment share "
        "seeds, so they are correlated; the cluster SE and the share of experiments with ≥ 1 false verdict are the "
        "honest errors). With 0 hits the 95% upper bound is shown.",
    ]
    body = [f"## {title}\n\n{markdown_table(table)}" for title, table in sections.items()]
    text = "\n".join(header) + "\n\n" + "\n\n".join(body) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
